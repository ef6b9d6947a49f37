"""One cost model: an H100-hour costs the same in every command that prices one (same cluster, same site).

Each price is read from a different public API's output, never by calling the cost helper twice.
"""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import HOURS_PER_YEAR, SECONDS_PER_YEAR
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving

SYSTEM = "meta-genai-roce-24k"


def run_json(capsys, args: list[str]) -> dict:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_one_year_convention():
    assert HOURS_PER_YEAR == 8760.0
    assert SECONDS_PER_YEAR == 8760.0 * 3600.0


def test_an_h100_hour_of_a_system_costs_the_same_in_facility_train_serve_and_serve_plan(capsys):
    facility = size_facility(system=SYSTEM).usd_per_gpu_hour
    train = run_json(capsys, ["train", "llama3-8b", "--system", SYSTEM, "--gpus", "16", "--tp", "8",
                              "--seq-len", "2048", "--global-batch", "32", "--tokens", "1T", "--json"])
    train = train["usd_per_gpu_hour"]
    serve = estimate_serving("llama3-8b", SYSTEM, 8, offline=True, input_len=100, output_len=10,
                             requests=20).usd_per_hour_per_gpu
    plan = search_capacity("llama3-8b", SYSTEM, 2.0, input_len=200, output_len=20, ttft_slo=2.0, tpot_slo=0.2,
                           requests=60, max_gpus=8, dtypes=("bf16",))
    assert plan.feasible and plan.serve is not None and plan.gpus
    assert plan.serve.steady_output_tokens_per_s is not None  # the rate the price is over (hJ57: was the whole run's)
    serve_plan = plan.serve.usd_per_million_tokens * 3600.0 * plan.serve.steady_output_tokens_per_s / 1e6 / plan.gpus
    assert 1.0 < facility < 1.75  # the cost model's owned hour, not the old $1.75 serving table
    assert train == pytest.approx(facility, rel=1e-12)
    assert serve == pytest.approx(facility, rel=1e-12)
    assert serve_plan == pytest.approx(facility, rel=1e-9)


def test_an_h100_hour_of_the_generic_node_costs_the_same_in_serve_fleet_mix_and_facility():
    facility = size_facility(accelerator="h100-sxm", count=8).usd_per_gpu_hour
    serve = estimate_serving("llama3-8b", "h100-sxm", 8, offline=True, input_len=100, output_len=10,
                             requests=20).usd_per_hour_per_gpu
    spec = FleetSpec(objective="tco", services=[{"name": "rank", "kind": "recsys", "model": "dlrm-medium",
                                                 "qps": 1.0e5, "latency_slo": "20ms"}],
                     pools=[{"name": "h100", "device": "h100-sxm"}])  # no capex: the cost model prices it
    (row,) = plan_fleet(spec).assignment
    assert serve == pytest.approx(facility, rel=1e-12)
    assert row["usd_per_device_hour"] == pytest.approx(facility, rel=1e-12)
    assert row["tco_usd_per_year"] == pytest.approx(facility * HOURS_PER_YEAR * row["devices"], rel=1e-12)


def test_a_campus_prices_its_hour_as_facility_does_for_the_same_cluster():
    campus = plan_campus(2e6, "h100-sxm")  # within one non-blocking zone: the cluster `facility` builds
    same = size_facility(accelerator="h100-sxm", count=campus.accelerators)
    assert campus.facility.usd_per_gpu_hour == pytest.approx(same.usd_per_gpu_hour, rel=1e-12)
    campus = plan_campus(20e6, "h100-sxm")  # zones joined at 1:7: its own IT load, through the same cost model
    from infraplan.cluster import Cluster
    from infraplan.cluster.cost import site_inputs
    from infraplan.facility.campus_fabric import campus_load
    from infraplan.facility.facility import facility_report

    layout = Cluster.for_accelerator("h100-sxm").layout
    site = site_inputs(layout)
    same = facility_report(layout, campus_load(layout, campus.accelerators, site.cooling, site.cooling_name), site)
    assert campus.facility.usd_per_gpu_hour == pytest.approx(same.usd_per_gpu_hour, rel=1e-12)
    assert campus.facility.tco_usd_per_year == pytest.approx(
        campus.facility.usd_per_gpu_hour * campus.accelerators * HOURS_PER_YEAR)


def test_a_fleet_mix_pool_with_its_own_capex_is_the_cost_models_server_price_over_the_8760_hour_year():
    spec = FleetSpec(objective="tco", electricity_usd_per_kwh=0.1, pue=1.2,
                     services=[{"name": "rank", "kind": "recsys", "model": "dlrm-medium", "qps": 1.0e5,
                                "latency_slo": "20ms"}],
                     pools=[{"name": "h100", "device": "h100-sxm", "capex_usd": 55_000, "lifetime_years": 5.5}])
    result = plan_fleet(spec)
    (row,) = result.assignment
    from infraplan.cluster.cost import CostOverrides

    same = size_facility(accelerator="h100-sxm", count=8, overrides=CostOverrides(
        electricity_usd_per_mwh=100.0, pue=1.2, server_usd_per_accelerator=55_000, server_life_years=5.5))
    per_device = row["tco_usd_per_year"] / row["devices"]
    assert per_device == pytest.approx(same.tco_usd_per_year / 8, rel=1e-12)
    assert per_device == pytest.approx(row["usd_per_device_hour"] * HOURS_PER_YEAR, rel=1e-12)
    servers = same.annualized_capex_usd_per_year["servers"] / 8
    assert servers == pytest.approx(55_000 / 5.5)  # straight-line over the pool's lifetime
    energy = result.totals.energy_usd_per_year / result.totals.devices_bought  # the whole servers bought (hF2)
    assert energy == pytest.approx(same.opex_breakdown_usd_per_year["electricity"] / 8, rel=1e-12)
