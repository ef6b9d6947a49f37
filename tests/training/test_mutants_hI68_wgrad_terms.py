"""hI68: hD67's weight-gradient terms (`training.deferred_wgrad_memory`) on a model with dense and routed layers and a
shared expert, DeepSeek-V3 (h 7,168, 256 routed experts of 2,048 and one shared of 2,048, 3 dense layers of 18,432,
MLA), where hD67's Qwen3-30B-A3B tests (no shared expert, no dense layer) could not see a change.

* Deferred, without gradient accumulation fusion, only the grouped linears' `wgrad_list` joins the held store (TE
  2.14 grouped_linear.py:432-438, :485); a plain linear (the shared expert's) writes its wgrad inside `backward_dw`
  (linear.py:899), so it adds nothing held. TP 2 (ETP 2) EP 8: 32 local experts of FC1 7,168 x 2,048 and FC2
  1,024 x 7,168, bf16: 32 x 22,020,096 x 2 B = 1,409,286,144 B.
* Megatron-Core builds the MTP layer on an MoE layer (fine_grained_callables.py:616-618), so with one expert a token
  (the routed layer's store the decoder's largest) the MTP stage adds eh_proj's output gradient (T x h / TP) and its
  SP-gathered 2h input (T x 2h), bf16, T = 4,096: 29,360,128 + 117,440,512 = 146,800,640 B, not a dense layer's.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.training.activation_memory import mtp_activation_bytes
from infraplan.training.memory import memory_breakdown
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")
NEMO = load_stack("nemo-26.04")


def _stack(fused: bool = True, mtp: int = 0) -> Stack:
    """nemo-26.04 with the combined 1F1B and deferred wgrads (as hD67's tests set it up)."""
    moe = NEMO.moe.model_copy(update={"overlap_ep_comm": True, "delay_wgrad_compute": True})
    return NEMO.model_copy(update={"moe": moe, "expert_parallel_layout": "ep-inside-dp",
                                   "pipeline_split_divisible": False, "tp_comm_overlap_fraction": 0.0,
                                   "tp_overlap_sm_fraction": 0.0, "gradient_accumulation_fusion": fused,
                                   "mtp_num_layers": mtp})


def _plan(shape: object) -> PlanArrays:
    """64 GPUs: TP 2 with SP, EP 8, PP 1, micro-batch 1, no recompute, bf16, seq 4,096."""
    rows = enumerate_plans(shape, 64, 4096, 512, ["bf16"], 8)  # type: ignore[arg-type]
    keep = (valid_mask(shape, rows) & (rows.tp == 2) & (rows.ep == 8) & (rows.pp == 1) & (rows.cp == 1)  # type: ignore[arg-type]
            & (rows.micro_batch == 1) & (rows.recompute == 0) & (rows.sequence_parallel == 1) & (rows.zero == 1))
    return rows.take(np.flatnonzero(keep)[:1])


def _activations(shape: object, plan: PlanArrays, stack: Stack) -> float:
    return float(memory_breakdown(shape, plan, stack)["activations"][0])  # type: ignore[arg-type]


def test_only_grouped_linears_hold_fresh_wgrads_under_the_deferral() -> None:
    shape = load_model("deepseek-v3")
    plan = _plan(shape)
    fc1, fc2 = 7168.0 * 2 * 2048 / 2, 2048 / 2 * 7168.0
    held = _activations(shape, plan, _stack(fused=False)) - _activations(shape, plan, _stack())
    assert held == pytest.approx(256 / 8 * (fc1 + fc2) * 2.0, rel=1e-12)


def test_the_mtp_layer_is_a_routed_layer() -> None:
    shape = load_model("deepseek-v3").model_copy(update={"experts_per_token": 1})
    plan = _plan(shape)
    with_mtp = _stack(mtp=1)
    added = _activations(shape, plan, with_mtp) - _activations(shape, plan, _stack()) \
        - float(mtp_activation_bytes(shape, plan, with_mtp)[0])
    tokens, h = 4096.0, 7168.0
    assert added == pytest.approx(tokens * h / 2 * 2.0 + tokens * 2 * h * 2.0, rel=1e-9)
