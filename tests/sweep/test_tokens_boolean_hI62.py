"""A whole run's `tokens` refuses a boolean (hI62): a sweep spec's `tokens: true` was read as 1 token (`parse_count`
took a bool for an int) and refused as "--tokens 1 is less than one step's ... tokens", a size nobody wrote."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.sweep.functions import run_batch
from infraplan.units import parse_count

POINT = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 2, "seq_len": 4096,
         "global_batch": 512, "tokens": True}


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_count_is_refused_as_written(value: bool) -> None:
    with pytest.raises(InputError, match=f"'{value}'"):
        parse_count(value, name="--tokens")
    assert parse_count(2048) == 2048.0 and parse_count(1.5e12) == 1.5e12  # numbers stay numbers


def test_a_sweep_point_with_tokens_true_names_the_value() -> None:
    row = run_batch("train", [("a", POINT)], 0)[0]
    assert row["error"] is not None and "'True'" in row["error"] and "less than one step" not in row["error"]
    assert "\n" not in row["error"]
