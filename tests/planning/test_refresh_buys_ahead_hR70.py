"""hR (session 70): a pool refreshed by its successor (`refresh_with`) buys its own device no later than its last
phase that may buy, and holds it until needed (planning/retirement.py `ahead`, `in_service`).

Before, `retirement.in_service` (the report's purchases, and the objective's prices through it) bought what a
phase's survivors lacked in that phase, also where the pool buys none of its device (`buy_open` false, from its
successor's phase), while the MILP, which may not buy there, bought it in the last open phase. So the report showed a
purchase the scenario forbids and priced a plan the MILP had not made:
- hN57's meta-refresh as capex reported 16,384 H100 bought in 2029H2 ($892,945,600); bought in 2027 (the building
  grows then) that plan costs $1,181,576,964, and the GB200 refresh, $933,628,880, is the answer;
- plan-refresh.yaml refreshed by A100 as capex reported 80 H100 bought in 2030 ($5,320,939.30, its bound
  $7,696,536.25 above it); now 80 H100 in 2028, $6,274,663.20, the bound $6,068,306 below it.
Checked failing on the base tree (4fb167c5): the first three tests and the seeded one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.planning.test_site_building_hN57 import _refresh

from infraplan.planning import purchase_bound
from infraplan.planning.retirement import Lifecycle, ahead, in_service, successor_year
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plan-refresh.yaml"


def _closed_buys(spec: ScenarioSpec, plan: ScenarioPlan) -> list[tuple[str, str, int]]:
    """(phase, pool, new devices) of every row that buys a `refresh_with` pool's own device from its successor's
    phase on."""
    year = {ph.name: ph.year for ph in spec.phases}
    out = []
    for pool in spec.pools:
        succ = successor_year(pool, list(year.values())) if pool.refresh_with else None
        out += [(r.phase, r.pool, r.new_devices) for r in plan.pools
                if succ is not None and r.pool == pool.name and year[r.phase] >= succ and r.new_devices > 0]
    return out


def _a100_refresh(objective: str) -> ScenarioSpec:
    spec = load_scenario(str(EXAMPLE))
    return spec.model_copy(update={"pools": [spec.pools[0].model_copy(update={"refresh_with": "a100-80gb"})],
                                   "policy": spec.policy.model_copy(update={"objective": objective})})


def test_a_closed_phase_buys_in_the_last_phase_that_may() -> None:
    # one pool, 4 phases, a purchase serving 3 phases (j..j+2), buying closed from phase 2 (its successor's)
    alive = np.array([[k >= j and k - j <= 2 for k in range(4)] for j in range(4)])
    cycle = Lifecycle(alive, np.ones(4, dtype=bool), np.array([True, True, False, False]))
    installed, survivors = in_service(np.array([[2, 3, 5, 4]]), np.array([[0]]), [cycle])
    # phase 1 buys its own 1 and what phases 2 (2 more) and 3 (1 more: phase 0's 2 have retired) lack: 4 in all
    assert installed.tolist() == [[2, 6, 6, 4]] and survivors.tolist() == [[0, 2, 6, 4]]  # base: 2, 3, 5, 4
    assert (ahead(cycle, 0), ahead(cycle, 1), ahead(cycle, 2), ahead(cycle, 3)) == (None, None, 1, 1)


def test_meta_refresh_as_capex_buys_no_h100_after_the_refresh() -> None:
    spec = _refresh("capex")
    plan = plan_scenario(spec)
    assert _closed_buys(spec, plan) == []  # base: [("2029H2", "genai", 16384)]
    assert plan.objective_value == pytest.approx(933628880.0, abs=1.0)  # the GB200 refresh (base: 892,945,600)
    assert plan.objective_value == pytest.approx(plan.capex_usd, rel=1e-12)


def test_a_dearer_successor_is_served_by_devices_bought_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    # hB72: the purchase bound's assignment costs less and is the answer; the loops' answer, which buys ahead, here
    monkeypatch.setattr(purchase_bound, "ADOPT", False)
    spec = _a100_refresh("capex")
    plan = plan_scenario(spec, optimality_gap=True)
    assert _closed_buys(spec, plan) == []  # base: [("2030", "h100", 80)]
    rows = {(r.phase, r.pool): r for r in plan.pools}
    assert (rows["2028", "h100"].new_devices, rows["2028", "h100"].devices) == (80, 144)
    assert rows["2030", "h100"].devices == 80 and rows["2030", "h100-refresh"].devices == 24
    assert ["2028: pool h100 buys 72 h100-sxm ahead for 2030" in note for note in plan.notes].count(True) == 1
    assert plan.objective_value == pytest.approx(6274663.2, abs=0.5)
    assert plan.objective_value == pytest.approx(plan.capex_usd, rel=1e-12)
    # the bound counts what that phase holds (`most_devices`, bound_columns.with_lazy); base: 7,696,536 > 5,320,939
    assert plan.objective_lower_bound is not None and plan.objective_lower_bound <= plan.objective_value


@pytest.mark.parametrize("objective", ["tco", "power", "carbon"])
def test_every_objective_reports_what_it_prices(objective: str) -> None:
    """Guard (passes on the base too): the report's figures weighted by the years to the next phase sum to the
    objective, and no row buys a closed device, for hN57's meta-refresh and the A100 refresh."""
    figure = {"tco": "tco_usd_per_year", "power": "facility_power_w", "carbon": "co2_t_per_year"}[objective]
    for spec in (_refresh(objective), _a100_refresh(objective)):
        plan = plan_scenario(spec)
        years = [ph.year for ph in spec.phases]
        span = [b - a for a, b in zip(years, years[1:], strict=False)] + [1]
        assert _closed_buys(spec, plan) == []
        assert plan.objective_value == pytest.approx(sum(getattr(ph, figure) * w for ph, w in
                                                         zip(plan.phases, span, strict=True)), rel=1e-9)


def test_seeded_cycles_never_buy_where_an_earlier_phase_can() -> None:
    """200 seeded random cohorts (lives of 1-4 phases, a successor from a random phase, a base alive or not): the
    report holds every need, buys nothing where the pool may not buy and an earlier open phase's purchase is still
    in service, and its survivors are the base alive plus the purchases alive (base: the closed phases bought)."""
    rng = np.random.default_rng(70)
    for _ in range(200):
        n_k, life, closed = int(rng.integers(3, 7)), int(rng.integers(1, 5)), int(rng.integers(1, 7))
        alive = np.array([[j <= k < j + life for k in range(n_k)] for j in range(n_k)])
        base_life = int(rng.integers(0, life + 1))
        cycle = Lifecycle(alive, np.arange(n_k) < base_life, np.arange(n_k) < closed)
        need, base = rng.integers(0, 20, size=(1, n_k)), np.array([[int(rng.integers(0, 10))]])
        installed, survivors = in_service(need, base, [cycle])
        bought = (installed - survivors)[0]
        assert (installed >= need).all()
        assert all(bought[k] == 0 for k in range(n_k) if ahead(cycle, k) is not None)
        assert survivors[0].tolist() == [(base[0, 0] if cycle.base_alive[k] else 0)
                                         + sum(bought[j] for j in range(k) if alive[j, k]) for k in range(n_k)]
