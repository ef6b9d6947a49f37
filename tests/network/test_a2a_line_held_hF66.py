"""GB300 against GB200 in wide-EP decode: the in-domain all-to-all's LL line beyond the measured 8 GPUs (hF66).

`serve deepseek-r1` attention DP 72 x EP 72 nvfp4 at 36 requests/s: TPOT p50 11.61 ms on GB300 against 10.99 ms on
GB200 (hL65 traced it to GB300's collectives table, B300's). The mechanism: the all-to-all's latency line
(`network.nvlink_latency`), fitted per board on 1 / 3 / 7 peers, was extrapolated to an NVL72's 71 peers: B200's
table 26.6 us, B300's 38.7 us at <= 4 KiB, 116 such all-to-alls a step. TensorRT-LLM's NVL72 all-to-all measured at
EP 8-64 (AIConfigurator 0.12.0, GB200) does not grow with the peers, so the line is held at 7 peers: 10.8 / 11.2 us.
After: TPOT p50 10.00 ms on GB200 and 8.89 ms on GB300 (one process each, not run here: about a minute each).
"""

import pytest

from infraplan.cluster import Cluster
from infraplan.network import nvlink_latency
from infraplan.network.collective_formulas import collective_time
from infraplan.network.collectives import collective_seconds, forget_collective_seconds


def _a2a_us(system: str, size: float, n: int = 72) -> float:
    fabric = Cluster.resolve(system).for_gpus(n).fabric
    return float(collective_time(fabric, "all_to_all", size, float(n), 1.0)) * 1e6


@pytest.mark.parametrize("size", [1024.0, 4096.0])
def test_small_nvl72_all_to_alls_are_near_equal_on_gb200_and_gb300(size: float) -> None:
    gb200, gb300 = _a2a_us("gb200-nvl72", size), _a2a_us("gb300-nvl72", size)
    assert gb200 == pytest.approx(10.8, abs=0.1) and gb300 == pytest.approx(11.24, abs=0.1)  # 26.6 / 38.7 before


def test_the_held_line_is_the_eight_gpu_line() -> None:
    """Beyond the table's largest group (8 ranks) the latency stays at its line; only the bandwidth term moves."""
    for system in ("gb200-nvl72", "gb300-nvl72"):
        eight, sixteen, seventy_two = (_a2a_us(system, 1024.0, n) for n in (8, 16, 72))
        # (the bandwidth term's (n - 1) / n moves the last digits)
        assert eight == pytest.approx(sixteen, rel=1e-4) and sixteen == pytest.approx(seventy_two, rel=1e-4)


def test_extrapolated_line_is_what_the_toggle_compares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nvlink_latency, "A2A_LINE_HELD", False)
    forget_collective_seconds()
    assert _a2a_us("gb200-nvl72", 1024.0) == pytest.approx(26.57, abs=0.05)
    assert _a2a_us("gb300-nvl72", 1024.0) == pytest.approx(38.74, abs=0.05)
    fabric = Cluster.resolve("gb300-nvl72").for_gpus(72).fabric
    assert collective_seconds(fabric, "all_to_all", 1024.0, 72.0, 1.0) * 1e6 == pytest.approx(38.74, abs=0.05)
    monkeypatch.undo()
    forget_collective_seconds()
    assert collective_seconds(fabric, "all_to_all", 1024.0, 72.0, 1.0) * 1e6 == pytest.approx(11.24, abs=0.1)


def test_large_all_to_alls_do_not_move() -> None:
    """The line is latency: at 16 MiB the bandwidth term sets the time, 56.45 us on GB200 as before."""
    assert _a2a_us("gb200-nvl72", 16 * 2.0**20) == pytest.approx(56.45, abs=0.05)
