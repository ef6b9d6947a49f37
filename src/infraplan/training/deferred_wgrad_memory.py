"""The deferred wgrads' held tensors in activation memory (hD, session 66; `HELD_WGRAD_TENSORS`).

What is modelled: under Megatron-Core's `delay_wgrad_compute` (`MoeRouting.delay_wgrad_compute`, on the plans that run
the combined 1F1B: `combined_1f1b.combined_1f1b_plans`) each TE linear puts its wgrad GEMM and the two tensors it
reads in the module's store instead of running it and freeing them (Transformer Engine 2.14 module/linear.py:899
`ctx.wgrad_store.put([inputmat_total, grad_output], wgrad_gemm)`, layernorm_linear.py:910 `[ln_out_total,
grad_output]`, grouped_linear.py:485 `[inputmats, grad_output, wgrad_list]`; without the store they are freed
after the wgrad GEMM: linear.py:909-919, grouped_linear.py:495 `clear_tensor_data`). They are held until the
combined 1F1B's layer step runs the store (megatron-core 0.16.1 models/common/model_chunk_schedule_plan.py:190-254):
the routed experts' (and a dense layer's MLP's) at `b_layer.mlp.backward_dw()` (:231), after the MLP's backward and
the other micro-batch's dispatch; the attention's and the shared experts' at `b_layer.attn.backward_dw()` (:252,
`_BackwardDWWrapper`, models/gpt/fine_grained_callables.py:363-383: `MoELayer.backward_dw(routed_experts=False,
shared_experts=True)`, moe/moe_layer.py:452-457), after the attention's backward. So at most one layer's set is held
at a time, on every pipeline stage: the shared experts' from the MLP's backward to :252, beside the routed experts'
until :231 and the attention's from its backward; the peak per layer kind is max(shared + attention, shared + routed)
on a routed layer, max(attention, MLP) on a dense one, the most of the model's kinds (`held_wgrad_bytes`).

Priced per held GEMM (the layer's operation table, `ops.layer.layer_ops`: its m x n output, m x k input, count):
* the output gradient, m x n at 2 bytes an element (bf16; under an fp8 recipe TE keeps it quantised for both GEMMs,
  row- and column-wise, linear.py:579 `set_usage(rowwise=True, columnwise=True)`, layernorm_linear.py:632: 1 + 1
  bytes, their scales left out: ASSUMPTION, within 3 % for MXFP8's 1 / 32 scales). Never counted among the stored
  activations (`activation_memory`: the forward's saved tensors).
* the input, only where it is not the saved tensor: the column-parallel GEMMs' SP re-gathered input
  (`te_column_roles.column_parallel_roles`; linear.py:380-382, :649-675, layernorm_linear.py:412-414, :665-690), m x k
  at the recipe's GEMM operand bytes (gathered column-wise in its format), under sequence parallelism at TP > 1.
  Elsewhere the store holds the forward's saved input, already counted.
Not priced: the experts' `wgrad_list` (views of the fp32 main gradients under gradient accumulation fusion, the
recipes' setting: nothing new, ASSUMPTION elsewhere), the node's kept output gradients (fine_grained_callables.py
:306-310; the last linear's output gradient, the same tensor), the MTP layer's store (one more layer's set on the
stage that holds it, ASSUMPTION: left out). Without the deferral these tensors live one linear at a time inside its
backward, as before unpriced (the runtime reserve). False: not in memory, as before.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.precision import RECIPES
from infraplan.scalar_path import anywhere, is_plain, larger, pick
from infraplan.training.combined_1f1b import combined_1f1b_plans
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.te_column_roles import column_parallel_roles

HELD_WGRAD_TENSORS = True
GRAD_OUTPUT_BYTES = 2.0  # per output-gradient element: bf16, or fp8 row- and column-wise (module docstring)
_OPERAND_BYTES = np.array([RECIPES[d.label].operand_bytes for d in Dtype])  # GEMM operand bytes by `Dtype` code
_BF16, _FULL = int(Dtype.BF16), int(Recompute.FULL)
# the TE linears of each store (module docstring): run at :252 (attention, shared experts) or :231 (the MLP)
ATTENTION_ROLES = frozenset({"qkv", "attention_out", "q_down", "kv_down", "qkv_down", "q_up", "kv_up"})
SHARED_ROLES = frozenset({"shared_up", "shared_down"})
MLP_ROLES = frozenset({"expert_up", "expert_down", "ffn_up", "ffn_down"})


def held_wgrad_bytes(shape: TransformerShape, plan: PlanArrays, stack: Stack, any_vpp: bool = False) -> Any:
    """Bytes per GPU the deferred wgrads hold at their peak (module docstring) on the plans that defer them, 0.0 on
    the others (bytes over plans, or one plan's float); None where no plan defers (nothing to add). `any_vpp`: a
    search's rows, each standing for its (VP, schedule) pairs (the VP condition taken as met: an upper bound)."""
    if not HELD_WGRAD_TENSORS or not stack.moe.delay_wgrad_compute or not stack.moe.overlap_ep_comm:
        return None
    deferred = ((plan.recompute != _FULL) & (plan.ep > 1)) if any_vpp else combined_1f1b_plans(plan, stack)
    if not anywhere(deferred):
        return None
    one = is_plain(plan.tp)
    moe = stack.moe  # (the fields `layer_layout` gives the GEMM shapes; its casts are not read here)
    lay = Layout(tokens=plan.micro_batch * plan.seq_len / plan.cp, tp=plan.tp, ep=plan.ep, cp=plan.cp,
                 sequence_parallel=plan.sequence_parallel == 1, seq_len=plan.seq_len, batch=plan.micro_batch,
                 etp=plan.expert_tp, folded=plan.folded, expert_load_factor=moe.load_factor,
                 shared_expert_overlap=moe.shared_expert_overlap)
    gathered = (plan.sequence_parallel == 1) & (plan.tp > 1)
    operand = float(_OPERAND_BYTES[plan.dtype]) if one else _OPERAND_BYTES[plan.dtype]
    columns = column_parallel_roles(lay)
    peak: Any = 0.0
    kinds = shape.layer_kinds()
    for kind, _ in kinds:
        groups: dict[frozenset[str], Any] = {ATTENTION_ROLES: 0.0, SHARED_ROLES: 0.0, MLP_ROLES: 0.0}
        for g in layer_ops(kind if len(kinds) > 1 else shape, lay).gemms:
            group = next((roles for roles in groups if g.role in roles), None)
            if group is None:  # (the router and the indexer: not TE linears)
                continue
            held = g.m * g.n * g.count * GRAD_OUTPUT_BYTES
            if g.role in columns:  # the SP re-gathered input (elsewhere the saved one, counted)
                held = held + pick(gathered, g.m * g.k * g.count * operand, 0.0)
            groups[group] = groups[group] + held
        shared = groups[SHARED_ROLES]
        peak = larger(peak, shared + larger(groups[ATTENTION_ROLES], groups[MLP_ROLES]))
    return pick(deferred, peak, 0.0)
