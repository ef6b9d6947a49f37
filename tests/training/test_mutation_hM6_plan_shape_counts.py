"""Mutation wave 6 (hM6): what `ops.params.PLAN_SHAPE_COUNTS` keys on. A plan priced after another that differs
from it in one axis a kept count reads (EP, ETP, DP, the schedule, recompute, SP) gets the answer of the same plan
priced with every memo emptied first (the key holds that axis: `training.stage_params._kept_on_row`'s (what, TP, PP, EP,
ETP), `state_memory.kinds_state_terms`' plan axes and stage kinds,
`activation_memory.activation_bytes_per_token_layer`'s recompute and SP), and the axis changes the memory (so a stale
entry would show)."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.training import state_memory
from infraplan.training.activation_memory import FIRST, LAST
from infraplan.training.estimate import estimate_training, resolve_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

MIXTRAL: dict[str, Any] = {"tp": 2, "pp": 1, "cp": 1, "seq_len": 4096, "global_batch": 256, "micro_batch": 1,
                           "recompute": "full", "zero": 1, "dtype": "bf16"}
LLAMA: dict[str, Any] = {"tp": 8, "pp": 1, "cp": 1, "seq_len": 2048, "global_batch": 64, "micro_batch": 1, "zero": 1,
                         "dtype": "bf16", "attention": "unfused"}
MTP_STACK = load_stack("nemo-26.04").model_copy(update={"mtp_num_layers": 1})
QWEN: dict[str, Any] = {"pp": 4, "vpp": 2, "ep": 8, "seq_len": 4096, "global_batch": 64, "order": "tp-cp-dp-pp",
                        "stack": MTP_STACK}


def _memory(model: str, system: str, gpus: int, kw: dict[str, Any]) -> tuple[float, str]:
    r = estimate_training(model, system, gpus, **kw)
    return r.memory_per_gpu_bytes, r.to_json()


@pytest.mark.parametrize(("model", "system", "first", "second"), [
    ("mixtral-8x7b", "dgx-h100-superpod", (64, {**MIXTRAL, "ep": 2}), (64, {**MIXTRAL, "ep": 8})),  # EP
    ("mixtral-8x7b", "dgx-h100-superpod", (64, {**MIXTRAL, "ep": 4, "etp": 1}), (64, {**MIXTRAL, "ep": 4, "etp": 2})),
    ("mixtral-8x7b", "dgx-h100-superpod", (32, {**MIXTRAL, "ep": 4}), (64, {**MIXTRAL, "ep": 4})),  # DP 16 -> 32
    ("llama3-8b", "dgx-h100-superpod", (8, {**LLAMA, "recompute": "selective"}), (8, {**LLAMA, "recompute": "none"})),
    ("qwen3-30b-a3b", "dgx-b200", (32, {**QWEN, "schedule": "interleaved"}), (32, {**QWEN, "schedule": "zb-v"})),
    ("llama3-8b", "dgx-h100-superpod", (8, {**LLAMA, "sequence_parallel": True}),
     (8, {**LLAMA, "sequence_parallel": False})),  # SP
])
def test_a_plan_after_one_that_differs_in_a_keyed_axis_answers_as_fresh(model: str, system: str, first: Any,
                                                                        second: Any) -> None:
    clear_one_plan_memo()
    fresh = _memory(model, system, *second)
    clear_one_plan_memo()
    before = _memory(model, system, *first)
    clear_one_plan_memo(pricings=False)  # the counts kept, the plan's own pricing not
    kept = _memory(model, system, *second)
    clear_one_plan_memo()
    assert before[0] != fresh[0]  # the axis changes the memory: a stale count would show
    assert kept == fresh


def test_the_state_terms_of_one_stage_kind_are_kept_apart_from_anothers() -> None:
    """llama3-8b (untied embeddings: the first stage holds the embedding table, the last the LM head's, each its
    own), PP4: the first and last stages' weights, gradients and optimizer state per GPU, each kept under its own
    kind, the same after the other was asked first."""
    shape = load_model("llama3-8b")
    plan = resolve_training(shape, "dgx-h100-superpod", 32, tp=2, pp=4, seq_len=4096, global_batch=64).plan.one_row
    stack = load_stack("nemo-26.04").model_copy(update={"account_for_loss_in_pipeline_split": True})
    clear_one_plan_memo()
    first = state_memory.state_terms(shape, plan, stack, 1.0, FIRST)
    clear_one_plan_memo()
    last = state_memory.state_terms(shape, plan, stack, 1.0, LAST)
    assert state_memory.state_terms(shape, plan, stack, 1.0, FIRST) == first != last
    clear_one_plan_memo()
