"""`plan` prices each pool at its own size, as fleet-mix does (hW2, session 35): the MILP's per-device coefficients
were the pool's at 1,024 devices while every figure it reports is at the pool's own count, so the programme
optimised one cost and reported another. Now both commands run one fixed point (planning/sized_pricing.py): solve,
re-price each pool at the devices it is reported at, re-solve until they repeat."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario import REFERENCE_DEVICES, plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import PRICING_ROUNDS

MONEY = {"electricity_usd_per_kwh": 0.12, "pue": 1.25, "load_factor": 0.7}  # not the catalog's default site
SERVICE = {"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": "40M", "latency_slo": "20ms"}
H100 = {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000}


def _scenario(objective: str, qps: float | str) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "sized", "phases": [{"name": "2026", "year": 2026}], "services": [{**SERVICE, "qps": qps}],
        "pools": [{**H100, "site": "s"}], "sites": [{"name": "s", "power": "10MW", "location": "us-average"}],
        "policy": {"objective": objective, **MONEY}})


def _whole_servers(objective: str) -> ScenarioSpec:
    """The service at 63.5 devices' capacity: 64 H100 used, 8 whole servers, no spares, so the MILP's devices are
    the reported ones (a recsys device's capacity from a first plan: served / devices). 64 H100 are one switch
    tier ($10,576/yr, 1,691 W per device at this site); 1,024, the old reference, two ($11,182, 1,756 W)."""
    (row,) = plan_scenario(_scenario(objective, SERVICE["qps"])).services
    return _scenario(objective, 63.5 * row.served / row.devices)


@pytest.mark.parametrize(("objective", "figure"), [("tco", "tco_usd_per_year"), ("power", "facility_power_w"),
                                                    ("capex", "fleet_value_usd")])
def test_the_objective_is_the_sum_of_the_reported_pool_figures(objective: str, figure: str) -> None:
    spec = _whole_servers(objective)
    plan = plan_scenario(spec)
    (row,) = plan.pools
    assert plan.objective_value is not None and row.devices == 64 and row.spare_devices == 0
    assert [s.devices for s in plan.services] == [64]
    assert plan.objective_value == pytest.approx(getattr(row, figure), rel=1e-9)
    assert plan.objective_value == pytest.approx(getattr(plan, figure), rel=1e-9)
    # before: priced at 1,024 devices (a 2-tier fabric's share per device), not the 64 reported
    ref = pool_money(spec, spec.pools[0], spec.sites[0], REFERENCE_DEVICES)
    at_ref = float(getattr(ref, {"facility_power_w": "facility_w", "fleet_value_usd": "capex_usd"}.get(figure, figure))
                   ) / ref.devices * 64
    assert abs(at_ref / plan.objective_value - 1) > 1e-4
    assert plan.pricing_converged is True and 2 <= plan.pricing_rounds <= PRICING_ROUNDS
    assert plan.pricing is not None and "converged" in plan.pricing and "1,024 devices first" in plan.pricing


def test_plan_and_fleet_mix_give_one_price_per_device_for_one_pool_and_count() -> None:
    """40M QPS of dlrm-high on H100: 133 devices in both commands (housed as 136, 17 whole servers); every figure
    per device is the same in both (the one cost model at the pool's own count)."""
    fleet = plan_fleet(FleetSpec.model_validate({"objective": "tco", "services": [SERVICE], "pools": [H100],
                                                 **MONEY}))
    plan = plan_scenario(_scenario("tco", SERVICE["qps"]))
    (f,) = fleet.pools
    (p,) = plan.pools
    assert f.used == 133 and [s.devices for s in plan.services] == [133] and p.devices == 136
    assert f.priced_at_devices == f.devices_bought == p.devices == 136  # hF2: fleet-mix buys whole servers too
    assert plan.pricing_converged and fleet.solver["pricing_converged"]
    assert f.tco_usd_per_year is not None and f.capex_usd is not None and f.usd_per_device_hour is not None
    assert p.tco_usd_per_year is not None and p.fleet_value_usd is not None and f.facility_power_w is not None
    rel = 1e-9
    assert p.tco_usd_per_year / p.devices == pytest.approx(f.tco_usd_per_year / f.devices_bought, rel=rel)
    assert p.tco_usd_per_year / (p.devices * 8760) == pytest.approx(f.usd_per_device_hour, rel=rel)
    assert p.fleet_value_usd / p.devices == pytest.approx(f.capex_usd / f.devices_bought, rel=rel)
    assert p.it_power_w / p.devices == pytest.approx(f.power_w_per_device, rel=rel)
    assert p.facility_power_w / p.devices == pytest.approx(f.facility_power_w / f.devices_bought, rel=rel)


def test_plan_says_how_it_priced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(json.dumps(_scenario("tco", SERVICE["qps"]).model_dump(mode="json", exclude_none=True)))
    assert main(["plan", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pricing_rounds"] >= 2 and out["pricing_converged"] is True
    assert out["objective_unit"].startswith("USD")
    assert main(["plan", str(path)]) == 0
    assert "pricing: each pool priced at its own size" in capsys.readouterr().out


def test_the_bound_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    from infraplan.planning import scenario

    monkeypatch.setattr(scenario, "PRICING_ROUNDS", 1)
    plan = plan_scenario(_scenario("tco", SERVICE["qps"]))
    assert plan.pricing_rounds == 1 and plan.pricing_converged is False
    assert plan.pricing is not None and "no fixed point in 1 solves (the bound)" in plan.pricing


def test_the_own_size_price_moves_the_assignment_to_the_cheaper_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    """40M QPS on H100 or A100 ($12,050): at the 1,024-device price (2 switch tiers at 1,024 and at 136) 133 H100
    look cheaper, but 136 H100 cost $11,382 a device a year against $11,182 at 1,024 (9 switches for 17 servers vs
    48 for 128), so the re-solve moves to A100; the counts then cycle (an unused pool goes back to its reference
    price) and the answer is the assignment visited that costs least at its own prices: 334 A100, below the
    reference-priced answer (132 H100 + 2 A100) in the TCO the plan reports. Since hW3 the MILP buys whole servers:
    both answers are 120 H100 + 32 A100 (15 + 4 servers, $1.475 M/yr, below 334 A100's $1.509 M), still a cycle;
    tests/planning/test_plan_whole_servers_hW3.py."""
    from infraplan.planning import scenario

    data = _scenario("tco", SERVICE["qps"]).model_dump(mode="json", exclude_none=True)
    data["pools"].append({"name": "a100", "device": "a100-80gb", "site": "s", "price_usd_per_device": 12_050})
    spec = ScenarioSpec.model_validate(data)
    plan = plan_scenario(spec)
    monkeypatch.setattr(scenario, "PRICING_ROUNDS", 1)  # the reference price's answer (before hW2)
    monkeypatch.setattr(scenario, "pools_alone", lambda *a: [])  # and no pool alone (hP70: A100 alone, 334, is kept)
    monkeypatch.setattr(scenario, "SEARCH_COUNTS_MAX", -1)  # nor the bound's search (hP71: it finds hW4's answer)
    before = plan_scenario(spec)
    assert [(s.pool, s.devices) for s in before.services] == [("h100", 120), ("a100", 32)]  # hW2: 132 + 2
    # hW4: the tier brackets then find 64 H100 (one switch) + 176 A100 bought, $1.466 M/yr (hW2: 334 A100; hW3:
    # 120 H100 + 32 A100, a cycle)
    assert [(s.pool, s.devices) for s in plan.services] == [("h100", 64), ("a100", 173)]
    assert plan.pricing is not None and "a cheaper assignment" in plan.pricing
    assert plan.tco_usd_per_year is not None and before.tco_usd_per_year is not None
    assert plan.tco_usd_per_year <= before.tco_usd_per_year
