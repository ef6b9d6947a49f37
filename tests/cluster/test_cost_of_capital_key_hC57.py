"""The cost of capital's key carries its unit (hC57, session 57): `cost_of_capital_per_year` (a fraction per year)
in a `--costs` file, economics.yaml and `facility`'s assumptions; the old key `cost_of_capital` is still read, as the
new one, with one warning line (a user's file keeps working); both keys in one file are refused (one line, exit 2).
Before: the key had no unit, the only such input key of the cost file (tests/cli/test_schema.py listed its echo in
UNITLESS)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from infraplan.catalog.facility_loader import Economics, OldCostKeyWarning, load_economics
from infraplan.cli import main
from infraplan.cluster.cost import CostOverrides, load_cost_overrides
from infraplan.facility.facility import size_facility


def _costs(tmp_path: Path, text: str) -> str:
    path = tmp_path / "costs.yaml"
    path.write_text(f"source: my bank\n{text}\n")
    return str(path)


def test_the_new_key_is_read_and_changes_the_annualised_capex(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new key warns of nothing
        over = load_cost_overrides(_costs(tmp_path, "cost_of_capital_per_year: 0.08"))
    assert over.cost_of_capital_per_year == 0.08
    base = size_facility(accelerator="h100-sxm", count=8)
    dear = size_facility(accelerator="h100-sxm", count=8, overrides=over)
    assert dear.assumptions.cost_of_capital_per_year == 0.08
    assert base.assumptions.cost_of_capital_per_year == load_economics().cost_of_capital_per_year == 0.0
    assert dear.annualized_capex_usd_per_year["servers"] > 1.1 * base.annualized_capex_usd_per_year["servers"]


def test_the_old_key_is_read_as_the_new_one_with_one_warning(tmp_path: Path) -> None:
    with pytest.warns(OldCostKeyWarning, match=r"`cost_of_capital` is read as `cost_of_capital_per_year`") as seen:
        old = load_cost_overrides(_costs(tmp_path, "cost_of_capital: 0.08"))
    assert len(seen) == 1
    assert old == CostOverrides(cost_of_capital_per_year=0.08)
    with pytest.warns(OldCostKeyWarning):  # a second read of the same file says it again (no once-per-process)
        load_cost_overrides(_costs(tmp_path, "cost_of_capital: 0.08"))
    with pytest.warns(OldCostKeyWarning):  # the catalog file's model reads it too
        data = {**load_economics().model_dump(exclude={"cost_of_capital_per_year"}), "cost_of_capital": 0.05}
        assert Economics.model_validate(data).cost_of_capital_per_year == 0.05


def test_the_cli_reads_the_old_key_with_its_warning_and_refuses_both(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    base = ["facility", "--accelerator", "h100-sxm", "--count", "8", "--json"]
    assert main([*base, "--costs", _costs(tmp_path, "cost_of_capital: 0.08")]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["assumptions"]["cost_of_capital_per_year"] == 0.08
    assert err.count("\n") == 1 and err.startswith("infraplan: warning: `cost_of_capital` is read as"), err
    assert main([*base, "--costs", _costs(tmp_path, "cost_of_capital: 0.08\ncost_of_capital_per_year: 0.08")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not both" in err, err
