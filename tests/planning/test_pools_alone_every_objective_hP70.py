"""hP (session 70): `plan` prices each pool alone under every objective, and the bound's tests can fail.

hK69 priced each pool's plan alone (planning/pools_alone.py) for capex under retirement only; under TCO, facility
power, carbon or capex without retirement the loops' answer was kept where one pool alone costs less at its own
prices (a carbon scenario: the GB200 pool's plan, 18,140.24 tCO2e, where the MI300X pool alone plans 17,811.35).

hB69 / hR69: the lower bound was clamped to the answer (`min(bound, answer)`), so `objective_lower_bound <=
objective_value` held for any bound, however unsound. The clamp now absorbs only the sums' rounding
(`sized_pricing.proven_bound`: 1e-9 of the answer; HiGHS's 1e-7 tolerance since hK71), so the reported bound is the
programme's own and the seeded scenarios below (LLM and training services, every objective, retiring or not) check
it against every assignment the plan priced under its own objective.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from tests.planning import test_purchase_bound_repassed_hB69 as hb69

from infraplan.planning import purchase_bound, scenario, scenario_bound, sized_pricing
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

GB200 = {"name": "gb200", "device": "gb200", "site": "ohio", "lifetime_years": 3, "from_year": 2025}
MI300X = {"name": "mi300x", "device": "mi300x", "site": "ohio", "lifetime_years": 3}


def _carbon(pools: list[dict[str, Any]]) -> ScenarioSpec:
    return hb69._spec(pools, qps="5G", growth={"2027": 1, "2029": 1, "2031": 2}, objective="carbon",
                      redundancy_racks=2, spare_probability=0.99)


def test_a_pool_alone_is_kept_under_the_carbon_objective(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loops (from the reference prices, re-priced at their own sizes) end on the GB200 pool's plan; the MI300X
    pool alone is a plan of the same scenario 1.8 % lower. The plan keeps it, says so, and its objective is that
    plan's (an unused pool emits nothing). Since hP71 the bound's search runs in every plan of this size and finds
    17,462.41 below it; the pools alone are checked without it."""
    searched = plan_scenario(_carbon([GB200, MI300X]))
    assert searched.objective_value == pytest.approx(17462.406321792, rel=1e-9)
    assert "the lower bound's search found a cheaper assignment" in searched.pricing
    monkeypatch.setattr(scenario, "SEARCH_COUNTS_MAX", -1)
    plan = plan_scenario(_carbon([GB200, MI300X]))
    alone = plan_scenario(_carbon([MI300X]))
    assert plan.objective_value == pytest.approx(17811.350143488, rel=1e-9)  # 18,140.2434268416 before (GB200's)
    assert plan.objective_value == pytest.approx(alone.objective_value, rel=1e-12)
    assert {r.pool for r in plan.pools if r.devices} == {"mi300x"}
    assert "a plan of one pool alone costs less" in plan.pricing and plan.pricing_converged is False
    assert "then each pool alone, priced the same way: 4 MILP solves" in plan.pricing


@pytest.mark.parametrize("objective", ["tco", "power", "carbon"])
def test_a_single_pool_scenario_prices_nothing_alone(objective: str) -> None:
    """With one pool the loop's plan is the pool's own: no solve is spent pricing it alone."""
    plan = plan_scenario(hb69._spec([hb69.H100], objective=objective))
    assert "each pool alone" not in plan.pricing


def _inflated_purchase_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    increments = purchase_bound.least_increments

    def inflated(*args: Any, **kw: Any) -> Any:
        per_device, terms, steps = increments(*args, **kw)
        return per_device, terms + 1e9, steps
    monkeypatch.setattr(purchase_bound, "least_increments", inflated)


def _inflated_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    solve = scenario_bound.solve_phased_bound

    def inflated(*args: Any, **kw: Any) -> Any:
        x, servers, lower = solve(*args, **kw)
        return x, servers, lower + 1e9
    monkeypatch.setattr(scenario_bound, "solve_phased_bound", inflated)


@pytest.mark.parametrize(("spec", "inflate"), [
    pytest.param(lambda: hb69._spec([hb69.BASE, hb69.B200], power="10MW", redundancy_racks=1),
                 _inflated_purchase_terms, id="purchases"),  # capex under retirement: purchase_bound
    pytest.param(lambda: hb69._spec([hb69.BASE, hb69.B200], objective="tco"), _inflated_lines, id="lines"),
    pytest.param(lambda: hb69._spec([{**hb69.BASE, **hb69.LONG}, {**hb69.B200, **hb69.LONG}],
                                    spare_probability=0.99), _inflated_purchase_terms, id="fleet-value"),
])
def test_an_unsound_bound_is_reported_not_clamped(monkeypatch: pytest.MonkeyPatch, spec: Any, inflate: Any) -> None:
    """A bound $1e9 above what its programme proves is above the answer: it is reported as it is (the clamp hid it
    until hP70, reporting the answer itself as the bound and 0 %), so a test's `lower <= objective` can fail."""
    inflate(monkeypatch)
    plan = plan_scenario(spec(), optimality_gap=True)
    assert plan.objective_lower_bound is not None and plan.objective_value is not None
    assert plan.objective_lower_bound > plan.objective_value + 1e8
    # and no gap is claimed on it (lead, session 70: the clamp's "optimal ... 0 %" was a false claim)
    assert plan.optimality_gap_fraction is None
    assert plan.optimality is not None and plan.optimality.startswith("no proven optimality gap")


def test_rounding_above_the_answer_is_the_answer() -> None:
    assert sized_pricing.proven_bound(100.0 + 1e-8, 100.0) == 100.0
    assert sized_pricing.proven_bound(100.0 + 1e-6, 100.0) == 100.0  # 1e-8: within HiGHS's 1e-7 (hK71)
    assert sized_pricing.proven_bound(100.0 + 1e-4, 100.0) == 100.0 + 1e-4
    assert sized_pricing.proven_bound(99.0, 100.0) == 99.0


def _priced(monkeypatch: pytest.MonkeyPatch, spec: ScenarioSpec) -> tuple[Any, list[float]]:
    """Plan `spec` with a gap, and what each candidate the plan chose among costs at its own prices under the
    scenario's objective (`cheapest_priced`'s candidates and cost: the loops' answers, each pool alone's)."""
    costs: list[float] = []
    cheapest = scenario.cheapest_priced

    def record(candidates: list[np.ndarray], cost: Any) -> Any:
        costs.extend(cost(y) for y in candidates)
        return cheapest(candidates, cost)

    monkeypatch.setattr(scenario, "cheapest_priced", record)
    return plan_scenario(spec, optimality_gap=True), costs


LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 200}
TRAINING = {"name": "train", "kind": "training", "model": "llama3-8b", "tokens": "100B", "gpus": 64, "seq_len": 8192}
SCENARIOS = st.fixed_dictionaries({
    "objective": st.sampled_from(["capex", "tco", "power", "carbon"]), "life": st.sampled_from([3, 4, 10]),
    "base": st.sampled_from([0, 64]), "second": st.sampled_from(["b200", "h200", None]), "training": st.booleans(),
    "growth": st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.0]), min_size=2, max_size=2),
    "spares": st.sampled_from([None, 0.99]), "racks": st.sampled_from([0, 1])})


def _llm_spec(d: dict[str, Any]) -> ScenarioSpec:
    h100 = {**hb69.H100, "lifetime_years": d["life"]}
    if d["base"]:
        h100.update(installed=d["base"], installed_year=2024)
    growth = dict(zip(("2027", "2029"), d["growth"], strict=True))
    policy = {"objective": d["objective"], "redundancy_racks": d["racks"],
              **({"spare_probability": d["spares"]} if d["spares"] else {})}
    return ScenarioSpec.model_validate({
        "name": "s", "phases": [{"name": str(y), "year": y} for y in (2025, 2027, 2029)],
        "services": [{**LLM, "growth": growth}, *([TRAINING] if d["training"] else [])],
        "pools": [h100, *([{"name": "new", "device": d["second"], "site": "ohio"}] if d["second"] else [])],
        "sites": [{"name": "ohio", "power": "20MW", "location": "ohio"}], "policy": policy})


@seed(70)
@settings(max_examples=10, deadline=None, derandomize=True)
@given(SCENARIOS)
def test_the_bound_is_below_every_priced_plan_with_llm_and_training(d: dict[str, Any]) -> None:
    """Seeded 3-phase scenarios with an LLM service (replicas and their finer units) and a whole training job, on
    H100 (a base or not, 3-10 year lives) with B200, H200 or alone, under every objective, with spares and N+k or
    not: the bound as reported (not clamped beyond rounding) is at most the answer's objective and every assignment
    the plan priced (the loops' answers, each pool alone's) at its own prices, and the answer is the cheapest of them
    (or cheaper: the bound's search can find one)."""
    with pytest.MonkeyPatch.context() as mp:
        plan, costs = _priced(mp, _llm_spec(d))
    assert plan.objective_value is not None and costs
    assert plan.objective_value <= min(costs) * (1 + 1e-12)
    if plan.objective_lower_bound is not None:
        assert plan.objective_lower_bound <= plan.objective_value * (1 + sized_pricing.BOUND_TOLERANCE)
        assert plan.objective_lower_bound <= min(costs) * (1 + sized_pricing.BOUND_TOLERANCE)
