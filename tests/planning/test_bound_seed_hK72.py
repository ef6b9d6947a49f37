"""hK72: every lower bound's solve runs at milp_start.BOUND_OPTIONS (HiGHS's mip_feasibility_tolerance 1e-9), where
HiGHS's proven bound no longer depends on its random seed, and every HiGHS run is `quiet`: HiGHS 1.12 prints a debug
line straight to stdout (with its output off), which broke `plan --json` (capex seed 7 draw 39 of hR70's generator).
How `quiet` silences it (C's stdout, not descriptor 1): tests/planning/test_quiet_threads_hC73.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from tests.planning.test_bound_safety_net_hB72 import MISSOLVED_USD, POINT_USD, _programme

from infraplan.cli import main
from infraplan.planning import milp_start
from infraplan.planning.milp_start import proven, solve_bound

HIGHS_LINE = "transformNewIntegerFeasibleSolution"
# hR70's capex generator, seed 7 draw 39: an H100 pool refreshed by H200 and an H200 pool, 1 G QPS, 10 MW
DRAW_39 = {
    "name": "s", "phases": [{"name": str(y), "year": y} for y in (2025, 2027, 2029, 2031)],
    "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "latency_slo": "10ms", "qps": "1G",
                  "growth": {"2027": 1.5, "2029": 0.5, "2031": 2}}],
    "pools": [{"name": "p0", "device": "h100-sxm", "site": "ohio", "lifetime_years": 5.5, "refresh_with": "h200"},
              {"name": "p1", "device": "h200", "site": "ohio", "lifetime_years": 10}],
    "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}],
    "policy": {"objective": "capex", "redundancy_racks": 0}}


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_saved_bound_is_below_its_point_at_every_seed(monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """hB72's saved programme, no ceiling (the net cannot fire): HiGHS's seed 0 at its default tolerance proves
    13,378,774.5 where a point costs 13,273,756; at BOUND_OPTIONS every seed proves at most the point."""
    prog, _ = _programme()
    monkeypatch.setattr(milp_start, "BRANCHING", {**milp_start.BRANCHING, "random_seed": seed})
    got = solve_bound(*prog)
    assert got.status == 0
    assert proven(got) <= POINT_USD * (1 + 1e-9)
    assert proven(got) == pytest.approx(POINT_USD, rel=1e-6)  # the programme's least cost, not a loose bound


def test_the_default_tolerance_still_misproves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tolerance is what moves the bound: without BOUND_OPTIONS seed 0 proves the wrong 13,378,774.5 (skips
    where a later HiGHS solves it right)."""
    prog, _ = _programme()
    monkeypatch.setattr(milp_start, "BOUND_OPTIONS", {})
    got = milp_start.solve_from(*prog, None, milp_start.BOUND_OPTIONS)
    if proven(got) < MISSOLVED_USD * (1 - 1e-9):
        pytest.skip("this HiGHS proves the programme's bound right at its default tolerance")
    assert proven(got) == pytest.approx(MISSOLVED_USD, rel=1e-9)


def test_plan_json_stays_json_where_highs_prints(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Draw 39's purchase bound makes HiGHS print its debug line; stdout is still the JSON alone, and the bound is
    the answer (proven optimal)."""
    path = tmp_path / "draw39.yaml"
    path.write_text(yaml.safe_dump(DRAW_39))
    assert main(["plan", str(path), "--optimality-gap", "--json"]) == 0
    out, err = capfd.readouterr()
    assert HIGHS_LINE not in out and HIGHS_LINE not in err
    got = json.loads(out)
    assert got["objective_value"] == pytest.approx(5_449_882.0, abs=1.0)
    assert got["objective_lower_bound"] <= got["objective_value"] * (1 + 1e-12)
    assert got["optimality_gap_fraction"] == pytest.approx(0.0, abs=1e-9)

