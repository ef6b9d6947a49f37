"""The weight gradients' tensors in activation memory: the deferred wgrads' held tensors (hD, session 66;
`HELD_WGRAD_TENSORS`), the MTP layer's and the fresh wgrad buffers without gradient accumulation fusion (hD67), a
plain linear's fresh wgrad while its store runs (hD68).

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
The MTP layer (hD67, `MTP_HELD_WGRADS`, `mtp_extra_bytes`): the combined 1F1B schedules it as one more layer
(megatron-core 0.16.1 models/gpt/fine_grained_callables.py:609-689 `build_mtp_layer_callables`, an MoE layer only,
:617-618): its transformer layer's stores as above, and eh_proj (the 2h -> h TE column-parallel linear,
transformer/multi_token_prediction.py:651-661, 737; `TEColumnParallelLinear` takes `delay_wgrad_compute`, a
`TELinear`, extensions/transformer_engine.py:934, :525-527) in its attention's store (fine_grained_callables.py
:684-687), with its SP-gathered 2h input under SP at TP > 1 (without SP its saved input, counted:
`activation_memory._MTP_SIDE_VALUES`). One layer's set at a time still, so the stage holding the MTP modules adds
max(0, the MTP layer's - the decoder's).
Fresh wgrad buffers (hD67, `FRESH_WGRAD_BUFFERS`): on a Megatron stack with `gradient_accumulation_fusion` off, TE
is built with `fuse_wgrad_accumulation` False (extensions/transformer_engine.py:626, :828, :1537) and each linear
writes its wgrad to a new tensor in the activation dtype (TE 2.14 module/linear.py:850-860 `out_dtype
activation_dtype`, `out None`); a grouped linear allocates one per local expert before its grouped GEMM
(grouped_linear.py:432-438 `wgrad_list = [torch.empty(w.size(), dtype=ctx.activation_dtype) ...]`), which
Megatron's DDP hook adds into `main_grad` and frees (megatron-core distributed/distributed_data_parallel.py:438-441
`param.main_grad.add_(param.grad.data)`, `param.grad = None`). Not deferred, that is a transient of the backward
on top of the stored activations: the largest one TE module writes at once (a grouped linear's local experts
together, else one weight) at 2 bytes an element (`fresh_wgrad_bytes`). Deferred, the grouped linears' `wgrad_list`
is held in their store with the tensors above (grouped_linear.py:485) until `backward_dw` (:1105-1110): added to
the routed experts' set; a plain linear's wgrad is written inside `backward_dw` (linear.py:899: the store holds no
output; base.py:1572-1582 pops the GEMM, sets the weight's `.grad`, runs the hook that adds and frees it), beside
that linear's and the later linears' held tensors: each store run peaks at max over its linears, in Megatron-Core's
order, of (the held tensors from that linear on + its wgrad) (hD68, `PLAIN_WGRAD_IN_STORE`, `_run_peak`). The main
gradients themselves (one fp32 / bf16 buffer, experts in their own, param_and_grad_buffer.py:814-837,
distributed_data_parallel.py:296) are the state memory's gradient buffer, fused or not. With fusion on, `wgrad_list`
is the main gradients' views (grouped_linear.py:432-433): nothing.
Not priced: the node's kept output gradients (fine_grained_callables.py:306-310; the last linear's output gradient,
the same tensor). False: not in memory, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import Gemm, Layout, layer_ops
from infraplan.ops.precision import RECIPES
from infraplan.scalar_path import anywhere, is_plain, larger, pick
from infraplan.training.combined_1f1b import combined_1f1b_plans
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.te_column_roles import column_parallel_roles

HELD_WGRAD_TENSORS = True
MTP_HELD_WGRADS = True  # hD67: the MTP layer's store on the stage that holds it (False: left out, as before)
FRESH_WGRAD_BUFFERS = True  # hD67: the fresh wgrad buffers without gradient accumulation fusion (False: unpriced)
GRAD_OUTPUT_BYTES = 2.0  # per output-gradient element: bf16, or fp8 row- and column-wise (module docstring)
FRESH_WGRAD_BYTES = 2.0  # per weight element of a fresh wgrad: the activation dtype, bf16 (module docstring)
_OPERAND_BYTES = np.array([RECIPES[d.label].operand_bytes for d in Dtype])  # GEMM operand bytes by `Dtype` code
_BF16, _FULL = int(Dtype.BF16), int(Recompute.FULL)
# the TE linears of each store (module docstring): run at :252 (attention, shared experts) or :231 (the MLP)
ATTENTION_ROLES = frozenset({"qkv", "attention_out", "q_down", "kv_down", "qkv_down", "q_up", "kv_up", "eh_proj"})
SHARED_ROLES = frozenset({"shared_up", "shared_down"})
MLP_ROLES = frozenset({"expert_up", "expert_down", "ffn_up", "ffn_down"})
_TE_ROLES = ATTENTION_ROLES | SHARED_ROLES | MLP_ROLES  # (the router and the indexer: not TE linears)
PLAIN_WGRAD_IN_STORE = True  # hD68: a plain linear's fresh wgrad while its store runs (False: left out, as before)
# the order the stores run in (megatron-core 0.16.1): :252's shared experts first, fc2 then fc1 (fine_grained_callables
# .py:372-378, transformer/mlp.py:270-272), then the attention (attention.py:1493-1504 qkv, proj; MLA
# multi_latent_attention.py:946-967 kv up, kv down, q down, q up, proj) and the MTP layer's eh_proj (:684-687); :231's
# MLP fc2 then fc1
DW_ORDER = ("shared_down", "shared_up", "kv_up", "kv_down", "q_down", "q_up", "qkv_down", "qkv", "attention_out",
            "eh_proj", "expert_down", "expert_up", "ffn_down", "ffn_up")


def held_wgrad_bytes(shape: TransformerShape, plan: PlanArrays, stack: Stack, any_vpp: bool = False,
                     mtp: bool = False) -> Any:
    """Bytes per GPU the deferred wgrads hold at their peak (module docstring) on the plans that defer them, 0.0 on
    the others (bytes over plans, or one plan's float); None where no plan defers (nothing to add). `any_vpp`: a
    search's rows, each standing for its (VP, schedule) pairs (the VP condition taken as met: an upper bound).
    `mtp`: the peak of the decoder's layers and the stack's MTP layer (the stage that holds it; else the decoder's)."""
    if not HELD_WGRAD_TENSORS or not stack.moe.delay_wgrad_compute or not stack.moe.overlap_ep_comm:
        return None
    deferred = _deferred(plan, stack, any_vpp)
    if not anywhere(deferred):
        return None
    with_mtp = mtp and MTP_HELD_WGRADS and stack.mtp_num_layers > 0
    decoder, mtp_layer = _walk(shape, plan, stack, with_mtp, True)
    return pick(deferred, decoder if mtp_layer is None else larger(decoder, mtp_layer), 0.0)


def mtp_extra_bytes(shape: TransformerShape, plan: PlanArrays, stack: Stack, held_set: bool = True) -> Any:
    """What the stage holding the stack's MTP modules adds to the decoder's held deferred wgrads and fresh wgrad
    buffers (`held_wgrad_bytes`, `fresh_wgrad_bytes`: one layer's at a time, so max(0, the MTP layer's - the
    decoder's)), bytes over plans or one plan's float; None where neither is priced (module docstring).
    `held_set` False: the fresh buffers' part alone (the search's high bound, whose `held_wgrad_bytes(mtp=True)`
    has the MTP layer's held set in it already; hD68)."""
    if not stack.mtp_num_layers or not MTP_HELD_WGRADS:
        return None
    extra: Any = None
    held = HELD_WGRAD_TENSORS and stack.moe.delay_wgrad_compute and stack.moe.overlap_ep_comm
    deferred = _deferred(plan, stack, False) if held else False
    if held_set and anywhere(deferred):
        decoder, layer = _walk(shape, plan, stack, True, True)
        extra = pick(deferred, larger(layer - decoder, 0.0), 0.0)
    if _fresh_stack(stack) and not (is_plain(deferred) and deferred):
        decoder, layer = _walk(shape, plan, stack, True, False)
        more = pick(deferred, 0.0, larger(layer - decoder, 0.0))
        extra = more if extra is None else extra + more
    return extra


def fresh_wgrad_bytes(shape: TransformerShape, plan: PlanArrays, stack: Stack) -> Any:
    """Bytes per GPU of the largest fresh wgrad buffer one TE module writes at once on a Megatron stack without
    gradient accumulation fusion (module docstring), on the plans that do not defer their wgrads (the deferred ones
    hold the grouped linears' in their store: `held_wgrad_bytes`), 0.0 there; None where the stack fuses."""
    if not _fresh_stack(stack):
        return None
    held = HELD_WGRAD_TENSORS and stack.moe.delay_wgrad_compute and stack.moe.overlap_ep_comm
    deferred = _deferred(plan, stack, False) if held else False
    if is_plain(deferred) and deferred:
        return None
    decoder, _ = _walk(shape, plan, stack, False, False)
    return pick(deferred, 0.0, decoder)


def _fresh_stack(stack: Stack) -> bool:
    """A Megatron stack whose TE linears write a fresh wgrad (`gradient_accumulation_fusion` off)."""
    return FRESH_WGRAD_BUFFERS and stack.stack_class == "megatron" and not stack.gradient_accumulation_fusion


def _deferred(plan: PlanArrays, stack: Stack, any_vpp: bool) -> Any:
    """Where the wgrads are deferred (`combined_1f1b_plans`; `any_vpp`: the VP condition taken as met)."""
    return ((plan.recompute != _FULL) & (plan.ep > 1)) if any_vpp else combined_1f1b_plans(plan, stack)


def _walk(shape: TransformerShape, plan: PlanArrays, stack: Stack, mtp: bool, held: bool) -> tuple[Any, Any]:
    """(the decoder's peak, the MTP layer's or None without `mtp`): `held` the deferred store's bytes (the most
    of max(shared + attention, shared + MLP) per layer kind), else the largest fresh wgrad buffer of one TE module
    (module docstring). The MTP layer: the decoder's routed kind (Megatron-Core's combined 1F1B builds it only on an
    MoE layer, fine_grained_callables.py:616-618) with eh_proj in its attention's store (:684-687)."""
    one = is_plain(plan.tp)
    moe = stack.moe  # (the fields `layer_layout` gives the GEMM shapes; its casts are not read here)
    lay = Layout(tokens=plan.micro_batch * plan.seq_len / plan.cp, tp=plan.tp, ep=plan.ep, cp=plan.cp,
                 sequence_parallel=plan.sequence_parallel == 1, seq_len=plan.seq_len, batch=plan.micro_batch,
                 etp=plan.expert_tp, folded=plan.folded, expert_load_factor=moe.load_factor,
                 shared_expert_overlap=moe.shared_expert_overlap)
    gathered = (plan.sequence_parallel == 1) & (plan.tp > 1)
    operand = float(_OPERAND_BYTES[plan.dtype]) if one else _OPERAND_BYTES[plan.dtype]
    columns = (*column_parallel_roles(lay), "eh_proj")
    kinds = shape.layer_kinds()
    h = shape.hidden_size
    # eh_proj: a TE column-parallel linear 2h -> h (multi_token_prediction.py:651-661), on the T tokens (SP-gathered)
    eh_proj = Gemm("eh_proj", lay.tokens, h / plan.tp, 2.0 * h)
    peak: Any = 0.0
    mtp_peak: Any = None
    for index, (kind, _) in enumerate(kinds):
        gemms = layer_ops(kind if len(kinds) > 1 else shape, lay).gemms
        for extra in ((False, True) if mtp and index == 0 else (False,)):
            layer = [*gemms, eh_proj] if extra else gemms
            value = _held(layer, columns, gathered, operand, stack) if held else _largest_fresh(layer)
            if extra:
                mtp_peak = value
            else:
                peak = larger(peak, value)
    return peak, mtp_peak


def _held(gemms: Sequence[Gemm], columns: tuple[str, ...], gathered: Any, operand: Any, stack: Stack) -> Any:
    """One layer's held deferred-wgrad bytes at its peak: max(shared + attention, shared + MLP) (module docstring);
    without gradient accumulation fusion each plain linear's fresh wgrad on top while its store runs, in
    Megatron-Core's `backward_dw` order (`_run_peak`, hD68)."""
    groups: dict[frozenset[str], list[tuple[int, Any, Any]]] = {ATTENTION_ROLES: [], SHARED_ROLES: [], MLP_ROLES: []}
    fresh = _fresh_stack(stack)
    for g in gemms:
        group = next((roles for roles in groups if g.role in roles), None)
        if group is None:  # (the router and the indexer: not TE linears)
            continue
        held = g.m * g.n * g.count * GRAD_OUTPUT_BYTES
        if g.role in columns:  # the SP re-gathered input (elsewhere the saved one, counted)
            held = held + pick(gathered, g.m * g.k * g.count * operand, 0.0)
        if fresh and g.grouped:  # the grouped linear's `wgrad_list`, fresh weight-shaped buffers (docstring)
            held = held + g.k * g.n * g.count * FRESH_WGRAD_BYTES
        written = g.k * g.n * FRESH_WGRAD_BYTES if fresh and not g.grouped and PLAIN_WGRAD_IN_STORE else 0.0
        groups[group].append((DW_ORDER.index(g.role), held, written))
    if not (fresh and PLAIN_WGRAD_IN_STORE):
        shared, attention, mlp = (sum((h for _, h, _ in groups[k]), 0.0) for k in (SHARED_ROLES, ATTENTION_ROLES,
                                                                                     MLP_ROLES))
        return shared + larger(attention, mlp)
    shared_total = sum((h for _, h, _ in groups[SHARED_ROLES]), 0.0)
    at_mlp = shared_total + _run_peak(groups[MLP_ROLES])  # :231, the shared set still held
    return larger(at_mlp, _run_peak(groups[SHARED_ROLES] + groups[ATTENTION_ROLES]))  # :252, shared experts first


def _run_peak(modules: list[tuple[int, Any, Any]]) -> Any:
    """The most a store run holds: each module in `backward_dw` order (`DW_ORDER`) writes its fresh wgrad beside its
    own and the later modules' held tensors (TE 2.14 module/base.py:1572-1582: `pop()` runs the GEMM, the weight's
    `.grad` is that tensor until Megatron's hook adds it into main_grad and frees it; the popped tensors go at the
    method's return), so max over k of (held k.. + wgrad k)."""
    peak: Any = 0.0
    later: Any = 0.0
    for _, held, written in sorted(modules, key=lambda module: module[0], reverse=True):
        later = later + held
        peak = larger(peak, later + written)
    return peak


def _largest_fresh(gemms: Sequence[Gemm]) -> Any:
    """The largest fresh wgrad one TE module writes at once: a grouped linear's every local expert, else one
    weight (module docstring)."""
    peak: Any = 0.0
    for g in gemms:
        if g.role in _TE_ROLES:
            peak = larger(peak, g.k * g.n * (g.count if g.grouped else 1.0) * FRESH_WGRAD_BYTES)
    return peak
