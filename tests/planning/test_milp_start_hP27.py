"""`plan`'s re-solves start from the previous answer (planning/milp_start.py, hP27, session 47).

The phased MILP is solved again at new prices (the fixed point) and with tier brackets (the stepped solve); each
re-solve hands HiGHS the previous answer as its first incumbent with its primal heuristics off. The answer must stay
the programme's optimum: checked on hP26's shrunk stepped programme, whose optimum is known by enumerating every
server count (tests/planning/test_stepped_milp_scale_hP26.py), from its optimum and from a much dearer start.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.planning.conftest import count_cold_milp, record_starts
from tests.planning.test_stepped_milp_scale_hP26 import SERVER, _enumerated_optimum, _pool_cost, _programme

from infraplan.planning import milp_start
from infraplan.planning.milp_start import feasible, solve_from, warm_start_available
from infraplan.planning.phased_mix import programme, solve_phased_mix, start_columns


def _cost(devices: np.ndarray) -> float:
    return sum(_pool_cost(p, int(devices[p, k]) // SERVER) for p in range(2) for k in range(3))


def _all_on_b200() -> np.ndarray:
    """A feasible assignment far from the optimum: every service on B200 alone, the fewest devices each."""
    m = _programme()
    return np.array([np.ceil(m.demand[o.service, o.phase] / o.capacity - 1e-9) if o.pool == 1 else 0.0
                     for o in m.options])


def test_the_bundled_highs_takes_a_start() -> None:
    """The pinned scipy's HiGHS binding has `setSolution`; without it every re-solve would be a cold `milp` (the
    answers the same, the CPU not)."""
    assert warm_start_available()


def test_a_start_is_read_into_the_programmes_columns_feasible_at_its_own_cost() -> None:
    """start_columns in with_brackets' column order: the units, the servers, each chosen bracket's binary and
    servers; the programme's objective at those columns is the brackets' cost of the assignment's servers."""
    m = _programme()
    c, a, lb, ub, vlb, vub, integrality = programme(m, 0.0)
    x = _all_on_b200()
    columns = start_columns(m, x)
    assert columns.shape == c.shape
    assert feasible(a, lb, ub, vlb, vub, integrality, columns)
    used = np.zeros((2, 3))
    for units, o in zip(x, m.options, strict=True):
        used[o.pool, o.phase] += units
    servers = np.maximum.accumulate(np.ceil(used / SERVER), axis=1)
    assert float(c @ columns) == pytest.approx(_cost(servers * SERVER), rel=1e-12)
    short = x.copy()
    short[np.flatnonzero(short)[0]] -= 1  # a service one device short of its demand
    assert not feasible(a, lb, ub, vlb, vub, integrality, start_columns(m, short))
    half = columns.copy()
    half[0] = 0.5  # a fractional unit
    assert not feasible(a, lb, ub, vlb, vub, integrality, half)


@pytest.mark.parametrize("start", ["optimum", "all on b200"])
def test_a_warm_started_solve_reaches_the_enumerated_optimum(start: str) -> None:
    optimum = _enumerated_optimum()
    m = _programme()
    cold, devices = solve_phased_mix(m)
    assert abs(_cost(devices) - optimum) <= 1e-6 * optimum
    given = cold if start == "optimum" else _all_on_b200()
    c, *_ = programme(m, 0.0)
    assert float(c @ start_columns(m, given)) > optimum * (1 + 2e-3) or start == "optimum"  # B200 alone: +0.25 %
    _, warm = solve_phased_mix(m, given)
    assert abs(_cost(warm) - optimum) <= 1e-6 * optimum  # the dearer start is improved on, not kept
    assert np.array_equal(warm, devices)


def test_an_infeasible_start_is_a_cold_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """A start that breaks a row is not handed over (HiGHS would drop it with its heuristics off): the solve runs as
    without one. Since hB65 a solve without a start goes through the same binding (its `BRANCHING` option, which
    scipy's milp warns about), so neither solve is scipy's milp."""
    m = _programme()
    c, a, lb, ub, vlb, vub, integrality = programme(m, 1e-9)
    calls = count_cold_milp(monkeypatch)
    handed = record_starts(monkeypatch)
    bad = start_columns(m, np.zeros(len(m.options)))  # nothing served
    res = solve_from(c, a, lb, ub, vlb, vub, integrality, bad)
    assert handed == [] and res.status == 0
    good = start_columns(m, _all_on_b200())
    warm = solve_from(c, a, lb, ub, vlb, vub, integrality, good)
    assert handed == [good.tolist()] and warm.status == 0 and calls == []  # both through the bundled binding
    assert warm.fun == pytest.approx(res.fun, rel=1e-6)



def test_a_binding_whose_api_moved_is_a_cold_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """pyproject allows any scipy < 2: a private binding that still has `_Highs.setSolution` but lost what the warm
    path reads (an AttributeError inside it) falls back to scipy's milp with the same optimum, not a traceback."""
    m = _programme()
    c, a, lb, ub, vlb, vub, integrality = programme(m, 1e-9)
    cold = solve_from(c, a, lb, ub, vlb, vub, integrality)

    class Moved:  # setSolution present, the model classes gone
        class _Highs:
            def setSolution(self) -> None:
                raise AssertionError("not reached")

    monkeypatch.setattr(milp_start, "_highs", Moved)
    assert warm_start_available()
    res = solve_from(c, a, lb, ub, vlb, vub, integrality, start_columns(m, _all_on_b200()))
    assert res.status == 0 and res.fun == pytest.approx(cold.fun, rel=1e-6)


def _binding_with(**replaced: Any) -> Any:
    """scipy's bundled binding with some `_Highs` methods replaced (a private API that moved at solve time)."""
    real = milp_start._highs

    class Solver:
        def __init__(self) -> None:
            self._solver = real._Highs()

        def __getattr__(self, name: str) -> Any:
            return replaced[name] if name in replaced else getattr(self._solver, name)

        def setSolution(self, given: Any) -> Any:
            return self._solver.setSolution(given)

    class Binding:
        def __getattr__(self, name: str) -> Any:
            return Solver if name == "_Highs" else getattr(real, name)

    return Binding()


@pytest.mark.parametrize("moved", ["run raises", "run not optimal"])
def test_a_binding_failing_at_solve_time_is_a_cold_solve(monkeypatch: pytest.MonkeyPatch, moved: str) -> None:
    """hR55 (session 48): the binding imports and has `setSolution` but its solve raises (pybind11 turns a C++
    exception into RuntimeError), or ends not optimal with a feasible start in hand (which HiGHS cannot prove
    infeasible): scipy's milp answers, the same optimum, no traceback and no false 'infeasible'."""
    m = _programme()
    c, a, lb, ub, vlb, vub, integrality = programme(m, 1e-9)
    cold = solve_from(c, a, lb, ub, vlb, vub, integrality)

    def run_raises() -> None:
        raise RuntimeError("HiGHS: moved")

    replaced = ({"run": run_raises} if moved == "run raises" else
                {"run": lambda: None, "getModelStatus": lambda: milp_start._highs.HighsModelStatus.kInfeasible})
    monkeypatch.setattr(milp_start, "_highs", _binding_with(**replaced))
    assert warm_start_available()
    res = solve_from(c, a, lb, ub, vlb, vub, integrality, start_columns(m, _all_on_b200()))
    assert res.status == 0 and res.fun == pytest.approx(cold.fun, rel=1e-6)
