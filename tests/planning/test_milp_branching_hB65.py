"""`plan`'s phased MILP with hA62's branching option (planning/milp_start.py `BRANCHING`, adopted by hB65): HiGHS's
`mip_pscost_minreliable` 2 reaches both the warm and the cold solve, through scipy's bundled binding, and no solve
warns (scipy's `milp` warns "Unrecognized options detected" for an option it does not list)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tests.planning.conftest import count_cold_milp, record_binding_calls
from tests.planning.test_milp_start_hP27 import _all_on_b200
from tests.planning.test_stepped_milp_scale_hP26 import _programme

from infraplan.planning import milp_start
from infraplan.planning.milp_start import solve_from
from infraplan.planning.phased_mix import programme, start_columns


def _record_options(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each solve's `mip_pscost_minreliable` as handed to HiGHS (`_Highs.passOptions`)."""
    return record_binding_calls(monkeypatch, "passOptions", lambda options: int(options.mip_pscost_minreliable))


def test_both_solves_branch_as_stated_without_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cold solve and the solve from a start each hand HiGHS `mip_pscost_minreliable` 2 (its default is 8), and
    neither warns nor falls back to scipy's `milp`; the two reach the same optimum."""
    assert milp_start.BRANCHING == {"mip_pscost_minreliable": 2}
    assert int(milp_start._highs.HighsOptions().mip_pscost_minreliable) == 8  # HiGHS's own default
    m = _programme()
    c, a, lb, ub, vlb, vub, integrality = programme(m, 1e-9)
    seen = _record_options(monkeypatch)
    calls = count_cold_milp(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cold = solve_from(c, a, lb, ub, vlb, vub, integrality)
        warm = solve_from(c, a, lb, ub, vlb, vub, integrality, start_columns(m, _all_on_b200()))
    assert seen == [2, 2] and calls == []
    assert cold.status == 0 and warm.status == 0 and warm.fun == pytest.approx(cold.fun, rel=1e-6)


def test_an_infeasible_programme_still_reads_as_milp_reads_it() -> None:
    """The cold solve through the binding ends other than optimal on an infeasible programme: scipy's `milp` gives
    the status (2, no x), as before (x1 + x2 >= 3 with both binary)."""
    a, lb, ub = np.array([[1.0, 1.0]]), np.array([3.0]), np.array([np.inf])
    res = solve_from(np.ones(2), a, lb, ub, np.zeros(2), np.ones(2), np.ones(2))
    assert res.status == 2 and not res.success and res.x is None
