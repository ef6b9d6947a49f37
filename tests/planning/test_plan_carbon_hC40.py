"""Carbon as `facility` counts it, in every command that sums a fleet (helper hC40): `plan`, `compare`, `campus` and
`fleet-mix` reported the operational (location-based) tCO2e only, while `facility` also reports the hardware's
embodied share per year; now each reports operational, embodied (the same function: the catalog's kgCO2e per
accelerator over the servers' life) and their sum, and the same devices give the same tCO2e through each.
Also `facility`'s rack row for a part-filled rack: it showed the rack design (1 x 20.4 kW, 16 accelerators) for
one 8-GPU server; the racks are now reported by what they hold."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest

from infraplan.catalog.facility_loader import load_economics
from infraplan.catalog.hardware_costs import load_hardware_cost
from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus, plan_fleet
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _spec(device: str = "h100-sxm", installed: int = 1000, life: float | None = None,
          capex: float | None = None, name: str = "carbon") -> ScenarioSpec:
    """One pool of `installed` devices (sunk) at Ohio with a small ranking demand."""
    pool = {"name": "pool", "device": device, "site": "s", "installed": installed}
    if life is not None:
        pool["lifetime_years"] = life
    if capex is not None:
        pool["price_usd_per_device"] = capex
    return ScenarioSpec.model_validate({
        "name": name, "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": 1e5, "latency_slo": "10ms"}],
        "pools": [pool], "sites": [{"name": "s", "power": "50MW", "location": "ohio"}]})


@pytest.mark.parametrize("life", [None, 4.0])
def test_plan_and_facility_give_one_tco2e_for_the_same_devices(life: float | None) -> None:
    """1,000 H100 (125 servers) in a plan pool and in `facility --count 1000` at the same site: operational,
    embodied and total tCO2e per year equal, in the pool row, the phase and the plan; a pool's lifetime_years is
    the servers' life both amortise the embodied carbon over."""
    plan = plan_scenario(_spec(life=life))
    facility = size_facility(accelerator="h100-sxm", count=1000, location="ohio",
                             overrides=CostOverrides(server_life_years=life))
    (pool,), (phase,) = plan.pools, plan.phases
    assert pool.devices == facility.accelerators == 1000
    assert facility.embodied_co2_t_per_year is not None and facility.total_co2_t_per_year is not None
    for row in (pool, phase, plan):
        assert row.co2_t_per_year == pytest.approx(facility.co2_t_per_year, rel=1e-12)
        assert row.embodied_co2_t_per_year == pytest.approx(facility.embodied_co2_t_per_year, rel=1e-12)
        assert row.total_co2_t_per_year == pytest.approx(facility.total_co2_t_per_year, rel=1e-12)
    assert facility.total_co2_t_per_year == pytest.approx(facility.co2_t_per_year + facility.embodied_co2_t_per_year)
    assert plan.embodied_co2_reason is None


def test_embodied_per_year_is_the_catalog_figure_over_the_servers_life() -> None:
    """Hand-computed: 1,000 x the catalog's kgCO2e per H100 (its server share included) / 1,000 kg per t / the
    catalog's server life (5.5 years, economics.yaml); with a 4-year life, 5.5 / 4 times as much."""
    cost = load_hardware_cost("h100-sxm")
    assert cost is not None
    kg, life = cost.embodied_kgco2e_per_accelerator, load_economics().server_life_years
    plan = plan_scenario(_spec())
    assert plan.embodied_co2_t_per_year is not None and plan.total_co2_t_per_year is not None
    assert plan.embodied_co2_t_per_year == pytest.approx(1000 * kg / 1e3 / life, rel=1e-12)
    assert plan_scenario(_spec(life=4.0)).embodied_co2_t_per_year == pytest.approx(1000 * kg / 1e3 / 4.0)
    assert plan.embodied_co2_t_per_year > 0 and plan.total_co2_t_per_year > plan.co2_t_per_year


def test_a_pool_without_an_embodied_figure_says_so_and_keeps_its_operational_carbon(tmp_path: Path) -> None:
    """An accelerator of the user's with no catalog entry (MI300X's file at 760 W: no `extends`, no embodied
    figure): the pool's and the plan's embodied and total are null with the reason naming it, as `facility` says
    it; the operational figure is still reported. (Every catalog part has a figure since hC41.)"""
    own = tmp_path / "amd-own.yaml"
    own.write_text((files("infraplan.catalog") / "accelerators" / "mi300x.yaml").read_text()
                   .replace("tdp_w: 750W", "tdp_w: 760W"))
    plan = plan_scenario(_spec(device=str(own), installed=64, capex=42000))
    facility = size_facility(accelerator=str(own), count=64, location="ohio")
    (pool,) = plan.pools
    assert facility.embodied_co2_t_per_year is None and facility.total_co2_t_per_year is None
    assert pool.embodied_co2_t_per_year is None and plan.total_co2_t_per_year is None
    assert plan.embodied_co2_reason is not None and "amd-own" in plan.embodied_co2_reason
    assert pool.co2_t_per_year == pytest.approx(facility.co2_t_per_year, rel=1e-12) and pool.co2_t_per_year > 0


def test_compare_lists_operational_embodied_and_total_with_their_deltas() -> None:
    small, large = _spec(installed=1000, name="small"), _spec(installed=2000, name="large")
    c = compare_scenarios([small, large])
    assert {"co2_t_per_year", "embodied_co2_t_per_year", "total_co2_t_per_year"} <= set(c.metrics)
    a, b = c.scenarios
    assert a.embodied_co2_t_per_year is not None and b.embodied_co2_t_per_year is not None
    assert c.deltas[1]["embodied_co2_t_per_year"] == pytest.approx(b.embodied_co2_t_per_year
                                                                   - a.embodied_co2_t_per_year)
    assert c.deltas[1]["embodied_co2_t_per_year"] == pytest.approx(a.embodied_co2_t_per_year, rel=1e-9)  # linear


def test_campus_and_fleet_report_the_facility_s_embodied_carbon() -> None:
    campus = plan_campus(5e6, "h100-sxm", location="ohio")
    facility = size_facility(accelerator="h100-sxm", count=campus.accelerators, location="ohio")
    assert campus.embodied_co2_t_per_year == pytest.approx(facility.embodied_co2_t_per_year, rel=1e-12)
    assert campus.total_co2_t_per_year == pytest.approx(facility.total_co2_t_per_year, rel=1e-12)
    fleet = plan_fleet("meta-2024")
    embodied = [s.embodied_co2_t_per_year for s in fleet.sites]
    assert fleet.embodied_co2_t_per_year is not None and None not in embodied
    assert fleet.embodied_co2_t_per_year == pytest.approx(sum(e for e in embodied if e is not None))
    assert fleet.total_co2_t_per_year == pytest.approx(fleet.co2_t_per_year + fleet.embodied_co2_t_per_year)


def test_a_part_filled_rack_is_reported_by_what_it_holds() -> None:
    """One 8-GPU H100 server: one rack holding 8 accelerators at one server's draw, not the 16-GPU rack design."""
    from infraplan.cli.commands.facility import racks_text

    r = size_facility(accelerator="h100-sxm", count=8)
    (row,) = r.racks_by_fill
    assert r.racks == 1 and r.full_racks == 0 and r.accelerators_per_rack == 16  # the design, as before
    assert (row.racks, row.servers_per_rack, row.accelerators_per_rack, row.full) == (1, 1, 8, False)
    assert row.rack_power_w == pytest.approx(r.rack_power_w / 2)
    assert row.rack_power_w == pytest.approx(r.power_breakdown_w["accelerators"] + r.power_breakdown_w["hosts"])
    text = racks_text(r)
    assert text.startswith("1 × 10.2 kW (8 accelerators)") and "a full rack holds 16" in text


@pytest.mark.parametrize(("accelerator", "count"), [("h100-sxm", 5000), ("gb200", 100), ("h100-sxm", 4096)])
def test_racks_by_fill_add_up_to_the_racks_accelerators_and_server_power(accelerator: str, count: int) -> None:
    """5,000 H100: two 2,048-GPU zones of full racks and a 904-GPU zone whose last rack holds one server; 100 GB200:
    one NVL72 rack and one with 7 trays; 4,096 H100: full racks only."""
    r = size_facility(accelerator=accelerator, count=count)
    rows = r.racks_by_fill
    assert sum(x.racks for x in rows) == r.racks
    assert sum(x.racks for x in rows if x.full) == r.full_racks
    assert sum(x.racks * x.accelerators_per_rack for x in rows) == r.accelerators
    p = r.power_breakdown_w  # a rack holds its servers and its domains' switch trays (NVL72's: hN52)
    servers_w = p["accelerators"] + p["hosts"] + p["scale_up_switches"]
    assert sum(x.racks * x.rack_power_w for x in rows) == pytest.approx(servers_w, rel=1e-12)
    assert [x.full for x in rows] == [True] + [False] * (len(rows) - 1)
    assert (len(rows) == 1) == (count == 4096)


def test_the_plan_table_shows_operational_embodied_and_total(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli.commands.plan import render_plan

    plan = plan_scenario(_spec())
    render_plan(plan)
    out = capsys.readouterr().out
    assert "emb." in out and "embodied" in out
    assert f"= {plan.total_co2_t_per_year:,.0f} tCO2e/year" in out.replace("\n", "")
