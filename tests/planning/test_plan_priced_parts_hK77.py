"""A plan's totals over its priced parts (hK77): where a pool has no price its capex / fleet value / TCO are null,
and `capex_priced_usd`, `fleet_value_priced_usd` and `tco_priced_usd_per_year` hold what is priced without it (its
network and facility, by the same spend rules), `capex_unpriced_parts` names its servers; as `facility` and `campus`
give `capex_priced_usd` / `capex_unpriced_parts` (hK76). In `plan`'s text and JSON and in `compare`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.facility.facility import size_facility
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

ROOT = Path(__file__).resolve().parents[2]
PRICE = 52_000.0  # USD per GB300 (gigawatt-2027's pool price)


def _spec(price: float | None = None, retire: bool = False) -> ScenarioSpec:
    """GB300 NVL72 (no catalog price) beside an H100 installed base; `retire`: the base retires and GB300 takes the
    building (planning/site_building.py)."""
    gb: dict[str, object] = {"name": "gb", "device": "gb300", "system": "gb300-nvl72", "site": "a"}
    if price is not None:
        gb["price_usd_per_device"] = price
    phases = [{"name": "2026", "year": 2026}, {"name": "2028", "year": 2028}]
    growth = {"2028": 3.0}
    h100: dict[str, object] = {"name": "h100", "device": "h100-sxm", "site": "a", "installed": 16, "available": 16}
    if retire:
        phases.append({"name": "2030", "year": 2030})
        growth = {"2028": 1.5, "2030": 3.0}
        gb["from_year"] = 2028
        h100.update(installed=32, available=32, lifetime_years=3)
    return ScenarioSpec.model_validate({
        "name": f"gb300-{'priced' if price else 'unpriced'}", "phases": phases,
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "200M", "latency_slo": "10ms",
                      "growth": growth}],
        "pools": [gb, h100], "sites": [{"name": "a", "power": "10MW", "location": "ohio"}],
        "policy": {"objective": "power"}})


@pytest.mark.parametrize("retire", [False, True])
def test_priced_parts_plus_the_servers_is_the_priced_plan(retire: bool) -> None:
    bare, priced = plan_scenario(_spec(retire=retire)), plan_scenario(_spec(PRICE, retire))
    bought = sum(r.new_devices for r in bare.pools if r.pool == "gb")
    assert bought > 0 and bought == sum(r.new_devices for r in priced.pools if r.pool == "gb")  # the same plan
    assert bare.capex_usd is None and bare.fleet_value_usd is None and bare.tco_usd_per_year is None
    assert bare.capex_unpriced_parts == ["servers of pool gb (gb300)"] and priced.capex_unpriced_parts == []
    # the network and facility the unpriced pool buys, by the same spend rules (a refresh reuses the building)
    assert bare.capex_priced_usd + bought * PRICE == pytest.approx(priced.capex_usd, rel=1e-12)
    assert bare.fleet_value_priced_usd + bought * PRICE == pytest.approx(priced.fleet_value_usd, rel=1e-12)
    assert 0 < bare.tco_priced_usd_per_year < priced.tco_usd_per_year  # servers at $0: no depreciation of them
    assert bare.capex_priced_usd == pytest.approx(sum(ph.capex_priced_usd for ph in bare.phases), rel=1e-12)
    gb = next(r for r in bare.pools if r.pool == "gb" and r.phase == bare.phases[-1].phase)
    assert gb.capex_usd is None and gb.tco_usd_per_year is None and gb.tco_priced_usd_per_year > 0
    assert gb.capex_priced_usd > 0 and gb.capex_priced_usd <= gb.fleet_value_priced_usd
    if not retire:  # bought whole in one phase on a new hall: the pool's priced value is `facility`'s priced capex
        alone = size_facility(accelerator="gb300-nvl72", count=gb.devices, location="ohio")
        assert gb.capex_priced_usd == pytest.approx(sum(alone.capex_priced_usd.values()), rel=1e-9)


def test_a_priced_plan_s_priced_parts_are_its_money() -> None:
    plan = plan_scenario(load_scenario(str(ROOT / "examples" / "plan-refresh.yaml")))
    assert plan.capex_unpriced_parts == [] and plan.capex_usd is not None and plan.capex_usd > 0
    assert (plan.capex_priced_usd, plan.fleet_value_priced_usd, plan.tco_priced_usd_per_year) == (
        plan.capex_usd, plan.fleet_value_usd, plan.tco_usd_per_year)
    for row in plan.pools:
        assert (row.capex_priced_usd, row.tco_priced_usd_per_year) == (row.capex_usd, row.tco_usd_per_year)


def test_plan_text_and_json_carry_the_priced_parts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(_spec().model_dump_json())
    assert main(["plan", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["capex_usd"] is None and data["capex_priced_usd"] > 0
    assert data["capex_unpriced_parts"] == ["servers of pool gb (gb300)"]
    assert all("capex_priced_usd" in ph and "tco_priced_usd_per_year" in ph for ph in data["phases"])
    assert main(["plan", str(path)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "priced parts (no servers of pool gb (gb300)): capex $" in text and "/year" in text


def test_compare_gives_priced_parts_and_deltas_only_over_the_same_parts(
        capsys: pytest.CaptureFixture[str]) -> None:
    bare, priced = _spec(), _spec(PRICE)
    c = compare_scenarios([bare, priced, bare])
    assert {"capex_priced_usd", "fleet_value_priced_usd", "tco_priced_usd_per_year"} <= set(c.metrics)
    # the priced scenario prices the servers the first leaves out: no delta; the same parts: one
    assert c.deltas[1]["capex_priced_usd"] is None and c.deltas[1]["capex_usd"] is None
    assert c.deltas[2]["capex_priced_usd"] == 0.0 and c.deltas[2]["tco_priced_usd_per_year"] == 0.0
    c2 = compare_scenarios([priced, priced])
    assert c2.deltas[1]["capex_priced_usd"] == 0.0 == c2.deltas[1]["capex_usd"]
    from infraplan.cli.commands.compare import render_comparison

    render_comparison(c)
    text = capsys.readouterr().out
    assert "capex, priced parts" in text and "gb300-unpriced: priced parts (no servers of pool gb (gb300))" in text
    render_comparison(c2)
    assert "priced parts" not in capsys.readouterr().out  # every pool priced: the money rows are the sums
