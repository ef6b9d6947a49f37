"""A price written per kWh above any grid's is refused whichever field takes it (hR49, session 46): '70/kWh' (a
USD/MWh price with the wrong unit; 70 USD/kWh is 14x ERCOT's 5 USD/kWh offer cap) was read as 70,000 USD/MWh by
`facility`, `campus`, the web's `electricity_price` and a sweep (electricity x1,000, exit 0), and refused by a plan's
`electricity_usd_per_kwh` and `--vary electricity`: one written price, two answers."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.limits import parse_energy_price, read_electricity_price
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.web.infrastructure_requests import FacilityRequest

SPEC = {"name": "one", "phases": [{"name": "p1", "year": 2025}],
        "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 20}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}], "sites": [{"name": "s", "power": "10MW"}]}


@pytest.mark.parametrize("text", ["70/kWh", "$11 USD/kWh", "1e4/kwh"])
def test_a_kwh_price_above_any_grids_is_refused_in_both_units(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError, match=r"above 10 USD/kWh.*/MWh\?"):
        read_electricity_price(text, "p")  # USD/MWh: 1,000x before
    with pytest.raises(InputError, match="USD/kWh"):
        read_electricity_price(text, "p", "kWh")  # refused before too
    with pytest.raises(ValidationError, match="USD/kWh"):  # a plan's policy (refused before, too)
        ScenarioSpec.model_validate({**SPEC, "policy": {"electricity_usd_per_kwh": text}})
    with pytest.raises(ValidationError, match=r"above 10 USD/kWh"):  # the web's facility: 1,000x before
        FacilityRequest.model_validate({"accelerator": "h100-sxm", "count": 8, "electricity_price": text})
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "8", "--electricity-price", text, "--json"]) == 2
    assert "above 10 USD/kWh" in capsys.readouterr().err


def test_the_most_a_grid_charges_is_read_as_written_in_both_units() -> None:
    """10 USD/kWh, the bound (limits.MAX_ELECTRICITY_USD_PER_KWH), and a dear MWh price stay read."""
    assert parse_energy_price("10/kWh", "MWh") == 10_000.0 and parse_energy_price("10/kWh", "kWh") == 10.0
    assert parse_energy_price("0.07/kWh") == 70.0 and parse_energy_price("20000/MWh") == 20_000.0
