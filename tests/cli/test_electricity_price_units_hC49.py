"""hC49 (session 46): an electricity price is written with its unit wherever the name it is given under has none
(`facility` / `campus --electricity-price`, the web's and a sweep's `electricity_price`, `plan --vary electricity=`):
'70/MWh' and '0.07/kWh' are one price (USD/MWh inside, the cost model's unit). A bare number is the old spelling:
read in its old unit (USD/MWh; USD/kWh for --vary) with a warning, refused in one line (exit 2) where it is the other
unit's slip or a price in either unit (1 .. 10). Keys whose name carries the unit (`electricity_usd_per_kwh`,
`electricity_usd_per_mwh`) keep bare numbers and take text with a unit too (`limits.read_electricity_price`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from tests.cli.conftest import CliRun

from infraplan.errors import InputError
from infraplan.limits import parse_energy_price, read_electricity_price
from infraplan.planning.compare import parse_vary
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

FACILITY = ["facility", "--accelerator", "h100-sxm", "--count", "8", "--json"]
CAMPUS = ["campus", "--power", "10MW", "--accelerator", "h100-sxm", "--json"]


@pytest.mark.parametrize(("text", "per_mwh"), [("70/MWh", 70.0), ("$70/MWh", 70.0), ("70 USD/MWh", 70.0),
                                               ("0.07/kWh", 70.0), ("0.07 $/kWh", 70.0), ("7e1/mwh", 70.0),
                                               ("0.123/kWh", 123.0), ("0/MWh", 0.0)])
def test_a_price_with_its_unit_is_read_in_usd_per_mwh(text: str, per_mwh: float) -> None:
    assert parse_energy_price(text) == per_mwh  # exact: 0.07/kWh is 70, not 70.00000000000001
    assert parse_energy_price(text, "kWh") == pytest.approx(per_mwh / 1e3, rel=1e-15)


@pytest.mark.parametrize("text", ["70/GWh", "70 EUR/MWh", "nan/MWh", "70/MW", "/MWh", "seventy/MWh"])
def test_a_price_with_another_unit_or_sign_is_one_line(text: str) -> None:
    with pytest.raises(InputError, match="cannot read electricity price"):
        parse_energy_price(text)


def test_a_bare_number_keeps_its_old_unit_with_a_warning_or_is_refused() -> None:
    assert read_electricity_price("70/MWh", "x") == (70.0, None) and read_electricity_price(0, "x") == (0.0, None)
    price, warning = read_electricity_price(70, "--electricity-price")
    assert price == 70.0 and warning is not None and "70 USD/MWh" in warning and "70/MWh" in warning
    price, warning = read_electricity_price("0.05", "--vary electricity", "kWh")
    assert price == 0.05 and warning is not None and "USD/kWh" in warning
    for bare, per in (("1", "MWh"), ("10", "MWh"), ("5", "kWh"), ("1", "kWh")):  # a price in either unit
        with pytest.raises(InputError, match="per MWh or per kWh alike"):
            read_electricity_price(bare, "p", per)
    with pytest.raises(InputError, match=r"USD/kWh\? \(0.07 USD/kWh = 70 USD/MWh\)"):
        read_electricity_price("0.07", "p")  # below 1 USD/MWh: the kWh price typed bare
    with pytest.raises(InputError, match=r"USD/MWh\? \(80 USD/MWh = 0.08 USD/kWh\)"):
        read_electricity_price(80, "p", "kWh")  # above 10 USD/kWh: the MWh price typed bare
    with pytest.raises(InputError, match="outside 0 or 0.001 .. 10 USD/kWh"):
        read_electricity_price("20/kWh", "p", "kWh")


@pytest.mark.parametrize("command", [FACILITY, CAMPUS])
def test_one_price_three_spellings_one_answer(cli: CliRun, command: list[str]) -> None:
    """70/MWh, 0.07/kWh and a bare 70 (warned) price alike; the bill is the energy times 70 USD/MWh (by hand)."""
    answers, errors = [], []
    for price in ("70/MWh", "0.07/kWh", "70"):
        code, out, err = cli([*command, "--electricity-price", price])
        assert code == 0, err
        answers.append(json.loads(out))
        errors.append(err)
    # the bare price's answer carries its warning line (hJ59: `warnings` for facility, campus's `notes`), as stderr
    field = "warnings" if command is FACILITY else "notes"
    line = errors[2].strip().removeprefix("infraplan: warning: ")
    assert answers[2][field][:1] == [line]
    answers[2][field] = answers[2][field][1:]
    assert answers[0] == answers[1] == answers[2]
    assert errors[0] == errors[1] == "" and errors[2].count("\n") == 1
    assert errors[2].startswith("infraplan: warning: --electricity-price 70 has no unit: read as 70 USD/MWh")
    facility = answers[0] if command is FACILITY else answers[0]["facility"]
    assert facility["assumptions"]["electricity_usd_per_mwh"] == 70.0
    assert facility["opex_breakdown_usd_per_year"]["electricity"] == \
        pytest.approx(facility["energy_mwh_per_year"] * 70.0)


@pytest.mark.parametrize("price", ["5", "1", "0.07", "80/GWh", "-1/MWh"])
def test_an_ambiguous_slipped_or_unreadable_price_is_one_line_exit_2(cli: CliRun, price: str) -> None:
    code, out, err = cli([*FACILITY, "--electricity-price", price])
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "--electricity-price" in err and ("/MWh" in err or "/kWh" in err)


def test_vary_electricity_takes_units_and_warns_a_bare_range(recwarn: pytest.WarningsRecorder) -> None:
    spec = load_scenario("examples/plan-minimal.yaml")
    assert parse_vary(spec, "electricity=50/MWh..120/MWh") == ("electricity", 0.05, 0.12)
    assert parse_vary(spec, "electricity=0.05/kWh..120/MWh") == ("electricity", 0.05, 0.12)
    assert not recwarn.list
    assert parse_vary(spec, "electricity=0.05..0.12") == ("electricity", 0.05, 0.12)
    assert [str(w.message) for w in recwarn.list] == [
        "--vary electricity=0.05..0.12 has no unit: read as USD/kWh (the old spelling); write each end with its "
        "unit, e.g. electricity=0.05/kWh..0.12/kWh"]
    for bad, why in (("electricity=1..2", "per MWh or per kWh alike"), ("electricity=50..120", "USD/MWh?"),
                     ("electricity=cheap/kWh..0.1/kWh", "cannot read the range")):
        with pytest.raises(InputError, match=why.replace("?", r"\?")):
            parse_vary(spec, bad)


def test_a_spec_key_with_its_unit_takes_a_bare_number_or_text_with_a_unit() -> None:
    with open("examples/plan-minimal.yaml", encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    policy = data.get("policy") or {}
    specs = [ScenarioSpec.model_validate({**data, "policy": {**policy, "electricity_usd_per_kwh": price}})
             for price in (0.07, "70/MWh", "0.07/kWh")]
    assert specs[0] == specs[1] == specs[2] and specs[0].policy.electricity_usd_per_kwh == 0.07
    with pytest.raises(ValueError, match="cannot read electricity price"):
        ScenarioSpec.model_validate({**data, "policy": {**policy, "electricity_usd_per_kwh": "7 cents"}})


def test_a_sweep_point_reads_the_price_as_the_cli_and_stores_usd_per_mwh() -> None:
    from infraplan.sweep import callables, functions

    args = {"accelerator": "h100-sxm", "count": 8}
    assert callables.facility(**args, electricity_price="0.07/kWh") == callables.facility(
        **args, electricity_price=70.0)
    assert functions.input_columns({"electricity_price": "0.07/kWh"}, "facility") == \
        {"in_electricity_price_usd_per_mwh": 70.0}
    with pytest.raises(InputError, match="per MWh or per kWh alike"):
        callables.facility(**args, electricity_price=5)
