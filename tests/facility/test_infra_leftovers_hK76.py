"""hK76: the infrastructure leftovers of hN76's product walk, each failing on the base (cd446d3d).

1. `facility` of a part without a server price (gaudi2-cluster, gb300, mi300x) gave `capex_usd` null as a whole,
   the network and the building with it, though `network` prices the same switches: the priced parts are now
   `capex_priced_usd` (servers named in `capex_unpriced_parts`), alike in facility, campus, campus --fleet, plan and
   the web; a priced answer's capex_priced_usd is its capex_usd.
2. `infraplan catalog cooling` (build-types, failure-rates) was "unknown catalog kind"; `schema catalog` neither.
3. A failure-rate file's `measured_on: [nope-gpu]` ran ("counted on nope-gpu"): refused naming the file and key; an
   accelerator file there (read beside the rate's file) still works.
4. A plan site's cooling / location file error named no site.
5. `BuildType.build_months` is read by no answer: its schema says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infraplan.cli import main
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus, plan_fleet
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.web.app import create_app


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> Any:
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def _refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize("system", ["gaudi2-cluster", "mi300x-cluster"])
def test_an_unpriced_systems_facility_prices_its_network_and_building(system: str,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    fac = _json(capsys, ["facility", "--system", system, "--json"])
    net = _json(capsys, ["network", "--system", system, "--json"])
    assert fac["capex_usd"] is None and fac["capex_total_usd"] is None and fac["usd_per_gpu_hour"] is None
    assert fac["capex_unpriced_parts"] == ["servers"] and set(fac["capex_priced_usd"]) == {"network", "facility"}
    assert fac["capex_priced_usd"]["network"] == pytest.approx(net["capex_usd"]) and net["capex_usd"] > 0
    # the building: IT power x the build type's $/W, as a priced answer has it
    assert fac["capex_priced_usd"]["facility"] == pytest.approx(
        fac["it_power_w"] * fac["assumptions"]["facility_usd_per_w"])
    assert "node.server_price_usd" in fac["cost_reason"] and "--server-price" in fac["cost_reason"]
    priced = _json(capsys, ["facility", "--system", system, "--server-price", "20000", "--json"])
    assert priced["capex_unpriced_parts"] == [] and priced["capex_priced_usd"] == priced["capex_usd"]
    assert {k: priced["capex_usd"][k] for k in ("network", "facility")} == fac["capex_priced_usd"]
    assert main(["facility", "--system", system]) == 0
    assert "capex network / facility (no servers)" in capsys.readouterr().out


def test_a_priced_facility_says_its_whole_capex_priced() -> None:
    rsc = size_facility(system="meta-rsc")
    assert rsc.capex_usd is not None and rsc.capex_priced_usd == rsc.capex_usd and rsc.capex_unpriced_parts == []


def test_campus_fleet_plan_and_web_give_facilitys_priced_capex(tmp_path: Path) -> None:
    campus = plan_campus(50e6, "gb300")
    assert campus.capex_usd is None and campus.capex_unpriced_parts == ["servers"]
    assert campus.capex_priced_usd == campus.facility.capex_priced_usd and campus.capex_priced_usd["network"] > 0
    fac = size_facility(accelerator="mi300x", count=64, location="ohio")
    spec = ScenarioSpec.model_validate({
        "name": "unpriced", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}],
        "pools": [{"name": "mi", "device": "mi300x", "site": "a"}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "power"}})
    row = plan_scenario(spec).pools[0]
    alone = size_facility(accelerator="mi300x", count=row.devices, location="ohio")
    assert row.fleet_value_usd is None and row.fleet_value_priced_usd == pytest.approx(
        sum(alone.capex_priced_usd.values())) and row.fleet_value_priced_usd > 0
    fleet = tmp_path / "f.yaml"
    fleet.write_text("name: f\nsites:\n  - {name: a, accelerator: mi300x, count: 64, location: ohio}\n")
    site = plan_fleet(str(fleet)).sites[0]
    assert site.capex_usd is None and site.capex_priced_usd == pytest.approx(sum(fac.capex_priced_usd.values()))
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        web = client.post("/api/facility", json={"accelerator": "mi300x", "count": 64, "location": "ohio"})
    assert web.status_code == 200 and web.json()["capex_priced_usd"] == pytest.approx(fac.capex_priced_usd)


@pytest.mark.parametrize(("kind", "name", "field"), [("cooling", "liquid", "max_rack_power_w"),
                                                     ("build-types", "hyperscale", "usd_per_w"),
                                                     ("failure-rates", "rsc-1", "failures_per_1000_node_days")])
def test_catalog_lists_shows_and_schemas_the_facility_table_kinds(kind: str, name: str, field: str,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    listing = _json(capsys, ["catalog", kind, "--json"])
    names = [e["name"] for e in listing["kinds"][0]["entries"]]
    assert name in names and all(e["source"] for e in listing["kinds"][0]["entries"])
    assert field in _json(capsys, ["catalog", kind, name])
    assert field in _json(capsys, ["schema", "catalog", kind])["properties"]
    assert kind in [k["kind"] for k in _json(capsys, ["catalog", "--json"])["kinds"]]
    assert "nope" in _refused(capsys, ["catalog", kind, "nope"])


def test_catalog_reads_a_cooling_file_as_the_commands_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cheap.yaml").write_text("usd_per_w: 8\nlife_years: 20\nbuild_months: 12\nsource: x\n")
    (tmp_path / "c.yaml").write_text("description: d\nmax_rack_power_w: 60kW\npue: {temperate: 1.1}\n"
                                     "wue_l_per_kwh: {temperate: 0.2}\nfloor_area_m2_per_rack: 3\n"
                                     "default_build_type: cheap.yaml\nsource: x\n")
    data = _json(capsys, ["catalog", "cooling", str(tmp_path / "c.yaml")])
    assert data["max_rack_power_w"] == 60e3 and data["default_build_type"] == str(tmp_path / "cheap.yaml")


def _rate(tmp_path: Path, measured_on: str) -> str:
    path = tmp_path / "fr.yaml"
    path.write_text(f"failures_per_1000_node_days: 5\naccelerators_per_node: 8\nmeasured_on: {measured_on}\n"
                    "source: x\n")
    return str(path)


def test_a_failure_rates_unknown_measured_on_is_refused_naming_file_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rate = _rate(tmp_path, "[nope-gpu]")
    err = _refused(capsys, ["reliability", "--system", "meta-rsc", "--gpus", "4096", "--failure-rate", rate])
    assert rate in err and "measured_on" in err and "nope-gpu" in err and "a100-80gb" in err


def test_a_failure_rates_measured_on_takes_presets_and_accelerator_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "my-a100.yaml").write_text("extends: a100-80gb\ntdp_w: 350\n")
    for measured in ("[h100-sxm]", "[my-a100.yaml]"):  # a file read beside the rate's file, from any folder
        data = _json(capsys, ["reliability", "--system", "meta-rsc", "--gpus", "4096", "--failure-rate",
                              _rate(tmp_path, measured), "--json"])
        notes = json.dumps(data)
        # counted on the job's a100 (its file extends it): no borrowed-rate line; on h100: said
        assert ("counted on h100-sxm, not a100-80gb" in notes) == (measured == "[h100-sxm]")


def test_a_plan_sites_cooling_or_location_file_error_names_the_site(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "norway.yaml").write_text("climate: cool\nelectricity_usd_per_mwh: 45\ngrid_gco2_per_kwh: 30\n"
                                          "source: x\n")
    (tmp_path / "part.yaml").write_text("description: d\nmax_rack_power_w: 60kW\npue: {temperate: 1.12}\n"
                                        "wue_l_per_kwh: {temperate: 0.2}\nfloor_area_m2_per_rack: 3\n"
                                        "default_build_type: hyperscale\nsource: x\n")
    (tmp_path / "bad.yaml").write_text("climate: cool\nsource: x\n")
    for site in ("{name: nord, power: 10MW, location: norway.yaml, cooling: part.yaml}",
                 "{name: nord, power: 10MW, location: bad.yaml}"):
        plan = tmp_path / "p.yaml"
        plan.write_text("name: p\nphases: [{name: '2026', year: 2026}]\n"
                        "services: [{name: r, kind: recsys, model: dlrm-low, qps: 1M, latency_slo: 10ms}]\n"
                        f"pools: [{{name: h, device: h100-sxm, site: nord}}]\nsites: [{site}]\n"
                        "policy: {objective: power}\n")
        assert _refused(capsys, ["plan", str(plan)]).startswith("infraplan: error: site 'nord': ")


def test_build_months_is_said_informational(capsys: pytest.CaptureFixture[str]) -> None:
    months = _json(capsys, ["schema", "catalog", "build-types"])["properties"]["build_months"]
    assert "informational" in months["description"] and "no answer" in months["description"]
