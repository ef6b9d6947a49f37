"""CLI contract of facility, campus and reliability: JSON keys, units, plots, exit code 2 with the limit."""

from __future__ import annotations

import json

import pytest

from infraplan.cli import main

FACILITY_KEYS = {"it_power_w", "facility_power_w", "pue", "racks", "rack_power_w", "floor_area_m2",
                 "water_m3_per_year", "capex_usd", "opex_usd_per_year", "usd_per_gpu_hour", "energy_mwh_per_year",
                 "co2_t_per_year"}
CAMPUS_KEYS = {"accelerators", "racks", "buildings", "network", "capex_usd", "opex_usd_per_year",
               "energy_mwh_per_year", "co2_t_per_year", "training_capacity"}
RELIABILITY_KEYS = {"expected_interruptions", "job_mttf_s", "checkpoint_interval_s", "goodput"}


def run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_facility_json_contract(capsys):
    code, out, _ = run(capsys, ["facility", "--system", "meta-genai-roce-24k", "--location", "ohio", "--json"])
    assert code == 0
    data = json.loads(out)
    assert set(data) >= FACILITY_KEYS
    assert set(data["capex_usd"]) == {"servers", "network", "facility"}
    code, again, _ = run(capsys, ["facility", "--system", "meta-genai-roce-24k", "--location", "ohio", "--json"])
    assert again == out  # deterministic


def test_facility_by_accelerator_and_human_units(capsys):
    code, out, _ = run(capsys, ["facility", "--accelerator", "gb200", "--count", "1152", "--cooling", "liquid"])
    assert code == 0
    for unit in ("MW", "kW", "m²", "m³/year", "$", "/GPU-h", "MWh/year", "t/year"):
        assert unit in out


def test_campus_json_and_plot(capsys, tmp_path):
    plot = tmp_path / "campus.html"
    code, out, _ = run(capsys, ["campus", "--power", "1GW", "--accelerator", "gb200", "--cooling", "liquid",
                                "--phases", "2026:0.3,2027:0.7", "--plot", str(plot), "--json"])
    assert code == 0
    data = json.loads(out)
    assert set(data) >= CAMPUS_KEYS
    assert data["training_capacity"]["runs_per_year"] > 0
    text = plot.read_text()
    assert "Sankey" in text or "sankey" in text
    assert [p.name for p in tmp_path.iterdir()] == ["campus.html"]  # no temporary left behind


def test_campus_fleet(capsys):
    code, out, _ = run(capsys, ["campus", "--fleet", "meta-2024", "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["h100_equivalents"] > 350_000


@pytest.mark.parametrize("system", ["gb300-nvl72", "gb300-nvl72-superpod", "mi300x-cluster",
                                    "mi355x-cluster", "gaudi2-cluster", "mtia-400-rack"])
def test_facility_without_a_server_price_reports_power_and_nulls_money(capsys, system):
    """Power, energy, PUE and carbon need no price: exit 0, money null, and a note naming the flag."""
    code, out, _ = run(capsys, ["facility", "--system", system, "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["it_power_w"] > 0 and data["facility_power_w"] == pytest.approx(data["it_power_w"] * data["pue"])
    assert data["energy_mwh_per_year"] > 0 and data["co2_t_per_year"] > 0
    for key in ("capex_usd", "capex_total_usd", "opex_usd_per_year", "usd_per_gpu_hour", "tco_usd_per_year",
                "annualized_capex_usd_per_year"):
        assert data[key] is None
    assert "no server price" in data["cost_reason"] and "--server-price" in data["cost_reason"]
    code, priced, _ = run(capsys, ["facility", "--system", system, "--server-price", "50000", "--json"])
    priced_data = json.loads(priced)
    assert code == 0 and priced_data["cost_reason"] is None
    assert priced_data["capex_usd"]["servers"] == pytest.approx(50000 * data["accelerators"])
    assert priced_data["energy_mwh_per_year"] == pytest.approx(data["energy_mwh_per_year"])  # price-free figures
    code, human, _ = run(capsys, ["facility", "--system", system])
    assert code == 0 and "not priced" in human and "MWh/year" in human


def test_campus_without_a_server_price_reports_power(capsys):
    code, out, _ = run(capsys, ["campus", "--power", "20MW", "--accelerator", "gb300", "--phases", "2026:1",
                                "--json"])
    assert code == 0
    data = json.loads(out)
    assert data["accelerators"] > 0 and data["capex_usd"] is None and data["phases"][0]["capex_usd"] is None
    assert "--server-price" in data["facility"]["cost_reason"]


def test_reliability_json_contract(capsys):
    code, out, _ = run(capsys, ["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--days", "54",
                                "--json"])
    assert code == 0
    data = json.loads(out)
    assert set(data) >= RELIABILITY_KEYS
    assert data["job_mttf_s"] / 3600 == pytest.approx(3.09, rel=0.02)


@pytest.mark.parametrize(("args", "needle"), [
    (["campus", "--power", "0W", "--accelerator", "gb200"], "must be positive"),
    (["campus", "--power", "-1GW", "--accelerator", "gb200"], "must be positive"),
    (["campus", "--power", "1GW", "--accelerator", "gb200", "--phases", "2026:0.6,2027:0.7"], "limit of 1"),
    (["facility", "--system", "meta-rsc", "--location", "mars"], "unknown location"),
    (["facility", "--accelerator", "gb200", "--count", "72", "--cooling", "air"], "30.0 kW per rack"),
    (["facility", "--system", "meta-rsc", "--cooling", "air", "--rack-power", "50kW"], "exceeds the 30.0 kW"),
    (["facility", "--system", "meta-rsc", "--cooling", "steam"], "--cooling must be one of"),
    (["facility", "--accelerator", "h100-sxm"], "--count"),
    (["facility", "--system", "meta-rsc", "--accelerator", "h100-sxm"], "either --system"),
    (["reliability", "--system", "meta-rsc", "--gpus", "0"], "'--gpus': 0"),
])
def test_bad_input_exits_2_with_one_line(capsys, args, needle):
    code, out, err = run(capsys, args)
    assert code == 2
    assert needle in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_plot_into_a_missing_folder_fails_cleanly(capsys, tmp_path):
    code, out, err = run(capsys, ["facility", "--system", "meta-rsc", "--plot", str(tmp_path / "no" / "x.html")])
    assert code == 2 and "does not exist" in err and out == ""
