"""Session 48 review (hR55) of session 47's catalog code: no boolean where a number goes, numeric Literals too.

`catalog.spec_base.takes_numbers` read a `Literal` as never numeric, and pydantic's Literal check reads `true` as 1
(True == 1): a stack file's `default_zero: true` was ZeRO-1 and `zero_stages: [0, true, 3]` ZeRO 0, 1 and 3, without
a word (`FrameworkRules`), the hole hC51's rule was written to close.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pytest
import yaml

from infraplan.catalog.spec_base import BOOLEAN_NOT_A_NUMBER, takes_numbers
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError

SHIPPED = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "stacks" / "torchtitan.yaml"


def test_a_numeric_literal_takes_numbers_and_a_named_one_does_not() -> None:
    assert takes_numbers(Literal[0, 1, 2, 3]) and takes_numbers(tuple[Literal[0, 1, 2, 3], ...] | None)
    assert takes_numbers(Literal[50.0, 90.0, 99.0])
    assert not takes_numbers(Literal["megatron", "torch"]) and not takes_numbers(Literal[True])


@pytest.mark.parametrize(("field", "value"), [("default_zero", True), ("zero_stages", [0, True, 3]),
                                              ("pipeline_default_zero", False)])
def test_a_boolean_zero_stage_in_a_stack_file_is_refused(tmp_path: Path, field: str, value: object) -> None:
    data = yaml.safe_load(SHIPPED.read_text())
    data.update({"name": "mine", "zero_stages": [0, 1, 2, 3], "pipeline_zero_stages": [0, 1, 2, 3], field: value})
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=re.escape(f"{field}: {BOOLEAN_NOT_A_NUMBER}")):
        load_stack(str(path))
    data[field] = 1 if field != "zero_stages" else [0, 1, 3]  # the number itself still reads
    path.write_text(yaml.safe_dump(data))
    assert load_stack(str(path)).name == "mine"
