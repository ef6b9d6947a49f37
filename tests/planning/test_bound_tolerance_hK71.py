"""The bound's excess over its answer is judged at HiGHS's own tolerance, not the sums' rounding (hK71).

`sized_pricing.SUM_ROUNDING` (1e-9) took any bound more than 1e-9 above its answer for a fault of the bounding
programme ("no proven optimality gap"), while HiGHS proves its dual bound from LP duals feasible to 1e-7 and
accepts solutions within 1e-7: a tight, sound bound proven to the solver's tolerance could read as a fault.
No plan was found doing so (the seeded covering MILPs below: HiGHS's bound at most ~3e-15 above the enumerated
optimum; hP70's seeded scenarios hold at 1e-9); the rule now uses the solver's stated tolerance
(`BOUND_TOLERANCE`), and a bound well above it (hR70's spares: 1e8 above) still reads as the fault it is.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.planning import milp_start, sized_pricing


def _closed(excess: float) -> sized_pricing.Optimality:
    """`close_gap` on an answer of 1e6 whose bounding programme returns a bound `excess` (relative) above it."""
    answer = 1.0e6

    def solve_bound(exact: dict[int, set[int]]) -> tuple[str, float, list[tuple[int, int]]]:
        return "bound's answer", answer * (1.0 + excess), []

    return sized_pricing.close_gap("answer", answer, solve_bound, lambda s: None, {0: {1}})[2]


def test_a_bound_within_the_solvers_tolerance_is_optimal() -> None:
    opt = _closed(5e-8)  # within HiGHS's 1e-7: was "no proven optimality gap"
    assert opt.text.startswith("optimal") and opt.gap_fraction == 0.0 and opt.lower_bound == 1.0e6
    opt = _closed(1e-5)  # ten times past the solver's gap: the programme's fault, said
    assert opt.text.startswith("no proven optimality gap") and opt.gap_fraction is None
    assert opt.lower_bound == pytest.approx(1.0e6 * (1 + 1e-5), rel=1e-15)  # reported as it is, not clamped
    assert sized_pricing.bound_above_answer(1.0e6 * (1 + 5e-8), 1.0e6) is None
    assert sized_pricing.bound_above_answer(1.0e6 * (1 + 2e-7), 1.0e6) is not None


@pytest.mark.skipif(not milp_start.warm_start_available(), reason="scipy's HiGHS binding is not importable")
def test_the_tolerance_is_highs_own() -> None:
    options = milp_start._highs.HighsOptions()
    assert sized_pricing.BOUND_TOLERANCE == options.dual_feasibility_tolerance == options.primal_feasibility_tolerance


def test_highs_bound_on_the_bounds_form_stays_under_the_optimum() -> None:
    """Covering MILPs of the bound programme's form (integer units, rows in shares of demand), HiGHS through
    `milp_start.solve_from` as the planners call it: min(objective, dual bound) never exceeds the enumerated
    optimum by more than the tolerance (hK71's probe: 1,999 of them, worst 2.7e-15)."""
    rng = np.random.default_rng(71)
    worst = 0.0
    for t in range(24):
        n, rows, top = (6, 3, 5) if t % 2 else (3, 2, 12)
        c = (10 ** rng.uniform(3, 9, n) if t % 2 else rng.uniform(1e3, 1e7, n)) * rng.choice([1.0, 1 / 3, 1 / 7], n)
        a = rng.uniform(0.05, 1.0, (rows, n)) / rng.uniform(1.0, 4.0, (rows, 1))
        grid = np.array(list(itertools.product(range(top + 1), repeat=n)), dtype=float)
        ok = (grid @ a.T >= 1.0).all(axis=1)
        if not ok.any():
            continue
        best = float((grid[ok] @ c).min())
        res = milp_start.solve_from(c, a, np.ones(rows), np.full(rows, np.inf), np.zeros(n), np.full(n, float(top)),
                                    np.ones(n), None)
        assert res.status == 0
        dual = res.mip_dual_bound
        bound = float(res.fun) if dual is None or not np.isfinite(dual) else min(float(res.fun), float(dual))
        worst = max(worst, (bound - best) / best)
    assert worst <= sized_pricing.BOUND_TOLERANCE
