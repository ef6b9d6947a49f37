"""A group whose stride is not a whole number of ranks on a rail-split tier (hK71, session 70's review nit).

`tier_bandwidth.busiest_rail_shares` cast each spacing and shift to int, so the network API's mean stride of a group
spread evenly (3,000 GPUs over hN70's 24,576-H100 Clos: 8.192 apart) was read as 8: every member on one GPU index,
so one rail, and an all-to-all of 256 MiB alone on the fabric took 39.3 ms where 9 apart takes 6.85 (8.5: 37.8 ms,
8.999: 36.0). Sender c now sits at rank floor(c x spacing + shift); a whole-number spacing keeps the exact
per-period count it had.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tests.network.test_rail_alone_hN70 import CLOS3, MIB_256

from infraplan.cluster import Cluster
from infraplan.network import fabric, tier_bandwidth
from infraplan.network.collective_formulas import collective_time


def _enumerated(rails: tuple[int, ...], groups: int, spacing: float, shift: float, domain: int,
                nics_per_gpu: int = 1) -> float:
    """The busiest rail's share, every sender placed at rank floor(c x spacing + shift) and counted one by one."""
    gpn = len(rails) // nics_per_gpu
    counts = [0.0] * (max(rails) + 1)
    for c in range(groups):
        g = math.floor(c * spacing + shift) % gpn
        for rail in rails[g * nics_per_gpu:(g + 1) * nics_per_gpu]:
            counts[rail] += 1.0 / nics_per_gpu
    sizes = [rails.count(r) / nics_per_gpu for r in range(len(counts))]
    return max(n * gpn / (domain * s) for n, s in zip(counts, sizes, strict=True) if s)


LAYOUTS = [((0, 1, 2, 3, 4, 5, 6, 7), 1),  # DGX H100: one rail a GPU
           ((0, 0, 1, 1, 2, 2, 3, 3), 1),  # two GPUs a rail
           ((0, 1, 2, 3, 0, 1, 2, 3), 2)]  # four GPUs with two NICs each, striped


@pytest.mark.parametrize(("rails", "nics"), LAYOUTS)
def test_a_fractional_spacing_places_each_sender_where_it_sits(rails: tuple[int, ...], nics: int) -> None:
    rng = np.random.default_rng(71)
    for _ in range(60):
        groups = int(rng.integers(1, 400))
        spacing = float(rng.choice([rng.uniform(1.0, 20.0), float(rng.integers(1, 20))]))
        shift = float(rng.choice([0.0, float(rng.integers(1, 9)), rng.uniform(0.0, 9.0)]))
        domain = int(rng.integers(groups, 4 * groups + 8))
        got = tier_bandwidth.busiest_rail_shares(rails, np.array([groups]), np.array([spacing]), np.array([shift]),
                                                 domain, nics)
        assert got[0] == pytest.approx(_enumerated(rails, groups, spacing, shift, domain, nics), rel=1e-12), (
            groups, spacing, shift, domain)


def test_a_whole_spacing_keeps_its_exact_period_count() -> None:
    rails = (0, 1, 2, 3, 4, 5, 6, 7)
    for groups, spacing, shift in ((16, 8, 0), (3000, 12, 0), (7, 3, 5), (2048, 1, 0)):
        as_float = tier_bandwidth.busiest_rail_shares(rails, [groups], [float(spacing)], [float(shift)], 4096)[0]
        assert as_float == tier_bandwidth.busiest_rail_share(rails, groups, spacing, shift, 4096)


def test_a_mean_stride_is_not_read_as_one_rail(tmp_path: Path) -> None:
    path = tmp_path / "clos3.yaml"
    path.write_text(CLOS3)
    alone = replace(Cluster.resolve(str(path)).fabric, concurrent_groups=1)  # `collective`'s fabric: one group alone

    def a2a(n: int, stride: float) -> float:
        fabric._LINK_CACHE.clear()
        return float(np.asarray(collective_time(alone, "all_to_all", MIB_256, np.array([float(n)]),
                                                np.array([stride])))[0])

    whole, nine = a2a(3000, 8.0), a2a(3000, 9.0)
    assert whole == pytest.approx(40.12e-3, rel=2e-3)  # one GPU index a node: one rail's uplinks
    assert nine == pytest.approx(6.85e-3, rel=2e-3)
    for stride in (8.192, 8.5, 8.999):  # was 39.27, 37.83, 35.95 ms: read as 8
        assert a2a(3000, stride) == pytest.approx(nine, rel=1e-2), stride
    assert a2a(2048, 12.5) < 0.6 * a2a(2048, 12.0)  # 6.85 against 13.36 ms (was 12.93: read as 12)
