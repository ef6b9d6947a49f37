"""An electricity price typed in the other unit is refused in one line (hU48's finding, session 43).

A plan policy's or fleet-mix's `electricity_usd_per_kwh: 80` (USD/MWh typed for USD/kWh) ran with a TCO 1,000x too
high (fleet-mix $5.33 M -> $328 M/yr), and a location file's `electricity_usd_per_mwh: 0.04` with a grid 1,000x too
cheap. Above 10 USD/kWh (ERCOT's offer cap is $5/kWh) or below 1 USD/MWh (the cheapest state, Louisiana, is 58.8) a
price is the other unit; 0 (energy left out) and every shipped location still load.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.catalog.facility_loader import list_facility_presets, load_location
from infraplan.cli.main import main
from infraplan.limits import MAX_ELECTRICITY_USD_PER_KWH, MIN_ELECTRICITY_USD_PER_MWH

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


@pytest.mark.parametrize("price", [80.0, 10.5])
def test_a_plan_or_fleet_price_in_usd_per_mwh_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                        price: float) -> None:
    plan = yaml.safe_load((EXAMPLES / "plan-minimal.yaml").read_text())
    plan.setdefault("policy", {})["electricity_usd_per_kwh"] = price
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan))
    assert "USD/MWh?" in _refused(capsys, ["plan", str(tmp_path / "plan.yaml")])
    fleet = yaml.safe_load((EXAMPLES / "fleet-mix.yaml").read_text())
    fleet["electricity_usd_per_kwh"] = price
    (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(fleet))
    assert "USD/MWh?" in _refused(capsys, ["fleet-mix", str(tmp_path / "fleet.yaml")])


def test_the_cap_itself_and_zero_still_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for price in (0.0, MAX_ELECTRICITY_USD_PER_KWH):
        fleet = yaml.safe_load((EXAMPLES / "fleet-mix.yaml").read_text())
        fleet["electricity_usd_per_kwh"] = price
        (tmp_path / "fleet.yaml").write_text(yaml.safe_dump(fleet))
        capsys.readouterr()
        assert main(["fleet-mix", str(tmp_path / "fleet.yaml"), "--json"]) == 0


def test_a_location_price_in_usd_per_kwh_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({"climate": "temperate", "electricity_usd_per_mwh": 0.04, "grid_gco2_per_kwh": 400,
                                    "source": "a test"}))
    err = _refused(capsys, ["facility", "--accelerator", "h100-sxm", "--count", "64", "--location", str(path)])
    assert "USD/kWh?" in err


def test_every_shipped_location_is_priced_in_usd_per_mwh() -> None:
    prices = [load_location(name).electricity_usd_per_mwh for name in list_facility_presets("locations")]
    assert prices and all(p == 0 or p >= MIN_ELECTRICITY_USD_PER_MWH for p in prices)
