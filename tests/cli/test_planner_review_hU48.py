"""An infrastructure planner's review through the CLI (hU48, session 43); each test fails on the tree before its fix.

1. `reliability --help` printed two defaults for --spare-trays-per-domain ("[default: 0, an assumption] [default:
   0]") and for --repair-time ("[default: 3 days, an assumption] [default: 259200.0]", seconds no one asked for).
2. `--electricity-price` is in USD/MWh; `facility ... --electricity-price 0.07` (USD/kWh typed for it, 7 cents/kWh)
   priced a grid 1,000x cheaper than meant, exit 0. A positive price below 1 USD/MWh is now one line naming the
   slip, exit 2 (`infraplan.limits.MIN_ELECTRICITY_USD_PER_MWH`); 0 (energy left out of the money) stays.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import CliRun

from infraplan.cli import main


def test_reliability_help_states_each_default_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reliability", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())  # the help's wrapped lines joined
    assert "[default: 0, an assumption]" in text and "[default: 3 days, an assumption]" in text
    assert "259200" not in text
    for option in ("--spare-trays-per-domain", "--repair-time"):
        line = text.split(option, 1)[1].split(" --", 1)[0]
        assert line.count("[default:") == 1, line


@pytest.mark.parametrize("command", [["facility", "--accelerator", "h100-sxm", "--count", "8"],
                                     ["campus", "--power", "10MW", "--accelerator", "h100-sxm"]])
@pytest.mark.parametrize("price", ["0.07", "0.5"])
def test_an_electricity_price_in_usd_per_kwh_is_refused(cli: CliRun, command: list[str], price: str) -> None:
    code, out, err = cli([*command, "--electricity-price", price])
    assert code == 2 and out == ""
    line = err.strip()
    assert "\n" not in line and "USD/MWh" in line and "USD/kWh?" in line
    assert f"= {float(price) * 1e3:g} USD/MWh" in line  # what the asker likely meant


def test_zero_and_a_usd_per_mwh_price_still_run(cli: CliRun) -> None:
    """0 leaves energy out of the money; 1 USD/MWh is the least positive price; the electricity bill is the energy
    times the price (a hand relation between the runs)."""
    bills = {}
    for price in ("0", "1/MWh", "70"):  # a bare 1 is a price per MWh or per kWh alike: refused since hC49
        code, out, err = cli(["facility", "--accelerator", "h100-sxm", "--count", "8", "--electricity-price", price,
                              "--json"])
        assert code == 0, err
        data = json.loads(out)
        bills[price] = data["opex_breakdown_usd_per_year"]["electricity"]
        assert bills[price] == pytest.approx(data["energy_mwh_per_year"] * float(price.removesuffix("/MWh")))
    assert bills["0"] == 0.0 < bills["1/MWh"] < bills["70"]


@pytest.mark.parametrize("function", ["facility", "campus"])
def test_a_sweep_point_in_usd_per_kwh_is_refused(function: str) -> None:
    """A sweep spec's `electricity_price` (the CLI's option, USD/MWh) goes to the API function, not the CLI: 0.07
    was priced as 0.07 USD/MWh there; the point now records the CLI's line as its error."""
    from infraplan.errors import InputError
    from infraplan.sweep import callables as functions

    args = {"facility": {"accelerator": "h100-sxm", "count": 8}, "campus": {"power": "10MW", "accelerator": "h100-sxm"}}
    with pytest.raises(InputError, match=r"USD/kWh\? \(0\.07 USD/kWh = 70 USD/MWh\)"):
        getattr(functions, function)(**args[function], electricity_price=0.07)
    assert getattr(functions, function)(**args[function], electricity_price=70.0) is not None


def test_rail_only_versus_clos_gives_each_term_its_direction(cli: CliRun) -> None:
    """3. The RoCE 24K cluster's rail-only build has fewer switches and less power than its Clos but more capex
    (rail leaves on optics where the ToRs had copper): one sign for all three printed "rail-only costs more by -779
    switches, $3.92 M and -362 kW". Each term now reads in its own direction, from the JSON's own figures."""
    code, out, err = cli(["network", "meta-genai-roce-24k", "--fabric", "rail-only", "--json"])
    assert code == 0, err
    data = json.loads(out)
    fewer = data["clos_switches_count"] - data["switches_total"]
    assert fewer > 0 and data["capex_usd"] > data["clos_capex_usd"] and data["power_w"] < data["clos_power_w"]
    code, out, err = cli(["network", "meta-genai-roce-24k", "--fabric", "rail-only"])
    assert code == 0, err
    text = " ".join(out.split())
    assert f"rail-only: {fewer:,} fewer switches, $" in text and " more capex, " in text and " less power" in text
    versus = text.split("vs the system's Clos:", 1)[1].split(" rails (one per NIC", 1)[0]
    assert "-" not in versus.replace("rail-only", "")  # no negative figure


def test_written_files_are_named(cli: CliRun, tmp_path: Path) -> None:
    """4. `plan --out DIR --report FILE`, `facility --plot` and `campus --plot` wrote their files without a word
    (`network --graphml` says "graph written to", `results --plot` "chart:"): each now names what it wrote, under
    the tables; --json stays one JSON object."""
    fac, camp, report = tmp_path / "f.html", tmp_path / "c.html", tmp_path / "plan.html"
    for args, path in ((["facility", "--accelerator", "h100-sxm", "--count", "8", "--plot", str(fac)], fac),
                       (["campus", "--power", "10MW", "--accelerator", "h100-sxm", "--plot", str(camp)], camp)):
        code, out, err = cli(args)
        assert code == 0, err
        assert out.rstrip().splitlines()[-1] == f"charts written to {path}" and path.stat().st_size > 0
    code, out, err = cli(["plan", "examples/plan-minimal.yaml", "--out", str(tmp_path), "--report", str(report)])
    assert code == 0, err
    last = " ".join(out.split()).rsplit("report written to", 1)[1]
    tables = ["services", "pools", "racks", "sites", "phases", "tornado"]  # tornado: hV53
    assert last == f" {report}; tables written to {tmp_path}: " + ", ".join(f"{t}.parquet" for t in tables)
    assert all((tmp_path / f"{t}.parquet").stat().st_size > 0 for t in tables)
    code, out, err = cli(["plan", "examples/plan-minimal.yaml", "--out", str(tmp_path), "--json"])
    assert code == 0 and json.loads(out)["phases"]


def test_campus_takes_a_pue_as_facility_does(cli: CliRun, tmp_path: Path) -> None:
    """5. `campus` had no --pue (README: "--pue" overrides the PUE; `facility` and the sweep's `campus` take it), so
    a 1 GW campus at PUE 1.3 needed a --costs file: --pue now gives the same answer as that file, and the budget
    holds IT = facility / PUE."""
    costs = tmp_path / "pue.yaml"
    costs.write_text("pue: 1.3\n")
    base = ["campus", "--power", "1GW", "--accelerator", "gb200", "--json"]
    answers = []
    for extra in (["--pue", "1.3"], ["--costs", str(costs)], []):
        code, out, err = cli([*base, *extra])
        assert code == 0, err
        answers.append(json.loads(out))
    flag, file, default = answers
    assert flag == file and flag["facility"]["pue"] == 1.3 != default["facility"]["pue"]
    assert flag["facility"]["facility_power_w"] == pytest.approx(1.3 * flag["facility"]["it_power_w"])
    assert flag["accelerators"] < default["accelerators"]
