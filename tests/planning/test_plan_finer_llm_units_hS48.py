"""`plan` sizes an LLM service with fleet-mix's options (hS48, session 45): the whole-rate answer's units and, where
one unit serves more than a quarter of the rate, serve-plan's answers at half, a quarter ... of it
(`fleet_mix_llm.finer_units`, one rule for `fleet-mix`'s `finer_options` and `plan`'s
`scenario_sizing.size_options`). Before, `plan` priced only the whole-rate units, so the same demand asked of
`plan` and of `fleet-mix` got two answers wherever a pool's answer was a single unit.

The case is hC48's (tests/planning/test_fleet_split_single_units_hC48.py, serve-plan stubbed, R = 30 requests/s):
8 H100 (pool `a`) hold one 15-requests/s replica of the whole-rate answer; H200 (pool `b`) answers 30 with one 1:3
disaggregated unit of 32 devices, 15 with one TP8 PP2 replica (16), 7.5 with one TP8 replica (8). By hand the
cheapest power is `a`'s 8 H100 for 15 beside 16 H200 for the other 15 (24 devices, not 32 H200; with `b` limited to
16 devices nothing else serves 30 at all). One scenario phase and the equivalent fleet-mix spec (one site, the same
PUE, electricity and load factor, no spares) must agree on every pool's devices and IT power.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from tests.planning.test_fleet_split_single_units_hC48 import SERVICE, _fleet, _search

from infraplan.errors import InputError
from infraplan.planning import fleet_mix_llm, scenario_sizing
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_mix_llm import finer_options, llm_option
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import size_options
from infraplan.planning.scenario_spec import ScenarioSpec

MONEY = {"electricity_usd_per_kwh": 0.08, "pue": 1.1, "load_factor": 0.8}


def _scenario(b_available: int | None, growth: float = 1.0) -> ScenarioSpec:
    pools = [{"name": "a", "device": "h100-sxm", "available": 8, "site": "s"},
             {"name": "b", "device": "h200", "available": b_available, "site": "s"}]
    return ScenarioSpec.model_validate({
        "name": "split", "phases": [{"name": "2026", "year": 2026}],
        "services": [{**SERVICE, "growth": {"2026": growth}}], "pools": pools,
        "sites": [{"name": "s", "power": "10MW", "location": "us-average"}],
        "policy": {"objective": "power", **MONEY}})


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """hC48's serve-plan stub for both commands (each reads `serve_plan_search` where it sizes)."""
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _search)
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", _with_slo)
    return monkeypatch


def _with_slo(*args: Any) -> SimpleNamespace:
    """hC48's answer with the SLO `plan` reads its headroom from (fleet-mix reads none)."""
    return SimpleNamespace(**{**vars(_search(*args)), "slo": None})


def _plan_devices(plan: Any) -> dict[str, int]:
    return {p.pool: p.devices for p in plan.pools if p.devices}


def test_plan_offers_the_options_fleet_mix_offers(stubbed: pytest.MonkeyPatch) -> None:
    spec = _scenario(None)
    fleet = _fleet(None)
    for pool, fpool in zip(spec.pools, fleet.pools, strict=True):
        got = size_options(spec.services[0], pool, 30.0)
        assert not isinstance(got, str)
        whole = llm_option(fleet.services[0], fpool.device, "gpu", fpool.name)
        offered = [whole, *finer_options(fleet.services[0], fpool.device, "gpu", fpool.name, None, whole)]
        assert [(o.capacity, o.unit_devices) for o in got] == [(o["capacity"], o["unit_devices"]) for o in offered]
    h200 = size_options(spec.services[0], spec.pools[1], 30.0)
    assert not isinstance(h200, str) and [(o.capacity, o.unit_devices, o.whole) for o in h200] == [
        (30, 32, True), (15, 16, False), (7.5, 8, False)]  # the finer units are not one-of: 2 x 7.5 serve 15
    assert "1/2 of the 30 requests/s" in h200[1].detail and "1/4 of the 30" in h200[2].detail


@pytest.mark.parametrize("b_available", [None, 16])
def test_a_scenario_phase_and_its_fleet_mix_spec_give_one_answer(stubbed: pytest.MonkeyPatch,
                                                                 b_available: int | None) -> None:
    plan = plan_scenario(_scenario(b_available))
    fleet = plan_fleet(_fleet(b_available).model_copy(update=MONEY))
    used = {p.pool: p.used for p in fleet.pools if p.used}
    assert _plan_devices(plan) == used == {"a": 8, "b": 16}
    assert sum(r.served for r in plan.services) == pytest.approx(30)
    it_w = {p.pool: p.it_power_w for p in plan.pools if p.devices}
    assert it_w == pytest.approx({p.pool: p.power_w for p in fleet.pools if p.used}, rel=1e-9)
    assert plan.facility_power_w == pytest.approx(fleet.totals.facility_power_w, rel=1e-9)


def test_the_whole_rate_units_alone_answer_otherwise(stubbed: pytest.MonkeyPatch) -> None:
    """The rule before (no halvings): 32 H200, a's replica idle; with `b` limited to 16 devices, no plan."""
    stubbed.setattr(fleet_mix_llm, "FINER_HALVINGS", 0)
    assert _plan_devices(plan_scenario(_scenario(None))) == {"b": 32}
    with pytest.raises(InputError):
        plan_scenario(_scenario(16))


def test_each_phase_refines_at_its_own_rate(stubbed: pytest.MonkeyPatch) -> None:
    """A phase's options are sized at the phase's own rate (growth 2: R = 60, where `a`'s answer is 3 replicas of
    20 requests/s and `b`'s finer units start at 60 / 4): plan and fleet-mix at that rate agree."""
    plan = plan_scenario(_scenario(None, growth=2.0))
    fleet = plan_fleet(_fleet(None).model_copy(update={**MONEY, "services": [
        _fleet(None).services[0].model_copy(update={"rate": 60.0})]}))
    assert _plan_devices(plan) == {p.pool: p.used for p in fleet.pools if p.used}
    assert sum(r.served for r in plan.services) == pytest.approx(60)


@pytest.mark.slow
def test_the_same_demand_on_real_searches_gets_one_answer() -> None:
    """hC48's measured case, serve-plan unstubbed: Llama 3 8B chat on vLLM at 200 requests/s, 4 H100 available
    beside 301 MTIA v2 (whole-rate answers: H100 one replica of all the rate, MTIA v2 one unit of 240). With the
    finer units both commands give 4 H100 + 114 MTIA v2 (serving as of 2026-12-04 10:20), before plan kept 240 MTIA v2;
    asserted as relations: the two answers are one, and the small H100 pool takes a share."""
    service = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 200,
               "stack": "vllm-0.x"}
    pools = [{"name": "h100", "device": "h100-sxm", "available": 4, "price_usd_per_device": 42_000},
             {"name": "mtia", "device": "mtia-v2", "available": 301, "price_usd_per_device": 9_000}]
    fleet = plan_fleet(FleetSpec.model_validate({"services": [service], "pools": pools, **MONEY}))
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "real", "phases": [{"name": "2026", "year": 2026}], "services": [service],
        "pools": [{**p, "site": "s"} for p in pools], "sites": [{"name": "s", "power": "10MW"}],
        "policy": {"objective": "power", **MONEY}}))
    used = {a["pool"]: 0 for a in fleet.assignment}
    for a in fleet.assignment:
        used[a["pool"]] += a["devices"]
    rows: dict[str, int] = {}
    for r in plan.services:
        rows[r.pool] = rows.get(r.pool, 0) + r.devices
    assert rows == used and set(used) == {"h100", "mtia"}
    assert {p.pool: p.it_power_w for p in plan.pools if p.devices} == pytest.approx(
        {p.pool: p.power_w for p in fleet.pools if p.used}, rel=1e-9)
