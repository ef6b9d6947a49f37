"""A `--costs` file's electricity price takes the CLI flag's rule (hR49, session 46; cluster/cost.py: "a file may not
say what a flag may not"): `electricity_usd_per_mwh: 0.07` (a USD/kWh price under the USD/MWh key) was read as 0.07
USD/MWh, the electricity bill of 1,000 H100 $759 a year (exit 0), where `--electricity-price 0.07` and a location
file's `electricity_usd_per_mwh: 0.07` are refused as that slip."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import load_cost_overrides
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility


def _costs(tmp_path: Path, price: str) -> str:
    path = tmp_path / "costs.yaml"
    path.write_text(f"source: my quote\nelectricity_usd_per_mwh: {price}\n")
    return str(path)


@pytest.mark.parametrize("price", ["0.07", "0.5", "'0.5/MWh'"])
def test_a_usd_per_kwh_price_under_the_mwh_key_is_refused(tmp_path: Path, price: str) -> None:
    with pytest.raises(InputError, match=r"electricity_usd_per_mwh: .*kWh\?"):
        load_cost_overrides(_costs(tmp_path, price))


def test_the_file_and_the_flag_refuse_alike_and_read_alike(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    base = ["facility", "--accelerator", "h100-sxm", "--count", "8", "--json"]
    assert main([*base, "--costs", _costs(tmp_path, "0.07")]) == 2
    assert main([*base, "--electricity-price", "0.07"]) == 2
    capsys.readouterr()
    # 0 (energy left out), 1 USD/MWh (the least price) and '0.07/kWh' stay read, as the flag reads them
    for price, per_mwh in (("0", 0.0), ("1", 1.0), ("'0.07/kWh'", 70.0)):
        over = load_cost_overrides(_costs(tmp_path, price))
        assert over.electricity_usd_per_mwh == per_mwh
        facility = size_facility(accelerator="h100-sxm", count=8, overrides=over)
        assert facility.opex_breakdown_usd_per_year["electricity"] == pytest.approx(
            facility.energy_mwh_per_year * per_mwh)
