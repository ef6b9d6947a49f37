"""hB72: the safety net of every lower bound's MILP (planning/milp_start.py `sound`, `solve_bound`): where HiGHS's
proven bound comes out above the objective it bounds, or HiGHS ends other than optimal, the programme is solved
again (presolve off, then other seeds) and the least optimal bound kept.

The programme in data/bound_misolved_hB72.json is the capex purchase bound of hB69's no-base N+k case (H100 + B200)
with the IT hull form (planning/purchase_windows.py `IT_HULL`), as `plan --optimality-gap` builds it; its `point` is
the answer's assignment fixed in it, 13,273,756 USD, feasible. HiGHS (scipy 1.17.1) returns 13,378,774.5 as
"optimal", with presolve on and off; seeds 1-3 find the point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import OptimizeResult

from infraplan.planning import milp_start
from infraplan.planning.milp_start import feasible, proven, solve_bound, solve_from, sound

POINT_USD = 13_273_756.0  # the answer's objective, the point's cost in the programme
MISSOLVED_USD = 13_378_774.5  # HiGHS's "optimum" with its default seed, presolve on or off


def _programme() -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    raw = json.loads((Path(__file__).parent / "data" / "bound_misolved_hB72.json").read_text())
    a = np.zeros(raw["shape"])
    a[raw["rows"], raw["cols"]] = raw["values"]
    prog = (np.array(raw["c"]), a, np.array(raw["lb"]), np.array(raw["ub"]), np.array(raw["vlb"]),
            np.array(raw["vub"]), np.array(raw["integrality"], dtype=float))
    return prog, np.array(raw["point"])


def test_the_point_is_feasible_and_costs_the_answer() -> None:
    prog, point = _programme()
    c, a, lb, ub, vlb, vub, integrality = prog
    assert feasible(a, lb, ub, vlb, vub, integrality, point)
    assert float(c @ point) == pytest.approx(POINT_USD, rel=1e-12)


def test_the_net_returns_a_sound_bound_where_highs_passes_the_answer() -> None:
    prog, point = _programme()
    plain = solve_from(*prog)
    if proven(plain) <= POINT_USD * (1 + 1e-9):
        pytest.skip("this HiGHS solves the programme right: nothing for the net to catch")
    assert proven(plain) == pytest.approx(MISSOLVED_USD, rel=1e-9)  # the fault the net is for
    net = sound(plain, prog, POINT_USD)
    assert net is not plain and net.status == 0
    assert proven(net) <= POINT_USD * (1 + 1e-9)
    assert proven(net) >= POINT_USD * (1 - 1e-6)  # HiGHS's gap: the point is the optimum
    assert proven(solve_bound(*prog, ceiling=POINT_USD)) <= POINT_USD * (1 + 1e-9)


def test_without_a_ceiling_the_net_keeps_what_highs_proved() -> None:
    """No objective to compare with (the default ceiling): the first optimal solve is kept, no re-solve."""
    prog, _ = _programme()
    first = solve_from(*prog)
    assert sound(first, prog) is first


def test_a_bound_below_its_answer_is_not_solved_again(monkeypatch: pytest.MonkeyPatch) -> None:
    prog, _ = _programme()
    first = solve_from(*prog)
    calls: list[Any] = []
    monkeypatch.setattr(milp_start, "milp", lambda *a, **k: calls.append(k) or first)
    monkeypatch.setattr(milp_start, "_warm_solve", lambda *a, **k: calls.append(k) or first)
    assert sound(first, prog, proven(first) * 1.01) is first
    assert not calls


def test_a_solve_ending_other_than_optimal_is_solved_again() -> None:
    """HiGHS reporting a status other than optimal (here a stand-in, status 1: a limit reached) on a programme it
    can solve: the net's re-solve (presolve off) answers, optimal."""
    prog, point = _programme()
    failed = OptimizeResult(status=1, success=False, x=None, fun=None, mip_dual_bound=None)
    got = sound(failed, prog, float(prog[0] @ point))
    assert got.status == 0 and got.x is not None
    assert proven(got) <= POINT_USD * (1 + 1e-9)


def test_the_net_tries_presolve_off_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The order of the re-solves: presolve off, then the binding's seeds (`RESEEDS`), each at BOUND_OPTIONS (hK72:
    through the binding, which takes HiGHS's tolerance; scipy's `milp` with presolve off where it is absent)."""
    prog, _ = _programme()
    first = solve_from(*prog)
    seen: list[Any] = []
    above = OptimizeResult(status=0, success=True, x=first.x, fun=2 * POINT_USD, mip_dual_bound=2 * POINT_USD)
    monkeypatch.setattr(milp_start, "milp", lambda *a, **k: seen.append(("milp", k["options"])) or above)
    monkeypatch.setattr(milp_start, "_warm_solve", lambda *a: seen.append(("binding", a[-1])) or above)
    sound(above, prog, POINT_USD)
    assert [s for _, s in seen] == [{**milp_start.BOUND_OPTIONS, "presolve": "off"}] + [
        {**milp_start.BOUND_OPTIONS, "random_seed": s} for s in milp_start.RESEEDS]
    seen.clear()
    monkeypatch.setattr(milp_start, "warm_start_available", lambda: False)
    sound(above, prog, POINT_USD)
    assert seen == [("milp", {"mip_rel_gap": milp_start.MIP_REL_GAP, "presolve": False})]
