"""Transformer Engine's TP collectives of quantised operands under sequence parallelism: the amax all-reduces of
per-tensor scales and the all-gathers in the GEMMs' low-precision format (Transformer Engine 2.14).

Amax all-reduces (`amax_reductions`, `amax_reduction_seconds`): a per-tensor scale (fp8 current scaling, NVFP4's
second-level scale) must be the same on every TP rank of a sequence-parallel GEMM, so Transformer Engine 2.14
all-reduces (MAX) one fp32 amax over TP before each such cast (transformer_engine/pytorch/module/linear.py:1641-1662;
layernorm_linear.py:1743-1786; layernorm_mlp.py:2416-2465). A 4-byte NCCL all-reduce between the amax kernel and the
cast: no GEMM hides it. `training.layer_time` adds the seconds to the layer's TP terms and their host launches.

All-gathers in the GEMMs' format (`Stack.quantized_tp_all_gather`; `te_gather_records`, `quantised_gather_deltas`):
under sequence parallelism a column-parallel GEMM's input (QKV, FC1: the norm's output) is quantised on the rank's
sequence shard and all-gathered in that format, row-wise data only (transformer-engine 2.14 pytorch/module/
linear.py:182-215 and layernorm_linear.py, `quantizer.set_usage(rowwise=True, columnwise=False)` before
`gather_along_first_dim(..., quantizer=quantizer)`); a row-parallel GEMM's output gradient (projection, FC2) is
quantised and all-gathered for both its GEMMs, dgrad (row-wise) and wgrad (column-wise: the default usage when the
weight needs a gradient, linear.py:590-597; module/base.py:1186-1234 `grad_output_preprocess`). Per element on the
layers the recipe quantises: forward the format's operand bytes (fp8 1 B, MXFP8 1 + 1/32 B, NVFP4 0.5 + 1/16 B:
`ops.precision`), backward twice that where the column-wise copy is gathered too (MXFP8, NVFP4, blockwise fp8:
distributed.py `_all_gather_mxfp8` :1504-1550, `_all_gather_nvfp4` :1319-1460, `_start_all_gather_fp8_blockwise`
:1071-1140), once for per-tensor fp8, whose transpose is built after the gather (:1000-1014; `ops.precision.
GATHERED_TRANSPOSE_RECIPES`). The layers kept in bf16 and the reduce-scatters stay at 2 B. The model's TP records
(`ops.layer`) carry bf16 bytes; this module prices the difference for the all-gathers of those records (the
expert-TP gathers of a folded MoE layer, Megatron-Core's own bf16 `gather_from_sequence_parallel_region`, are
left as they are). Merged from training/amax_reductions.py and training/tp_gather_bytes.py (hE, session 62).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.network.collectives import Fabric
from infraplan.ops import layer as ops_layer
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.training.enums import Dtype
from infraplan.training.layer_kernels import collective_times
from infraplan.training.plan import PlanArrays

# one fp32 amax per quantised tensor
AMAX_BYTES = 4.0


def amax_reductions(shape: TransformerShape, plan: PlanArrays, stack: Stack) -> tuple[float, float, Any]:
    """All-reduces (MAX) of one fp32 amax over the TP group per layer and micro-batch, forward and backward, and
    where they run.

    A per-tensor scale (fp8 current scaling, NVFP4's second-level scale) must be the same on every TP rank of a
    sequence-parallel GEMM, whose operand is quantised on each rank's sequence shard and then all-gathered:
    Transformer Engine 2.14 sets `with_amax_reduction` over the TP group on the input quantizer of each
    column-parallel module (forward) and the output-gradient quantizer of each row-parallel one (backward) when
    `sequence_parallel` is on (transformer_engine/pytorch/module/linear.py:1641-1662 `_customize_quantizers_nvfp4`
    and the current-scaling twin above it; layernorm_linear.py:1743-1786; layernorm_mlp.py:2416-2465). Each is a
    4-byte NCCL all-reduce between the amax kernel and the cast, so no GEMM hides it. Delayed scaling reduces its
    amax history once per step, block and MX scales are local: neither pays it. Per layer: forward the QKV input
    (MLA: the q and kv up-projections, column-parallel on the scattered latents, megatron/core/transformer/
    multi_latent_attention.py:595-614; the down-projections are `duplicated`) and the dense or shared-expert FC1
    input; backward the output-projection and FC2 output gradients. Routed experts (TE GroupedLinear) set none.
    """
    fp8_current = (plan.dtype == int(Dtype.FP8)) & (stack.fp8.recipe == "current")
    mask = (fp8_current | (plan.dtype == int(Dtype.NVFP4))) & (plan.sequence_parallel == 1)
    mlp = 1.0 if (not shape.is_moe or shape.shared_ffn_hidden_size) else 0.0
    return (2.0 if shape.is_mla else 1.0) + mlp, 1.0 + mlp, mask


def amax_reduction_seconds(shape: TransformerShape, plan: PlanArrays, stack: Stack, fabric: Fabric,
                           one: bool) -> tuple[dict[str, Any], float, float, Any]:
    """The amax all-reduces' seconds per layer and micro-batch ({"fwd", "bwd"}), with `amax_reductions`' counts
    and mask; `one`: a `PlanArrays.one_row` plan (Python floats)."""
    count_fwd, count_bwd, mask = amax_reductions(shape, plan, stack)
    if one and not mask:  # none run: `collective_times` of the masked record, 0.0 (no record built; hP2)
        return {"fwd": 0.0, "bwd": 0.0}, count_fwd, count_bwd, mask
    seconds = {ph: collective_times(fabric, (Collective("all_reduce", "tp", AMAX_BYTES, plan.tp, 1, n, mask),),
                                    "tp", one) for ph, n in (("fwd", count_fwd), ("bwd", count_bwd))}
    return seconds, count_fwd, count_bwd, mask


# The backward's gathers read from the layer's backward records (hA57): an MLA layer under SP (`ops.mla_gemms.
# mla_sp_collectives`) gathers one T x h tensor forward (FC1's input) and two backward (the projection's and FC2's
# output gradients); False = the forward records' gathers at the backward ratio (one T x h gather backward there).
BACKWARD_GATHER_RECORDS = True


def te_gather_records(records: tuple[Collective, ...]) -> tuple[Collective, ...]:
    """The TP all-gather records of the layer's attention / MLP GEMMs: those marked `te_gather` (the T x h gathers
    of every layer kind, `ops.layer.TE_GATHERS_EVERY_KIND`; MLA's latents, `ops.layer.MLA_LATENT_TE_GATHERS`: TE's
    LayerNormLinear gathers its fused norm's quantised output), never the expert-TP gathers (the routed tokens,
    Megatron's bf16 gather). With `TE_GATHERS_EVERY_KIND` off, also the all-gathers that carry the same activation
    object as the first TP reduce-scatter (`ops.layer` builds both from one T x h payload per kind: in a multi-kind
    model only the first kind's)."""
    if ops_layer.TE_GATHERS_EVERY_KIND:
        return tuple(c for c in records if c.role == "tp" and c.kind == "all_gather" and c.te_gather)
    scatter = next((c for c in records if c.role == "tp" and c.kind == "reduce_scatter"), None)
    if scatter is None:
        return ()
    return tuple(c for c in records if c.role == "tp" and c.kind == "all_gather"
                 and (c.bytes is scatter.bytes or c.te_gather))


def quantised_gather_deltas(fabric: Fabric, records: tuple[Collective, ...], fwd_ratio: ArrayLike,
                            bwd_ratio: ArrayLike, one: bool,
                            bwd_records: tuple[Collective, ...]) -> tuple[ArrayLike, ArrayLike]:
    """(forward, backward) change of the TP time when the all-gathers move `fwd_ratio` / `bwd_ratio` of their
    bf16 bytes (module docstring), each against the bf16 price of the same records: forward those of `records`,
    backward those of `bwd_records` (`BACKWARD_GATHER_RECORDS`; False: `records`')."""
    gathers = te_gather_records(records)
    back = te_gather_records(bwd_records) if BACKWARD_GATHER_RECORDS else gathers
    if not gathers and not back:
        return 0.0, 0.0
    base = collective_times(fabric, gathers, "tp", one)
    base_bwd = base if back is gathers else collective_times(fabric, back, "tp", one)
    if one and fwd_ratio == 1.0 and bwd_ratio == 1.0:  # one plan's bf16 gathers: the records as priced (x * 1.0 is x)
        return base - base, base_bwd - base_bwd
    fwd = collective_times(fabric, tuple(replace(c, bytes=c.bytes * fwd_ratio) for c in gathers), "tp", one)
    bwd = collective_times(fabric, tuple(replace(c, bytes=c.bytes * bwd_ratio) for c in back), "tp", one)
    return fwd - base, bwd - base_bwd
