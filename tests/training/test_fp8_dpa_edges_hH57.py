"""Edges of hA57's saved-tensor count of the fused attention (`training.fp8_dpa.attention_saved_terms`) its own
tests did not pin (hH57's hand mutants, each surviving the hA57 file):

* where the output projection saves the bf16 O itself (no narrowed copy: `quantized_gemm_inputs` off, or `attn_out`
  in the stack's fp8 activation cache), current-scaling fp8 attention keeps that same bf16 O (TE 2.14
  backends.py:1316-1320, `qkvo_tensors = (None, None, None, out)`, the tensor it returns): nothing beside it; delayed
  scaling keeps out_fp8, a tensor apart (:1289-1291, :1322): +1 B an element. (Mutant: current scaling's O always
  +2 B.)
* the unfused attention saves no O of its own (its backward reads the probabilities and V): nothing beside a narrowed
  projection input. (Mutant: held on every kernel.)
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops.params import activation_terms_per_token_layer, quantized_gemm_inputs
from infraplan.ops.precision import RECIPES
from infraplan.training.activation_memory import activation_bytes_per_token_layer
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.recompute_modules import stored_activation_terms

SEQ = 8192


pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")  # the one-plan memo forgotten around each test


def _stack(dpa: bool, recipe: str, narrowed: bool = True):  # type: ignore[no-untyped-def]
    base = load_stack("nemo-26.04")
    assert base.quantized_gemm_inputs and "attn_out" not in base.fp8_activation_cache  # narrows the projection input
    fp8 = base.fp8.model_copy(update={"dot_product_attention": dpa, "recipe": recipe})
    return base.model_copy(update={"fp8": fp8, **({} if narrowed else {"quantized_gemm_inputs": False})})


def _plan(attention: Attention = Attention.FLASH) -> PlanArrays:
    return PlanArrays.build(tp=np.full(1, 4.0), pp=1, dp=1, cp=np.full(1, 2.0), ep=1, vpp=1, micro_batch=1,
                            global_batch=8, seq_len=SEQ, recompute=Recompute.NONE, zero=1, dtype=Dtype.FP8,
                            attention=attention, order=RankOrder.TP_CP_DP_PP).one_row


def _extra(stack, plan: PlanArrays) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(the model's bytes per token and layer less the generic stored terms, the bf16 attn_out term, qkv's)."""
    shape = load_model("llama2-70b")
    unfused = bool(plan.attention == int(Attention.UNFUSED))  # the unfused kernel keeps its scores
    terms = activation_terms_per_token_layer(shape, plan.tp, plan.sequence_parallel, plan.seq_len, unfused)
    stored = stored_activation_terms(terms, False, True, stack, quantized_gemm_inputs(shape),
                                     RECIPES["fp8"].operand_bytes)
    total = float(activation_bytes_per_token_layer(shape, plan, stack))
    return total - sum(stored.values()), float(terms["attn_out"]), float(terms["qkv"])


@pytest.mark.parametrize(("recipe", "dpa", "o_bytes"), [
    ("current", True, 0.0),  # the bf16 O the projection saves is the one the attention keeps
    ("delayed", True, 1.0),  # out_fp8 apart from it
    ("current", False, 0.0),  # bf16 attention: shared
])
def test_an_unnarrowed_projection_input_shares_the_attentions_bf16_o(recipe: str, dpa: bool, o_bytes: float) -> None:
    extra, attn_out, qkv = _extra(_stack(dpa, recipe, narrowed=False), _plan())
    q_saving = qkv / 2.0 if dpa else 0.0  # q/k/v_fp8 at 1 B in place of the bf16 2 B
    assert extra == pytest.approx(attn_out * o_bytes / 2.0 - q_saving, rel=1e-12, abs=1e-9)


def test_the_unfused_attention_keeps_no_o_of_its_own() -> None:
    stack = _stack(False, "current")
    flash, attn_out, _ = _extra(stack, _plan())
    assert flash == pytest.approx(attn_out, rel=1e-12)  # the fused kernel's bf16 O beside the narrowed copy
    unfused, _, _ = _extra(stack, _plan(Attention.UNFUSED))
    assert unfused == pytest.approx(0.0, abs=1e-9)
