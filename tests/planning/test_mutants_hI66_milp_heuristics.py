"""hI66 mutation wave on planning/milp_start.py (hB65's cold solve through the binding): mutants P9, P10.

The module's rule: a solve from a feasible start hands HiGHS the start as its first incumbent with HiGHS's primal
heuristics off (`NO_HEURISTICS`: hP27 measured the stepped solves 1.6 -> 0.9, 3.8 -> 2.7, 5.8 -> 2.0 s of CPU with
them off, the incumbent already in hand); a solve without a start keeps HiGHS's heuristics as HiGHS sets them by
default (`HighsOptions()`), its only way to an early incumbent. Both take `BRANCHING`. Read as handed to HiGHS
(`passOptions`), against HiGHS's own defaults.
"""

from __future__ import annotations

import pytest
from tests.planning.conftest import record_binding_calls
from tests.planning.test_milp_start_hP27 import _all_on_b200
from tests.planning.test_stepped_milp_scale_hP26 import _programme

from infraplan.planning import milp_start
from infraplan.planning.milp_start import NO_HEURISTICS, solve_from
from infraplan.planning.phased_mix import programme, start_columns


def _heuristics(options: object) -> dict[str, object]:
    return {name: getattr(options, name) for name in NO_HEURISTICS}


def test_heuristics_off_from_a_start_and_highs_own_without(monkeypatch: pytest.MonkeyPatch) -> None:
    default = _heuristics(milp_start._highs.HighsOptions())
    assert default["mip_heuristic_effort"] > 0.0 and default["mip_heuristic_run_rins"] is True  # HiGHS's own
    m = _programme()
    c, a, lb, ub, vlb, vub, integrality = programme(m, 1e-9)
    seen = record_binding_calls(monkeypatch, "passOptions", _heuristics)
    solve_from(c, a, lb, ub, vlb, vub, integrality)
    solve_from(c, a, lb, ub, vlb, vub, integrality, start_columns(m, _all_on_b200()))
    assert seen == [default, dict(NO_HEURISTICS)]
