"""A cost file's refusal reads as one clean line (hH57's hostile input on hC57's `cost_of_capital_per_year`).

Both keys in one file are refused by a model-level check, whose pydantic error has an empty location and the
"Value error, " prefix: the line read "invalid cost file 'c.yaml': : Value error, give cost_of_capital_per_year ...".
Now the file and the reason, nothing between; a field's error keeps its field. Fails before (": : Value error")."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.cluster.cost import CostOverrides
from infraplan.errors import InputError


def test_both_keys_give_one_clean_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("cost_of_capital: 0.08\ncost_of_capital_per_year: 0.08\n")
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "8", "--costs", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"infraplan: error: invalid cost file {str(path)!r}: give cost_of_capital_per_year (a fraction "
                   "per year) or its old name cost_of_capital, not both\n"), err
    path.write_text("load_factor: 1.5\n")
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "8", "--costs", str(path)]) == 2
    assert "invalid cost file" in (err := capsys.readouterr().err) and ": load_factor: " in err


def test_the_python_apis_merge_gives_the_same_line() -> None:
    with pytest.raises(InputError) as info:
        CostOverrides().merged(cost_of_capital=0.1, cost_of_capital_per_year=0.1)
    assert str(info.value) == ("invalid override: give cost_of_capital_per_year (a fraction per year) or its old name "
                               "cost_of_capital, not both")
