"""Metamorphic properties of facility sizing, the campus and the scenario planner (hX2, session 38; hypothesis,
derandomized, bounded).

Facility power is IT power x PUE; the TCO holds the electricity bill; more accelerators are more servers, racks
and watts; a campus fills a larger power budget with no fewer accelerators; a scenario asked to serve more never
gets a cheaper optimum (every plan serving the larger demand serves the smaller), and its proved lower bound never
exceeds the plan's own cost.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import reliability_report
from infraplan.planning.campus import plan_campus
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
REL = 1e-9
SYSTEMS = ["dgx-h100-superpod", "meta-genai-roce-24k", "gb200-nvl72", "dgx-b200", "hgx-h200", "meta-rsc",
           "mi300x-cluster", "mtia-400-rack"]
ACCELERATORS = ["h100-sxm", "h200", "b200", "gb200", "a100-80gb", "mtia-v2", "mi300x"]
LOCATIONS = ["ohio", "texas", "oregon", "virginia", "world-average"]


@SETTINGS
@given(st.sampled_from(SYSTEMS), st.sampled_from(LOCATIONS), st.floats(1.0, 2.0), st.floats(1.01, 1.5))
def test_a_higher_pue_never_lowers_facility_power_energy_or_cost(system, location, pue, factor) -> None:
    low = size_facility(system=system, location=location, overrides=CostOverrides().merged(pue=pue))
    high = size_facility(system=system, location=location, overrides=CostOverrides().merged(pue=pue * factor))
    assert high.it_power_w == low.it_power_w  # PUE is the facility's overhead on the same IT load
    assert high.facility_power_w >= low.facility_power_w * (1 - REL)
    assert high.energy_mwh_per_year >= low.energy_mwh_per_year * (1 - REL)
    assert high.co2_t_per_year >= low.co2_t_per_year * (1 - REL)
    if low.tco_usd_per_year is not None:
        assert high.tco_usd_per_year is not None and high.tco_usd_per_year >= low.tco_usd_per_year * (1 - REL)


@SETTINGS
@given(st.sampled_from(SYSTEMS), st.sampled_from(LOCATIONS), st.floats(10.0, 200.0), st.floats(1.01, 3.0))
def test_a_higher_electricity_price_never_lowers_tco(system, location, usd_per_mwh, factor) -> None:
    cheap = size_facility(system=system, location=location,
                          overrides=CostOverrides().merged(electricity_usd_per_mwh=usd_per_mwh))
    dear = size_facility(system=system, location=location,
                         overrides=CostOverrides().merged(electricity_usd_per_mwh=usd_per_mwh * factor))
    assert dear.facility_power_w == cheap.facility_power_w
    assert dear.opex_breakdown_usd_per_year["electricity"] >= cheap.opex_breakdown_usd_per_year["electricity"]
    if cheap.tco_usd_per_year is not None:
        assert dear.tco_usd_per_year is not None and dear.tco_usd_per_year >= cheap.tco_usd_per_year * (1 - REL)
        assert dear.usd_per_gpu_hour is not None and cheap.usd_per_gpu_hour is not None
        assert dear.usd_per_gpu_hour >= cheap.usd_per_gpu_hour * (1 - REL)


@SETTINGS
@given(st.sampled_from(ACCELERATORS), st.integers(1, 20000), st.integers(2, 8),
       st.sampled_from([None, "air", "liquid"]))
def test_more_accelerators_never_need_less_power_racks_or_money(accelerator, count, factor, cooling) -> None:
    if accelerator == "gb200" and cooling == "air":
        cooling = "liquid"  # an NVL72 rack is liquid-cooled (120 kW)
    few = size_facility(accelerator=accelerator, count=count, cooling=cooling)
    many = size_facility(accelerator=accelerator, count=count * factor, cooling=cooling)
    assert many.servers >= few.servers and many.racks >= few.racks
    assert many.it_power_w >= few.it_power_w * (1 - REL)
    assert many.facility_power_w >= few.facility_power_w * (1 - REL)
    assert many.floor_area_m2 >= few.floor_area_m2 * (1 - REL)
    if few.capex_total_usd is not None and many.capex_total_usd is not None:
        assert many.capex_total_usd >= few.capex_total_usd * (1 - REL)
        assert many.tco_usd_per_year >= few.tco_usd_per_year * (1 - REL)  # type: ignore[operator]


@settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["h100-sxm", "gb200", "b200", "mtia-v2", "mi300x"]), st.sampled_from([2e6, 3e7, 2e8]),
       st.sampled_from([1.1, 2.0, 5.0]), st.sampled_from([None, "liquid"]))
def test_a_larger_power_budget_never_holds_fewer_accelerators(accelerator, power_w, factor, cooling) -> None:
    small = plan_campus(power_w, accelerator, cooling)
    large = plan_campus(power_w * factor, accelerator, cooling)
    assert large.accelerators >= small.accelerators and large.racks >= small.racks
    assert large.facility.facility_power_w >= small.facility.facility_power_w * (1 - REL)
    assert large.facility.facility_power_w <= power_w * factor * (1 + REL)  # within its own budget


def _scenario(qps: float, pools: list[dict[str, Any]], objective: str = "tco", hours: float = 0.0) -> ScenarioSpec:
    services: list[dict[str, Any]] = [
        {"name": "ranking", "kind": "recsys", "model": "dlrm-medium", "qps": qps, "latency_slo": 0.02}]
    if hours:
        services.append({"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 4, "daily_hours": hours})
    return ScenarioSpec.model_validate({
        "name": "hX2", "phases": [{"name": "2025", "year": 2025}], "services": services, "pools": pools,
        "sites": [{"name": "ohio", "power": "200MW", "location": "ohio"}], "policy": {"objective": objective}})


ONE_POOL: list[dict[str, Any]] = [{"name": "h100", "device": "h100-sxm", "site": "ohio"}]
TWO_POOLS: list[dict[str, Any]] = [{"name": "h100", "device": "h100-sxm", "site": "ohio"},
             {"name": "mtia", "device": "mtia-v2", "site": "ohio", "price_usd_per_device": 9000, "serves": ["recsys"]},
             {"name": "msvp", "device": "msvp", "site": "ohio", "price_usd_per_device": 1500}]


@settings(max_examples=8, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([1e6, 2e7, 2e8]), st.sampled_from([1.05, 1.5, 4.0]))
def test_more_demand_never_lowers_a_single_pool_plans_devices_mw_or_cost(qps, factor) -> None:
    low = plan_scenario(_scenario(qps, ONE_POOL))
    high = plan_scenario(_scenario(qps * factor, ONE_POOL))
    assert high.devices >= low.devices
    assert high.facility_power_w >= low.facility_power_w * (1 - REL)
    assert high.capex_usd >= low.capex_usd * (1 - REL)  # type: ignore[operator]
    assert high.tco_usd_per_year >= low.tco_usd_per_year * (1 - REL)  # type: ignore[operator]


@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([1e7, 2e8]), st.sampled_from([1.5, 4.0]), st.sampled_from(["tco", "power", "capex"]),
       st.sampled_from([0.0, 3000.0]))
def test_more_demand_never_lowers_the_optimum_and_the_bound_stays_below_the_cost(qps, factor, objective,
                                                                                 hours) -> None:
    """Several pools: devices may fall (the mix moves to another device) but the optimum may not; the proved lower
    bound (`--optimality-gap`) is at most the plan's objective value."""
    low = plan_scenario(_scenario(qps, TWO_POOLS, objective, hours), optimality_gap=True)
    high = plan_scenario(_scenario(qps * factor, TWO_POOLS, objective, hours), optimality_gap=True)
    assert low.objective_value is not None and high.objective_value is not None
    assert high.objective_value >= low.objective_value * (1 - 1e-6)  # HiGHS's relative gap
    for plan in (low, high):
        assert plan.objective_lower_bound is not None and plan.objective_value is not None
        assert plan.objective_lower_bound <= plan.objective_value * (1 + 1e-9)
    assert low.objective_lower_bound is not None  # the smaller demand's bound is also below the larger's cost
    assert low.objective_lower_bound <= high.objective_value * (1 + 1e-9)


@settings(max_examples=12, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["h100-sxm", "gb200", "mtia-v2"]), st.sampled_from([3e7, 2e8]), st.floats(1.05, 1.6),
       st.floats(1.01, 1.5))
def test_a_higher_pue_never_fits_more_accelerators_in_a_power_budget(accelerator, power_w, pue, factor) -> None:
    """The budget is facility power: a larger overhead per IT watt leaves fewer IT watts for the accelerators."""
    lean = plan_campus(power_w, accelerator, overrides=CostOverrides().merged(pue=pue))
    heavy = plan_campus(power_w, accelerator, overrides=CostOverrides().merged(pue=pue * factor))
    assert heavy.accelerators <= lean.accelerators


@SETTINGS
@given(st.sampled_from(["h100-sxm", "b200", "a100-80gb", "mi300x"]), st.integers(8, 50000),
       st.sampled_from([20e3, 40e3, 60e3]), st.sampled_from([1.5, 2.0]))  # <= liquid cooling's 140 kW per rack
def test_a_higher_rack_power_limit_never_needs_more_racks(accelerator, count, rack_w, factor) -> None:
    tight = size_facility(accelerator=accelerator, count=count, cooling="liquid", rack_power_w=rack_w)
    loose = size_facility(accelerator=accelerator, count=count, cooling="liquid", rack_power_w=rack_w * factor)
    assert loose.racks <= tight.racks
    assert loose.accelerators_per_rack >= tight.accelerators_per_rack


@SETTINGS
@given(st.sampled_from(["meta-genai-roce-24k", "dgx-h100-superpod", "meta-rsc", "h800", "gb200"]),
       st.sampled_from([8, 64, 512, 1024]), st.sampled_from([2, 4, 8]), st.floats(1.0, 90.0))  # <= RSC's 16,000
def test_a_larger_job_fails_more_often_and_keeps_no_more_of_its_time(system, gpus, factor, days) -> None:
    """Job MTTF = 1 / (N x rate): more nodes, more failures over the same days; Daly's interval sqrt(2 d M) shrinks
    with M, and the share of wall clock lost to checkpoints, restarts and re-done work grows."""
    small = reliability_report(system, gpus, days)
    large = reliability_report(system, gpus * factor, days)
    assert large.job_mttf_s <= small.job_mttf_s * (1 + REL)
    assert large.expected_unexpected_interruptions >= small.expected_unexpected_interruptions * (1 - REL)
    assert large.checkpoint_interval_s <= small.checkpoint_interval_s * (1 + REL)
    assert large.goodput <= small.goodput * (1 + REL)


@settings(max_examples=6, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([0.03, 0.08, 0.2]), st.sampled_from([1.2, 3.0]), st.sampled_from([1e7, 2e8]))
def test_a_higher_electricity_price_never_lowers_a_plans_tco(usd_per_kwh, factor, qps) -> None:
    def tco(price: float) -> float:
        spec = _scenario(qps, TWO_POOLS, "tco")
        spec = spec.model_copy(update={"policy": spec.policy.model_copy(update={"electricity_usd_per_kwh": price})})
        plan = plan_scenario(spec)
        assert plan.objective_value is not None and plan.tco_usd_per_year is not None
        return plan.objective_value

    assert tco(usd_per_kwh * factor) >= tco(usd_per_kwh) * (1 - 1e-6)
