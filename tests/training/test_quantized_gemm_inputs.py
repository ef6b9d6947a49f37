"""Transformer Engine stacks store the GEMM inputs for backward in the GEMM's low-precision format
(`Stack.quantized_gemm_inputs`, `ops.params.quantized_gemm_inputs`)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops.params import activation_terms_per_token_layer, quantized_gemm_inputs
from infraplan.ops.precision import RECIPES
from infraplan.training.estimate import estimate_training
from infraplan.training.one_plan_memo import clear_one_plan_memo

TE_STACK = "nemo-26.04"


def _activations_gb(model: str, dtype: str, quantized: bool, tp: int = 2) -> float:
    clear_one_plan_memo()
    stack = load_stack(TE_STACK).model_copy(update={"quantized_gemm_inputs": quantized})
    result = estimate_training(model, "gb200-nvl72", 64, tp=tp, pp=1, seq_len=4096, global_batch=64,
                               micro_batch=1, dtype=dtype, stack=stack)
    return result.memory_breakdown_bytes.activations / 1e9


def test_the_nemo_stack_stores_quantised_gemm_inputs_and_the_default_does_not() -> None:
    assert load_stack(TE_STACK).quantized_gemm_inputs
    assert not load_stack("megatron-core-0.8").quantized_gemm_inputs
    assert not load_stack("deepseek-v3").quantized_gemm_inputs  # HAI-LLM: its own fp8 cache list


@pytest.mark.parametrize("dtype", ["fp8", "mxfp8", "nvfp4"])
def test_low_precision_plans_store_each_narrowed_input_at_the_recipe_operand_bytes(dtype: str) -> None:
    """Dense Llama: the narrowed terms shrink from 2 B to the recipe's operand bytes per element, nothing else;
    the output projection's input is the fused attention's saved O too, kept in bf16 beside the narrowed copy
    (`training.fp8_dpa.ATTENTION_SAVES_OUTPUT`, hA57: TE 2.14 FusedAttnFunc saves its bf16 out, backends.py:1316-
    1335), so narrowing it adds the copy's operand bytes (updated in hA57: before, it shrank like the others)."""
    shape = load_model("llama3-70b")
    terms = activation_terms_per_token_layer(shape, 2, 1, 4096, False)
    operand = RECIPES[dtype].operand_bytes / 2.0
    narrowed = sum(terms[t] for t in quantized_gemm_inputs(shape) if t != "attn_out")
    tokens_layers_gb = (_activations_gb("llama3-70b", dtype, False) - _activations_gb("llama3-70b", dtype, True))
    expected_share = (narrowed * (1.0 - operand) - terms["attn_out"] * operand) / sum(terms.values())
    measured_share = tokens_layers_gb / _activations_gb("llama3-70b", dtype, False)
    # stored activations also hold the layer-independent pipeline / head terms: the share is a lower bound
    assert measured_share == pytest.approx(expected_share, rel=0.05)


def test_bf16_plans_are_unchanged_and_narrower_formats_store_less() -> None:
    assert _activations_gb("llama3-70b", "bf16", True) == pytest.approx(_activations_gb("llama3-70b", "bf16", False))
    stored = {d: _activations_gb("llama3-70b", d, True) for d in ("bf16", "mxfp8", "fp8", "nvfp4")}
    assert stored["nvfp4"] < stored["fp8"] < stored["mxfp8"] < stored["bf16"]


def test_router_and_mla_inputs_stay_bf16() -> None:
    """An MoE layer's MLP input is saved by the router (outside TE), MLA's QKV input by two down projections."""
    dense, moe, mla = load_model("llama3-70b"), load_model("qwen3-30b-a3b"), load_model("deepseek-v3")
    assert {"qkv_input", "mlp_input", "attn_out", "ffn_act_out"} <= set(quantized_gemm_inputs(dense))
    assert "mlp_input" not in quantized_gemm_inputs(moe) and "qkv_input" in quantized_gemm_inputs(moe)
    assert "qkv_input" not in quantized_gemm_inputs(mla) and "expert_act_out" in quantized_gemm_inputs(mla)
