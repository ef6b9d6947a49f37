"""One cost model for fleet-mix: a pool's `capex_usd` and the catalog's price of the same device give the same
$ per device-hour, the fleet spec's site inputs move every pool, and `facility`, `campus`, `plan`, `compare` and
`serve-plan` charge what fleet-mix charges for one device at one site (each read from its own public API)."""

from __future__ import annotations

import pytest

from infraplan.cluster.cost import HOURS_PER_YEAR, CostOverrides
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.recsys.estimate import estimate_recsys
from infraplan.serving.capacity import search_capacity

RANK = {"name": "rank", "kind": "recsys", "model": "dlrm-medium", "qps": 1.0e5, "latency_slo": "20ms"}
SITE = {"electricity_usd_per_kwh": 0.12, "pue": 1.25, "load_factor": 0.7}  # not the catalog's default site
OVERRIDES = CostOverrides(electricity_usd_per_mwh=120.0, pue=1.25, load_factor=0.7, server_life_years=4.5,
                          server_usd_per_accelerator=42_000.0)


VIDEO = {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264", "daily_hours": 100}


def hour(pool: dict, **site: float) -> float:
    """fleet-mix's $ per device-hour of one pool serving a small ranking (a video ASIC: video) service."""
    service = VIDEO if pool["device"] == "msvp" else RANK
    (row,) = plan_fleet(FleetSpec(objective="tco", services=[service], pools=[pool], **site)).assignment
    return float(row["usd_per_device_hour"])


def test_a_pools_capex_and_the_catalogs_price_give_the_same_device_hour() -> None:
    own = {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000}  # hardware_costs.yaml's H100 price
    catalog = {"name": "h100", "device": "h100-sxm"}
    assert hour(own) == pytest.approx(hour(catalog), rel=1e-12)  # before: $0.98 against $1.24
    assert hour({**own, "lifetime_years": 4.5}, **SITE) == pytest.approx(
        hour({**catalog, "lifetime_years": 4.5}, **SITE), rel=1e-12)
    assert hour({**own, "price_usd_per_device": 55_000}) > hour(own)  # the capex is the server price


@pytest.mark.parametrize("pool", [{"name": "h100", "device": "h100-sxm"},
                                  {"name": "mtia", "device": "mtia-v2", "price_usd_per_device": 9_000},
                                  {"name": "msvp", "device": "msvp", "price_usd_per_device": 1_500}])
def test_every_site_input_of_the_spec_moves_every_pool(pool: dict) -> None:
    base = hour(pool)
    assert hour(pool, electricity_usd_per_kwh=0.16) > base
    assert hour(pool, pue=1.5) > base
    assert hour(pool, load_factor=0.5) < base
    assert hour({**pool, "lifetime_years": 3.0}) > base


def scenario(capex: float | None, qps: float) -> ScenarioSpec:
    pool = {"name": "h100", "device": "h100-sxm", "site": "s", "lifetime_years": 4.5}
    return ScenarioSpec(name=f"capex-{capex}", phases=[{"name": "y", "year": 2026}],
                        services=[{**RANK, "qps": qps}],
                        pools=[pool if capex is None else {**pool, "price_usd_per_device": capex}],
                        sites=[{"name": "s", "power": "10MW", "location": "us-average", "cooling": "air"}],
                        policy=SITE)


def test_facility_campus_plan_and_compare_charge_fleet_mixs_hour_for_one_device_at_one_site() -> None:
    fleet = hour({"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000, "lifetime_years": 4.5}, **SITE)
    facility = size_facility(accelerator="h100-sxm", count=8, cooling="air", location="us-average",
                             overrides=OVERRIDES)
    assert facility.usd_per_gpu_hour == pytest.approx(fleet, rel=1e-12)
    campus = plan_campus(facility.facility_power_w, "h100-sxm", cooling="air", location="us-average",
                         overrides=OVERRIDES)
    assert campus.accelerators == 8
    assert campus.facility.usd_per_gpu_hour == pytest.approx(fleet, rel=1e-12)
    qps = 7.5 * estimate_recsys("dlrm-medium", "h100-sxm", latency_slo_s=0.02).qps  # eight devices
    both = compare_scenarios([scenario(42_000, qps), scenario(None, qps)])  # own capex, then the catalog's
    for plan in both.scenarios:
        assert plan.devices == 8 and plan.tco_usd_per_year is not None
        assert plan.tco_usd_per_year / (8 * HOURS_PER_YEAR) == pytest.approx(fleet, rel=1e-12)
    assert both.deltas[1]["tco_usd_per_year"] == pytest.approx(0.0, abs=1e-6)


def test_serve_plan_charges_fleet_mixs_hour_at_the_default_site() -> None:
    fleet = hour({"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000})  # defaults: $0.08, 1.1
    assert fleet == pytest.approx(size_facility(accelerator="h100-sxm", count=8).usd_per_gpu_hour, rel=1e-12)
    plan = search_capacity("llama3-8b", "h100-sxm", 2.0, input_len=200, output_len=20, ttft_slo=2.0, tpot_slo=0.2,
                           requests=60, max_gpus=8, dtypes=("bf16",))
    assert plan.feasible and plan.serve is not None and plan.gpus
    assert plan.serve.steady_output_tokens_per_s is not None  # the rate the price is over (hJ57: was the whole run's)
    serve_plan = plan.serve.usd_per_million_tokens * 3600.0 * plan.serve.steady_output_tokens_per_s / 1e6 / plan.gpus
    assert serve_plan == pytest.approx(fleet, rel=1e-9)
