"""`infraplan plan` on a pool the catalog does not price: power and carbon objectives need no price (the money
fields are null with `cost_reason`, as `facility` does); capex and TCO objectives refuse in one line (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from infraplan.cli import main
from infraplan.facility.facility import size_facility
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _spec(objective: str, *, priced_too: bool = False, video: bool = False) -> ScenarioSpec:
    pools = [{"name": "mi", "device": "mi300x", "site": "a"}]  # no server price in hardware_costs.yaml
    services = [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}]
    if priced_too:
        pools.append({"name": "h100", "device": "h100-sxm", "site": "a", "available": 8})
    if video:
        pools = [{"name": "msvp", "device": "msvp", "site": "a", "host_power_w": 50}]
        services = [{"name": "vod", "kind": "video", "daily_hours": 1000}]
    return ScenarioSpec.model_validate({
        "name": f"unpriced-{objective}", "phases": [{"name": "2025", "year": 2025}], "services": services,
        "pools": pools, "sites": [{"name": "a", "power": "10MW", "location": "ohio"}],
        "policy": {"objective": objective}})


@pytest.mark.parametrize("objective", ["power", "carbon"])
def test_power_and_carbon_objectives_plan_an_unpriced_pool(objective: str) -> None:
    plan = plan_scenario(_spec(objective))
    pool = plan.pools[0]
    assert plan.devices > 0 and plan.facility_power_w > 0 and plan.co2_t_per_year > 0
    assert plan.capex_usd is None and plan.tco_usd_per_year is None and pool.capex_usd is None
    assert plan.phases[0].capex_usd is None and plan.phases[0].tco_usd_per_year is None
    assert plan.cost_reason is not None and "mi300x" in plan.cost_reason and "price_usd_per_device" in plan.cost_reason
    # the same devices at the same site: the facility command's power (which also prices nothing for mi300x)
    fac = size_facility(accelerator="mi300x", count=pool.devices, location="ohio")
    assert pool.it_power_w == pytest.approx(fac.it_power_w) and fac.capex_usd is None


@pytest.mark.parametrize("objective", ["capex", "tco"])
def test_cost_objectives_refuse_an_unpriced_pool_in_one_line(objective: str, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(_spec(objective).model_dump_json())
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mi300x" in err and objective in err and "price_usd_per_device" in err


def test_a_priced_pool_keeps_its_money_beside_an_unpriced_one(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(_spec("power", priced_too=True).model_dump_json())
    report = tmp_path / "r.html"
    assert main(["plan", str(path), "--json", "--out", str(tmp_path), "--report", str(report)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["capex_usd"] is None and "mi300x" in data["cost_reason"]
    money = {r["pool"]: r["capex_usd"] for r in data["pools"]}
    assert money.get("mi", "absent") is None or "mi" not in money  # the MILP may not use it
    assert all(v is None or v > 0 for v in money.values())
    assert [r["capex_usd"] for r in pq.read_table(tmp_path / "phases.parquet").to_pylist()] == [None]
    assert "Plotly.newPlot" in report.read_text()
    assert main(["plan", str(path)]) == 0 and "not priced" in capsys.readouterr().out


def test_a_video_pool_without_capex_usd_plans_on_power_and_compares() -> None:
    spec = _spec("power", video=True)
    plan = plan_scenario(spec)
    assert plan.devices > 0 and plan.capex_usd is None and "msvp" in str(plan.cost_reason)
    both = compare_scenarios([spec, _spec("power")])
    assert both.deltas[1]["capex_usd"] is None
    assert both.deltas[1]["devices"] == both.scenarios[1].devices - plan.devices


def test_compare_prints_an_unpriced_scenario_without_a_delta(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(_spec("power", video=True).model_dump_json())
    b.write_text(_spec("carbon").model_dump_json())
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "not priced" in out and "mi300x" in out


def test_a_pools_lifetime_years_is_its_servers_depreciation_life() -> None:
    """`lifetime_years` was read and ignored: the TCO of a 2-year life must be above the default 5.5 years'."""
    data = _spec("tco").model_dump()
    data["pools"][0]["price_usd_per_device"] = 20000
    short = json.loads(json.dumps(data))
    short["pools"][0]["lifetime_years"] = 2
    tco_default = plan_scenario(ScenarioSpec.model_validate(data)).tco_usd_per_year
    tco_short = plan_scenario(ScenarioSpec.model_validate(short)).tco_usd_per_year
    assert tco_default is not None and tco_short is not None and tco_short > 1.5 * tco_default


def test_train_tokens_on_an_unpriced_accelerator_gives_the_run_without_its_cost(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`train --tokens` on MI300X stopped at the missing server price; time, energy and CO2 need none."""
    args = ["train", "llama3-8b", "--system", "mi300x-cluster", "--gpus", "64", "--tp", "1", "--seq-len", "8192",
            "--global-batch", "512", "--tokens", "1T"]
    assert main([*args, "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["cost_usd"] is None and run["usd_per_gpu_hour"] is None and "mi300x" in run["cost_reason"]
    assert run["time_to_train_s"] > 0 and run["energy_mwh"] > 0 and run["co2_t"] > 0
    assert main([*args, "--server-price", "20000", "--json"]) == 0
    priced = json.loads(capsys.readouterr().out)
    assert priced["cost_usd"] > 0 and priced["cost_reason"] is None
    assert priced["energy_mwh"] == pytest.approx(run["energy_mwh"])


def test_a_pool_whose_device_is_not_its_systems_accelerator_is_refused(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """`device: h100-sxm, system: gb200-nvl72-superpod` planned silently: sized and powered as GB200 while the
    spares and the training memory floor read H100."""
    data = _spec("power").model_dump()
    data["pools"][0].update(device="h100-sxm", system="gb200-nvl72-superpod")
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    assert main(["plan", str(path)]) == 2
    err = capsys.readouterr().err
    assert "h100-sxm" in err and "gb200" in err and err.count("\n") == 1


def test_fleet_mix_no_longer_prices_an_unpriced_pool_at_zero(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """fleet-mix priced a pool without capex_usd whose device the catalog does not price at $0, so objective tco
    chose MTIA v2 as free ($0.012 per device-hour: its energy). Now tco refuses it; power plans it, money null."""
    text = (Path(__file__).resolve().parents[2] / "examples" / "fleet-mix.yaml").read_text()
    path = tmp_path / "fm.yaml"
    unpriced = text.replace(  # the example names MTIA v2's server since hW55 (`system: mtia-v2-rack`)
        "{name: mtia-v2, device: mtia-v2, system: mtia-v2-rack, available: 3000, price_usd_per_device: 9000}",
        "{name: mtia-v2, device: mtia-v2, system: mtia-v2-rack, available: 3000}")
    assert unpriced != text
    path.write_text(unpriced)
    assert main(["fleet-mix", str(path), "--objective", "tco"]) == 2
    err = capsys.readouterr().err
    assert "mtia-v2" in err and "price_usd_per_device" in err and err.count("\n") == 1
    assert main(["fleet-mix", str(path), "--objective", "power", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["tco_usd_per_year"] is None and "mtia-v2" in data["cost_reason"]
    mtia = [a for a in data["assignment"] if a["pool"] == "mtia-v2"]
    assert mtia and all(a["tco_usd_per_year"] is None for a in mtia)
    assert data["saving_vs_gpu_only"]["power_w"] > 0 and data["saving_vs_gpu_only"]["tco_usd_per_year"] is None
