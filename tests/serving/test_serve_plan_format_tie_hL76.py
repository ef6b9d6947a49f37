"""hL (session 76): serve-plan's tie between weight formats at equal accelerators is a rule, said in the answer.

On the base the tie went to the order of --dtypes (the search keeps equal options in enumeration order): llama3-8b at
5 req/s of chat on H200, bf16 and fp8 both on 1 GPU, answered bf16 for `--dtypes bf16,fp8` and fp8 for
`--dtypes fp8,bf16`, silently. Now ties go to the checkpoint's own format, then the wider (`capacity_space.tie_order`:
a quantised format only where it saves accelerators, as MTP and wide EP), and the answer says so.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.loader import load_model
from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_space import format_tie_note, tie_order


@pytest.mark.parametrize("dtypes", [("bf16", "fp8"), ("fp8", "bf16")])
def test_the_order_of_dtypes_does_not_choose(dtypes: tuple[str, str]) -> None:
    plan = search_capacity("llama3-8b", "hgx-h200", 5.0, workload="chat", dtypes=dtypes)
    assert plan.gpus == 1 and plan.deployment is not None
    assert plan.deployment.dtype == "bf16"
    assert any(a.gpus == 1 and a.dtype == "fp8" for a in plan.alternatives)  # the tie, listed
    assert any(n.startswith("fp8 weights also meet the SLOs on 1 GPU") and "bf16 chosen" in n for n in plan.notes)


def test_the_rule() -> None:
    dense, native_fp8 = load_model("llama3-8b"), load_model("deepseek-v3")
    assert tie_order(dense, ["int4", "fp8", "bf16", "nvfp4"]) == ["bf16", "fp8", "nvfp4", "int4"]
    assert tie_order(native_fp8, ["bf16", "fp8"]) == ["fp8", "bf16"]  # its checkpoint's format first
    chosen = {"gpus": 2, "dtype": "bf16"}
    assert format_tie_note(chosen, [{"gpus": 4, "dtype": "fp8"}, {"gpus": 2, "dtype": "bf16"}]) == []
    assert format_tie_note(chosen, [{"gpus": 2, "dtype": "fp8"}, {"gpus": 2, "dtype": "fp8"}])[0].startswith(
        "fp8 weights also meet the SLOs on 2 GPUs")
