"""`sweep.query.renamed_column`: an input column named before it carried its unit gets the one line naming the new
name; anything else (a new name, another column, a word that merely contains an old name) gets None."""

from __future__ import annotations

import pytest

from infraplan.sweep.functions import INPUT_UNITS
from infraplan.sweep.query import renamed_column


@pytest.mark.parametrize("old", sorted(INPUT_UNITS))
def test_every_renamed_input_column_names_its_new_name(old: str) -> None:
    error = f'Binder Error: Referenced column "in_{old}" not found in FROM clause!'
    assert renamed_column(error) == (f"--sql: column in_{old} is now in_{INPUT_UNITS[old]} (sweep input columns "
                                     "carry their unit in the name)")
    assert renamed_column(f"in_{old}", flag="--pareto").startswith(f"--pareto: column in_{old} is now")  # type: ignore[union-attr]


def test_new_names_and_other_columns_are_not_renamed() -> None:
    for new in INPUT_UNITS.values():
        assert renamed_column(f'Referenced column "in_{new}" not found') is None
    assert renamed_column('Referenced column "out_power" not found') is None  # an output column, not an input
    assert renamed_column('Referenced column "min_power" not found') is None  # contains in_power, not the column
    assert renamed_column('Referenced column "in_model" not found') is None  # an input never renamed
