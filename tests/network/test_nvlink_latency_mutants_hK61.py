"""Mutant-killing checks of `network.nvlink_latency` (hK, session 61): the LL protocol's half-rate bandwidth term,
the all-gather's and the all-to-all's own lines at a tiny size, and NVLS asked for by name keeping its alpha-beta
price. Each assertion is a statement of the module's physics (NCCL's protocols), not a pinned number."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.network import nvlink_latency
from infraplan.network.collective_schedules import estimate_collective

H100 = "dgx-h100-superpod"


def _time(op: str, n: int, size: float, algorithm: str = "auto") -> float:
    return estimate_collective(op, Cluster.resolve(H100), n, size, algorithm=algorithm).time_s


def _off(monkeypatch: pytest.MonkeyPatch, op: str, n: int, size: float, algorithm: str = "auto") -> float:
    with monkeypatch.context() as m:
        m.setattr(nvlink_latency, "IN_DOMAIN_LL_LATENCY", False)
        return _time(op, n, size, algorithm)


@pytest.mark.parametrize(("op", "algorithm"), [("all-gather", "auto"), ("reduce-scatter", "auto"),
                                               ("all-reduce", "ring")])
def test_ll_moves_data_at_half_the_links_rate(op: str, algorithm: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """NCCL's LL line carries 8 data bytes in 16 (prims_ll.h): at <= 4 KiB, where LL is picked, each added byte
    costs twice what it costs the alpha-beta (Simple) ring; the latency line does not depend on the size
    (an all-to-all's alpha-beta latency is below its line there: Simple, held at the line, is the faster)."""
    on = _time(op, 8, 1024.0, algorithm) - _time(op, 8, 512.0, algorithm)
    off = _off(monkeypatch, op, 8, 1024.0, algorithm) - _off(monkeypatch, op, 8, 512.0, algorithm)
    assert off > 0.0
    assert on == pytest.approx(off / nvlink_latency.LL_BANDWIDTH_SHARE, rel=1e-6)
    assert on == pytest.approx(2.0 * off, rel=1e-6)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_a_tiny_collective_costs_its_own_line(n: int) -> None:
    """At 256 B the bandwidth term is < 0.1 % of the time: an all-gather / reduce-scatter costs the ring line's
    base + (n - 1) steps, an all-to-all its own line's (one grouped send / receive per peer: a smaller step, a
    larger base), an all-reduce base + 2 (n - 1) steps of the ring line."""
    (base, step), (a2a_base, a2a_step) = nvlink_latency.lines(Cluster.resolve(H100).fabric)  # type: ignore[misc]
    for op in ("all-gather", "reduce-scatter"):
        assert _time(op, n, 256.0) == pytest.approx(base + (n - 1) * step, rel=1e-3)
    assert _time("all-to-all", n, 256.0) == pytest.approx(a2a_base + (n - 1) * a2a_step, rel=1e-3)
    assert _time("all-reduce", n, 256.0) == pytest.approx(base + 2 * (n - 1) * step, rel=1e-3)
    if n == 8:  # the two lines differ there: the all-to-all is not priced on the ring's line
        assert abs(a2a_base + 7 * a2a_step - (base + 7 * step)) > 0.2 * (base + 7 * step)


def test_nvls_by_name_keeps_its_alpha_beta_price(monkeypatch: pytest.MonkeyPatch) -> None:
    """NCCL runs NVLS with the Simple protocol only (tuning.cc: no LL / LL128 bandwidth for NVLS; recalled), so an
    all-reduce asked for as NVLS is the model's NVLS time with the line on or off, while the ring asked for by name
    takes the LL price at a tiny size (slower than NVLS's alpha-beta there would be a contradiction of the line)."""
    nvls = _time("all-reduce", 8, 1024.0, "nvls")
    assert nvls == _off(monkeypatch, "all-reduce", 8, 1024.0, "nvls")
    ring = _time("all-reduce", 8, 1024.0, "ring")
    assert ring < _off(monkeypatch, "all-reduce", 8, 1024.0, "ring")
    assert ring < nvls
