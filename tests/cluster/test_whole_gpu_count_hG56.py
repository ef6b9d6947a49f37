"""hG (session 56): the Python API refuses a count of accelerators that is not a whole number in one InputError
line, as the CLI (an int option) and the web (`gpus 8.5: must be a valid integer`) do. `estimate_training(...,
8.5)` said "--gpus 8.5 is not divisible by TP x PP x CP = 1", nan the same, inf on an accelerator preset a raw
ValueError ("cannot convert float NaN to integer"), "8" a TypeError, and True ran 1 GPU (the web refuses a JSON
boolean for a number, hX60). A float that is a whole number (8.0, as a YAML or a sweep may give) still runs."""

from __future__ import annotations

import math

import pytest

from infraplan.errors import InputError
from infraplan.training import estimate_training

PLAN = {"tp": 1, "seq_len": 2048, "global_batch": 64}


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "h100-sxm"])
@pytest.mark.parametrize("gpus", [8.5, math.nan, math.inf, True, "8"])
def test_a_count_that_is_not_whole_is_refused_in_one_line(system: str, gpus: object) -> None:
    with pytest.raises(InputError, match=r"^--gpus must be a whole number of accelerators, got "):
        estimate_training("llama3-8b", system, gpus, **PLAN)  # type: ignore[arg-type]


def test_a_whole_float_still_runs() -> None:
    assert estimate_training("llama3-8b", "dgx-h100-superpod", 8.0, **PLAN).config.gpus == 8  # type: ignore[arg-type]
