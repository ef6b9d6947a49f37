"""fleet-mix buys whole servers (hF2, session 36), as `plan` (hW3) and `facility --count` do: each pool's MILP
variable is an integer server count, devices = servers x devices per server, the devices used stay within the
servers and within `available` (devices the services may use, as `plan` reads the same field: the servers may round
it up), and every pool and total figure is the whole servers' (`facility --accelerator DEVICE --count BOUGHT`).
Before, the example's 153 H100 were reported at 216.2 kW while facility houses them as 20 servers, 226.1 kW."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import CostOverrides
from infraplan.facility import size_facility
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet-mix.yaml"
SITE = {"electricity_usd_per_kwh": 0.12, "pue": 1.25, "load_factor": 0.7}
LATE = {"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": "40M", "latency_slo": "20ms"}
H100 = {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000}
MTIA = {"name": "mtia", "device": "mtia-v2", "price_usd_per_device": 9_000}
FIGURES = {"power_w": "it_power_w", "facility_power_w": "facility_power_w", "capex_usd": "capex_total_usd",
           "tco_usd_per_year": "tco_usd_per_year", "co2_t_per_year": "co2_t_per_year"}


def _facility(device: str, count: int, capex: float | None = None, site: dict | None = None) -> dict[str, float]:
    s = site or {"electricity_usd_per_kwh": 0.08, "pue": 1.1, "load_factor": None}
    f = size_facility(accelerator=device, count=count, overrides=CostOverrides(
        electricity_usd_per_mwh=s["electricity_usd_per_kwh"] * 1e3, pue=s["pue"], load_factor=s["load_factor"],
        server_usd_per_accelerator=capex, server_life_years=5.5))
    return {**{k: getattr(f, v) for k, v in FIGURES.items()}, "accelerators": f.accelerators,
            "energy_usd_per_year": f.opex_breakdown_usd_per_year["electricity"]}


@pytest.mark.parametrize("objective", ["power", "tco"])
def test_the_examples_pools_are_facilitys_whole_servers(objective: str) -> None:
    r = plan_fleet(str(EXAMPLE), objective)
    capex = {"mtia-v2": 9000, "h100-sxm": 42000}
    for p in (p for p in r.pools if p.device in capex and p.used):
        assert p.devices_per_server == 8 and p.servers == -(-p.used // 8) and p.devices_bought == 8 * p.servers
        assert p.priced_at_devices == p.devices_bought and p.used <= p.devices_bought < p.used + 8
        f = _facility(p.device, p.devices_bought, capex[p.device])
        assert f["accelerators"] == p.devices_bought
        for k in (*FIGURES, "energy_usd_per_year"):
            assert getattr(p, k) == pytest.approx(f[k], rel=1e-9), k
    assert r.totals.devices_bought == sum(p.devices_bought for p in r.pools) >= r.totals.devices
    assert r.totals.servers == sum(p.servers for p in r.pools)
    for k in FIGURES:
        assert getattr(r.totals, k) == pytest.approx(sum(getattr(p, k) for p in r.pools if p.used), rel=1e-12)
    unit = "objective_value_w" if objective == "power" else "objective_value_usd_per_year"
    want = r.totals.power_w if objective == "power" else r.totals.tco_usd_per_year
    assert r.solver[unit] == pytest.approx(want, rel=1e-9) and r.solver["objective_value"] == r.solver[unit]


def test_a_server_is_filled_before_another_is_bought() -> None:
    """Demand for 4.5 H100 of dlrm-high: before, 5 devices; now the same 5 used in one 8-GPU server, priced as
    facility prices 8; with only 4 H100 available (one server may hold them, as plan reads `available`) and MTIA
    beside it, the devices used never pass 4."""
    one = FleetSpec.model_validate({"objective": "power", "services": [{**LATE, "qps": "1M"}], "pools": [H100],
                                    **SITE})
    r = plan_fleet(one)
    (p,) = r.pools
    assert p.servers == 1 and p.devices_bought == 8 and p.used < 8
    f = _facility("h100-sxm", 8, 42_000, SITE)
    assert r.totals.power_w == pytest.approx(f["power_w"], rel=1e-9)
    assert r.solver["objective_value_w"] == pytest.approx(f["power_w"], rel=1e-9)
    capped = FleetSpec.model_validate({"objective": "power", "services": [{**LATE, "qps": "1M"}],
                                       "pools": [{**H100, "available": 2}, MTIA], **SITE})
    r = plan_fleet(capped)
    h100 = next(p for p in r.pools if p.pool == "h100")
    assert h100.used <= 2 and h100.servers <= 1


def test_the_cli_prints_servers_and_devices_bought(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps({"objective": "power", "services": [{**LATE, "qps": "1M"}], "pools": [H100]}))
    assert main(["fleet-mix", str(path)]) == 0
    out = capsys.readouterr().out
    assert "8 devices bought in 1 server" in out
    assert main(["fleet-mix", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["devices_bought"] == 8 and data["solver"]["objective_value_w"] == data["totals"]["power_w"]
