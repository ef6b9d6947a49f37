"""Coverage wave hM15 (session 42): the float all-reduce (`network.collectives._one_all_reduce_seconds`) inside one
scale-up domain with the measured NVLink curve switched off (`nvlink_all_reduce.MEASURED_NVLINK_ALL_REDUCE`, the
documented toggle), which no test priced.

The float path spells out the array formula (`collective_formulas.all_reduce_time`, its module docstring: "the same
result either way"); with the toggle off an in-domain group takes the alpha-beta ring / tree / NVLS line there too.
Oracle: the array path on arrays of four sizes (numpy, not the float path), on a fabric with NVLS (DGX H100) and
without (DGX A100, GB200 NVL72's catalog entry)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network import nvlink_all_reduce
from infraplan.network.collective_formulas import all_reduce_time
from infraplan.network.collectives import collective_seconds, forget_float_values

SIZES = [4096.0, 1 << 20, 64 << 20, 1 << 30]


@pytest.fixture
def alpha_beta(monkeypatch: pytest.MonkeyPatch):
    forget_float_values()
    monkeypatch.setattr(nvlink_all_reduce, "MEASURED_NVLINK_ALL_REDUCE", False)
    yield
    monkeypatch.undo()
    forget_float_values()


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "dgx-a100-superpod", "gb200-nvl72"])
@pytest.mark.parametrize(("n", "stride"), [(2, 1), (4, 2), (8, 1)])
def test_float_and_array_all_reduce_agree_without_the_measured_curve(alpha_beta, system: str, n: int,
                                                                     stride: int) -> None:
    fabric = Cluster.resolve(system).fabric
    assert n * stride <= fabric.scale_up_domain  # inside one NVLink domain
    arrays = all_reduce_time(fabric, np.array(SIZES), np.array([n] * len(SIZES)), stride, sized=True)
    floats = [collective_seconds(fabric, "all_reduce", s, n, stride) for s in SIZES]
    np.testing.assert_allclose(floats, arrays, rtol=1e-12)
    assert all(b > a > 0 for a, b in zip(floats, floats[1:], strict=False))  # more bytes, more time


def test_the_toggle_changes_the_in_domain_answer(alpha_beta, monkeypatch: pytest.MonkeyPatch) -> None:
    """The toggle is read: on the H100's 8-GPU domain a 1 MiB all-reduce differs with the measured curve (on) and
    without (off, the sized alpha-beta line); the kept float values are keyed on it (`collective_switches`), so
    neither answer is served for the other."""
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    off = collective_seconds(fabric, "all_reduce", float(1 << 20), 8, 1)
    monkeypatch.setattr(nvlink_all_reduce, "MEASURED_NVLINK_ALL_REDUCE", True)
    on = collective_seconds(fabric, "all_reduce", float(1 << 20), 8, 1)
    assert on != pytest.approx(off, rel=1e-3)
