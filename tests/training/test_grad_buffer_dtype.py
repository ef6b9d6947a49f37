"""Megatron's gradient buffer takes the reduce dtype (`training.memory.grad_buffer_bytes`), and the DeepSeek-V3
frontier rows carry their Megatron-Bridge recipe's bf16 gradients and Adam moments
(`validation.sets.MODEL_RECIPE_STACK`)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.training.estimate import estimate_training
from infraplan.training.memory import GRAD_BYTES, grad_buffer_bytes
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.validation.sets import frontier_row_stack, load_frontier_rows


def test_megatron_buffers_follow_the_reduce_dtype_and_other_stacks_accumulate_fp32() -> None:
    nemo = load_stack("nemo-26.04")
    assert nemo.grad_reduce_dtype == "fp32" and grad_buffer_bytes(nemo) == GRAD_BYTES == 4.0
    assert grad_buffer_bytes(nemo.model_copy(update={"grad_reduce_dtype": "bf16"})) == 2.0
    assert grad_buffer_bytes(load_stack("megatron-lm-2021")) == 2.0  # fp16 reduce, fp16 main_grad buffer
    deepspeed = load_stack("deepspeed")
    assert deepspeed.grad_reduce_dtype == "bf16" and grad_buffer_bytes(deepspeed) == 4.0  # fp32 accumulation


def _memory(reduce_dtype: str, zero: int) -> dict[str, float]:
    clear_one_plan_memo()
    stack = load_stack("nemo-26.04").model_copy(update={"grad_reduce_dtype": reduce_dtype})
    result = estimate_training("llama3-70b", "dgx-h100-superpod", 64, tp=4, pp=4, seq_len=4096, global_batch=64,
                               micro_batch=1, zero=zero, recompute="full", stack=stack)
    return result.memory_breakdown_bytes.model_dump()


@pytest.mark.parametrize("zero", [1, 2])
def test_a_bf16_reduce_halves_the_gradient_memory_and_nothing_else(zero: int) -> None:
    fp32, bf16 = _memory("fp32", zero), _memory("bf16", zero)
    assert bf16["gradients"] == pytest.approx(fp32["gradients"] / 2.0)
    assert {k: v for k, v in bf16.items() if k != "gradients"} == {k: v for k, v in fp32.items() if k != "gradients"}


def test_deepseek_v3_rows_carry_the_recipes_optimizer_dtypes_and_the_others_the_stacks() -> None:
    rows = {r["id"]: r for r in load_frontier_rows()}
    for key in ("H015", "H017", "H018"):
        stack = frontier_row_stack(rows[key])
        assert (stack.grad_reduce_dtype, stack.adam_moment_dtype) == ("bf16", "bf16"), key
    for key in ("H004", "H011", "H025", "H026", "H029"):  # the recipes; their perf configs set bf16 (round 10)
        stack = frontier_row_stack(rows[key], perf_config=False)
        assert (stack.grad_reduce_dtype, stack.adam_moment_dtype) == ("fp32", "fp32"), key
