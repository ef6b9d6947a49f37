"""A pool's stepped cost (sized_pricing.bracket_costs) gives every server count one segment (hZ55). A count the
fixed point priced inside a tier bracket splits it into segments that both pass exactly through that count; written
in both, the count was one answer with two bracket choices, a tie HiGHS's branch and bound had to refute. With MTIA
v2's 24-device servers (catalog/systems/mtia-v2-rack.yaml) benchmarks/scenario_plan.py's stepped solve took 994
nodes (2.9 s of CPU) to prove the start it was handed optimal. The segment after a breakpoint now starts a server
above it: every count keeps its cost, so the optimum is the same."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.planning.milp_start import feasible
from infraplan.planning.phased_mix import MixOption, PhasedMix, programme, solve_phased_mix, start_columns
from infraplan.planning.sized_pricing import Bracket, bracket_costs


def _total(n: int) -> float:
    return 0.0 if n == 0 else 1000.0 + 500.0 * n + 30.0 * n ** 1.5


def _cost_at(brackets: list[Bracket], n: int) -> float:
    costs = [b.fixed + b.per_server * n for b in brackets if b.lo <= n <= b.hi]
    assert len(costs) == 1, f"{n} servers in {len(costs)} segments"
    return costs[0]


def test_every_count_is_in_one_segment_at_the_secant_of_its_breakpoints() -> None:
    """Counts 4 and 20 were priced by the fixed point: before, (1, 4) and (4, 8) both held 4 servers."""
    out = bracket_costs([(1, 8), (9, 9), (10, 40)], _total, points=[4, 20, 60])
    assert [(b.lo, b.hi) for b in out] == [(1, 4), (5, 8), (9, 9), (10, 20), (21, 40)]
    cuts = [1, 4, 8, 9, 10, 20, 40]
    for n in range(1, 41):
        if n in cuts:
            assert _cost_at(out, n) == pytest.approx(_total(n), rel=1e-12)
        else:  # the secant through the breakpoints around it, as before the change
            a, b = max(c for c in cuts if c < n), min(c for c in cuts if c > n)
            assert _cost_at(out, n) == pytest.approx(
                _total(a) + (_total(b) - _total(a)) * (n - a) / (b - a), rel=1e-12)


def _mix(brackets: list[Bracket]) -> PhasedMix:
    """100 QPS of one service: pool 'rack' of 24-device servers (3 QPS a device, costed by `brackets`), pool 'host'
    of 2-device servers (1 QPS a device, 400 a device)."""
    options = [MixOption(service=0, pool=0, phase=0, capacity=3.0, unit_devices=1, whole=False),
               MixOption(service=0, pool=1, phase=0, capacity=1.0, unit_devices=1, whole=False)]
    return PhasedMix(
        demand=np.array([[100.0]]), options=options, cost=np.array([[0.0], [400.0]]), available=[None, None],
        pool_open=np.ones((2, 1), dtype=bool), pool_site=[0, 0], watts_per_device=np.array([100.0, 100.0]),
        site_cap_w=np.array([[1e9]]), service_names=["rank"], pool_names=["rack", "host"], site_names=["s"],
        phase_names=["p1"], installed=[0, 0], server_devices=[24, 2], brackets={(0, 0): brackets})


@pytest.mark.parametrize("points", [[2], [1, 2, 3], [2, 5]])
def test_the_optimum_is_unchanged_on_24_device_servers(points: list[int]) -> None:
    """The brute-force optimum over both pools' server counts, with the breakpoints shared (the old segments) and
    not (now); the solution handed back as a start is feasible in the programme."""
    new = bracket_costs([(1, 3), (4, 8)], _total, points=points)
    cuts = sorted({1, 3, 4, 8, *points})
    old = [Bracket(a, b, _total(a) - (_total(b) - _total(a)) / (b - a) * a, (_total(b) - _total(a)) / (b - a))
           for lo, hi in [(1, 3), (4, 8)] for a, b in itertools.pairwise([c for c in cuts if lo <= c <= hi])]
    best = min((_cost_at(new, r) if r else 0.0) + 800.0 * -(-max(0, 100 - 72 * r) // 2) for r in range(9))
    for brackets in (old, new):
        m = _mix(brackets)
        units, devices = solve_phased_mix(m)
        assert units[0] * 3 + units[1] >= 100
        spent = (_cost_at(new, devices[0, 0] // 24) if devices[0, 0] else 0.0) + 400.0 * devices[1, 0]
        assert spent == pytest.approx(best, rel=1e-9)
        _, a, lb, ub, vlb, vub, integrality = programme(m, 1e-9)
        assert feasible(a, lb, ub, vlb, vub, integrality, start_columns(m, units))
