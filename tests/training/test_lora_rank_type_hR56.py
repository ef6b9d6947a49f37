"""`lora_rank` that is not a whole number is one InputError line (hR, session 56). `train --lora-rank` gets it
from typer and the web from its request model, but a sweep point (`function: train`, `lora_rank: "16"` or 1.5 or
true in the spec) and the Python API reach `frozen_base.lora_spec` unchecked. Before: "16" was a TypeError ("'<' not
supported between instances of 'int' and 'str'"), 1.5 priced the step with rank-1.5 adapters and then failed in
the result's pydantic model (a multi-line ValidationError), true was priced as rank 1."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.sweep.functions import train_batch

POINT = {"model": "llama2-70b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 1, "cp": 4, "zero": 3,
         "seq_len": 8192, "global_batch": 8, "dtype": "fp8"}


@pytest.mark.parametrize("rank", ["16", 1.5, True])
def test_a_sweep_point_with_a_rank_not_whole_is_one_line(rank: object) -> None:
    (outcome,) = train_batch([{**POINT, "lora_rank": rank}])
    assert isinstance(outcome, InputError), repr(outcome)
    assert str(outcome) == f"--lora-rank must be a whole number (got {rank!r})"
