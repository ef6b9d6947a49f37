"""fleet-mix prices each pool at the size the MILP gives it (hW, session 35): the one cost model for that many
devices, so a pool's power and money per device are `facility --accelerator DEVICE --count N`'s for its N devices
(the fabric's tiers and switches per device depend on N), not an 8-device reference cluster's. The programme needs
linear costs: it is re-solved at each pool's own price until the counts repeat (a bounded fixed point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import CostOverrides
from infraplan.facility import size_facility
from infraplan.planning.fleet_mix import PRICING_ROUNDS, plan_fleet
from infraplan.planning.fleet_spec import FleetSpec

SITE = {"electricity_usd_per_kwh": 0.12, "pue": 1.25, "load_factor": 0.7}  # not the catalog's default site
LATE = {"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": "40M", "latency_slo": "20ms"}
EARLY = {"name": "early", "kind": "recsys", "model": "dlrm-medium", "qps": "400M", "latency_slo": "20ms"}
H100 = {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000}
MTIA = {"name": "mtia", "device": "mtia-v2", "price_usd_per_device": 9_000}


def _fleet(objective: str, services: list[dict], pools: list[dict]) -> FleetSpec:
    return FleetSpec.model_validate({"objective": objective, "services": services, "pools": pools, **SITE})


@pytest.mark.parametrize(("service", "pool"), [(LATE, H100), (EARLY, MTIA)], ids=["h100", "mtia-v2"])
@pytest.mark.parametrize("objective", ["power", "tco"])
def test_a_pools_power_and_money_are_facilitys_for_its_own_count(service: dict, pool: dict, objective: str) -> None:
    r = plan_fleet(_fleet(objective, [service], [pool]))
    (row,) = r.assignment
    (p,) = r.pools
    n = row["devices"]
    # hF2 (session 36): the pool buys whole servers and is priced at them (133 H100 used, 17 servers, 136 bought)
    assert n >= 100 and p.used == n and r.totals.devices == n  # 133 H100, 882 MTIA
    assert p.priced_at_devices == p.devices_bought == r.totals.devices_bought == -(-n // 8) * 8
    f = size_facility(accelerator=pool["device"], count=n, overrides=CostOverrides(
        electricity_usd_per_mwh=120.0, pue=1.25, load_factor=0.7,
        server_usd_per_accelerator=pool["price_usd_per_device"],
        server_life_years=5.5))
    per = f.accelerators  # whole servers: facility houses 133 H100 in 17 nodes (136), priced per accelerator
    assert f.usd_per_gpu_hour is not None and f.tco_usd_per_year is not None and f.capex_total_usd is not None
    rel = 1e-9
    # before: the 8-device reference's ($1.2372 / 1,451.25 W per H100 at the default site, 152.1 W per MTIA v2)
    assert row["usd_per_device_hour"] == pytest.approx(f.usd_per_gpu_hour, rel=rel)
    assert p.usd_per_device_hour == pytest.approx(f.usd_per_gpu_hour, rel=rel)
    assert p.power_w_per_device == pytest.approx(f.it_power_w / per, rel=rel)
    for got, want in ((row["power_w"], f.it_power_w), (row["tco_usd_per_year"], f.tco_usd_per_year)):
        assert got == pytest.approx(want * n / per, rel=rel)  # a row: its devices used
    for got, want in ((p.power_w, f.it_power_w), (p.facility_power_w, f.facility_power_w),
                      (p.capex_usd, f.capex_total_usd), (p.tco_usd_per_year, f.tco_usd_per_year),
                      (p.energy_usd_per_year, f.opex_breakdown_usd_per_year["electricity"]),
                      (r.totals.power_w, f.it_power_w), (r.totals.capex_usd, f.capex_total_usd),
                      (r.totals.tco_usd_per_year, f.tco_usd_per_year)):
        assert got == pytest.approx(want, rel=rel)  # the pool and the totals: the whole servers bought (hF2)
    assert r.solver["pricing_converged"] is True and 2 <= r.solver["pricing_rounds"] <= PRICING_ROUNDS
    assert "converged" in r.solver["pricing"]


def test_the_8_device_reference_price_is_not_the_pools() -> None:
    """Why it matters: 133 H100 cost and draw what facility says for 133, not 8 x their count/8."""
    r = plan_fleet(_fleet("tco", [LATE], [H100]))
    (row,) = r.assignment
    node = size_facility(system="h100-sxm", overrides=CostOverrides(
        electricity_usd_per_mwh=120.0, pue=1.25, load_factor=0.7, server_usd_per_accelerator=42_000))
    assert node.accelerators == 8 and node.usd_per_gpu_hour is not None
    assert abs(row["usd_per_device_hour"] / node.usd_per_gpu_hour - 1) > 1e-3  # the fabric's share differs


def test_a_mixed_fleet_prices_each_pool_at_its_total_and_is_deterministic() -> None:
    """Two services on the H100 pool: the pool is priced at both rows' devices together, every row at that price;
    the same spec gives the same answer twice (the fixed point starts from the same reference prices)."""
    spec = _fleet("tco", [LATE, {**EARLY, "qps": "40M"}], [H100, {**MTIA, "available": 10}])
    r = plan_fleet(spec)
    again = plan_fleet(spec)
    assert r.assignment == again.assignment and r.solver == again.solver
    h100 = next(p for p in r.pools if p.pool == "h100")
    rows = [a for a in r.assignment if a["pool"] == "h100"]
    assert h100.used == sum(a["devices"] for a in rows) and h100.priced_at_devices == h100.devices_bought  # hF2
    f = size_facility(accelerator="h100-sxm", count=h100.used, overrides=CostOverrides(
        electricity_usd_per_mwh=120.0, pue=1.25, load_factor=0.7, server_usd_per_accelerator=42_000))
    assert all(a["usd_per_device_hour"] == pytest.approx(f.usd_per_gpu_hour, rel=1e-9) for a in rows)
    unused = [p for p in r.pools if p.used == 0]
    assert all(p.power_w == 0 for p in unused)


def test_the_cli_says_how_the_pools_were_priced(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps(_fleet("tco", [LATE], [H100]).model_dump(mode="json", exclude_none=True)))
    assert main(["fleet-mix", str(path)]) == 0
    out = capsys.readouterr().out
    assert "pricing: each pool priced at its own size" in out and "converged" in out


def test_at_the_bound_the_answer_says_so_and_is_still_priced_at_its_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """One solve allowed: no fixed point is reached (the counts differ from the reference cluster's 8), the answer
    says so, and its figures are still the pool's at its own count."""
    from infraplan.planning import fleet_mix

    monkeypatch.setattr(fleet_mix, "PRICING_ROUNDS", 1)
    r = plan_fleet(_fleet("tco", [LATE], [H100]))
    assert r.solver["pricing_rounds"] == 1 and r.solver["pricing_converged"] is False
    assert "no fixed point in 1 solves (the bound)" in r.solver["pricing"]
    (p,) = r.pools
    f = size_facility(accelerator="h100-sxm", count=p.used, overrides=CostOverrides(
        electricity_usd_per_mwh=120.0, pue=1.25, load_factor=0.7, server_usd_per_accelerator=42_000))
    assert p.priced_at_devices == p.devices_bought
    assert p.usd_per_device_hour == pytest.approx(f.usd_per_gpu_hour, rel=1e-9)
