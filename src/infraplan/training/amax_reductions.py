"""Per-tensor amax all-reduces over the TP group: how many a layer runs, where, and their seconds.

A per-tensor scale (fp8 current scaling, NVFP4's second-level scale) must be the same on every TP rank of a
sequence-parallel GEMM, so Transformer Engine 2.14 all-reduces (MAX) one fp32 amax over TP before each such cast
(transformer_engine/pytorch/module/linear.py:1641-1662; layernorm_linear.py:1743-1786; layernorm_mlp.py:2416-2465).
A 4-byte NCCL all-reduce between the amax kernel and the cast: no GEMM hides it. `training.layer_time` adds the
seconds to the layer's TP terms, `training.layer_launches` their host launches.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Collective
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
