"""fleet-mix's power is the load its electricity is billed on and the one `facility` reports (helper hD2, session 33):
one question asked two ways gets one answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import HOURS_PER_YEAR, CostOverrides
from infraplan.facility import size_facility
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.recsys.estimate import estimate_recsys

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet-mix.yaml"


def _one_node_of_h100(**kw) -> FleetSpec:
    """A ranking service that needs exactly one 8-GPU node of H100 (7.5 H100 of its QPS)."""
    qps = 7.5 * estimate_recsys("dlrm-medium", "h100-sxm", latency_slo_s=0.02).qps
    return FleetSpec.model_validate({
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-medium", "qps": qps, "latency_slo": "20ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42000}],
        "electricity_usd_per_kwh": 0.08, "pue": 1.1, **kw})


@pytest.mark.parametrize("objective", ["power", "tco"])
def test_the_example_facility_power_times_hours_and_price_is_its_electricity_cost(objective: str) -> None:
    r = plan_fleet(str(EXAMPLE), objective)
    load_factor = size_facility(system="h100-sxm").assumptions.load_factor  # the catalog's, the spec sets none
    assert load_factor == pytest.approx(0.8)
    assert r.gpu_only is not None
    for t in (r.totals, r.gpu_only.totals):
        assert t.facility_power_w == pytest.approx(t.power_w * 1.1)
        kwh = t.facility_power_w / 1e3 * load_factor * HOURS_PER_YEAR
        assert kwh * 0.08 == pytest.approx(t.energy_usd_per_year, rel=1e-12)


def test_a_fleet_of_one_h100_node_draws_what_facility_reports_for_it() -> None:
    r = plan_fleet(_one_node_of_h100(load_factor=0.7))
    assert r.totals.devices == 8
    f = size_facility(system="h100-sxm", overrides=CostOverrides(pue=1.1, electricity_usd_per_mwh=80.0,
                                                                  load_factor=0.7))
    assert f.accelerators == 8
    assert r.totals.power_w == pytest.approx(f.it_power_w, rel=1e-12)  # 11,610 W: 1,451.25 W per H100
    assert r.totals.facility_power_w == pytest.approx(f.facility_power_w, rel=1e-12)
    assert r.totals.energy_usd_per_year == pytest.approx(f.opex_breakdown_usd_per_year["electricity"], rel=1e-12)
    assert r.totals.facility_power_w / 1e3 * 0.7 * HOURS_PER_YEAR * 0.08 == pytest.approx(
        r.totals.energy_usd_per_year, rel=1e-12)
    # the network and storage shares are in it: above TDP + host (8 x 1,275 W)
    assert r.totals.power_w == pytest.approx(8 * 1451.25) and r.totals.power_w > 8 * 1275.0
    assert r.solver["objective_value"] == pytest.approx(r.totals.power_w)


def test_every_row_is_its_devices_times_facilitys_per_device_it_load() -> None:
    r = plan_fleet(str(EXAMPLE), "tco")
    used = {p.device: p.used for p in r.pools}  # each pool at its own size (hW), as `facility --count` builds it
    # the example's MTIA v2 pool names its server (hW55: device mtia-v2-rack), mtia-v2's own server by default
    per_device = {d: (f := size_facility(accelerator=part, count=used[d])).it_power_w / f.accelerators
                  for d, part in (("h100-sxm", "h100-sxm"), ("mtia-v2-rack", "mtia-v2"))}
    bought = {p.device: p.devices_bought for p in r.pools}  # hF2: the totals are the whole servers bought
    rows = [a for a in r.assignment if a["device"] in per_device]
    assert {a["device"] for a in rows} == set(per_device)
    for a in rows:
        assert a["power_w"] == pytest.approx(a["devices"] * per_device[a["device"]], rel=1e-12)
    assert sum(a["power_w"] for a in r.assignment) <= r.totals.power_w
    assert sum(p.power_w for p in r.pools if p.power_w) == pytest.approx(r.totals.power_w, rel=1e-12)
    for p in (p for p in r.pools if p.device in per_device):
        assert p.power_w == pytest.approx(bought[p.device] * per_device[p.device], rel=1e-12)


def test_the_cli_says_peak_it_and_the_json_matches(capsys, tmp_path: Path) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(json.dumps(_one_node_of_h100().model_dump(mode="json", exclude_none=True)))
    assert main(["fleet-mix", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["power_w"] == pytest.approx(11610.0) and data["solver"]["objective_unit"] == \
        "W (peak IT power)"
    assert main(["fleet-mix", str(path)]) == 0
    out = capsys.readouterr().out
    assert "11.6 kW peak IT (12.8 kW facility)" in out and "provisioned" not in out
