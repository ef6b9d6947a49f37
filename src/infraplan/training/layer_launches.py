"""Host issue of one transformer layer per micro-batch: the kernels and collectives the host launches, and the
seconds they take to issue, forward and backward.

Eager stacks dispatch every kernel (`training.host_time.kernel_counts` of the layer's `ops.layer_ops`, at the
calibrated per-kernel dispatch time); CUDA-graph stacks launch one graph per layer and phase
(`host_time.CUDA_GRAPH_LAUNCH_S`). Beyond the layer table: the amax all-reduces of per-tensor scales
(`training.amax_reductions`), the eager softmax's launches where the fused kernel falls back
(`attention_core.softmax_falls_back`), Transformer Engine's unfused sink attention (`attention_core_times`) and
fp8 attention's casts (`training.fp8_dpa`), each again where the recompute re-runs it. `training.layer_time`
prices the rest of the layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops.layer import layer_ops
from infraplan.ops.layer_records import LayerOps
from infraplan.scalar_path import pick
from infraplan.training import fp8_dpa
from infraplan.training.attention_core import (
    FP8_DPA_CAST_KERNELS,
    SOFTMAX_FALLBACK_KERNELS,
    TE_SINK_SOFTMAX_KERNELS,
    softmax_falls_back,
)
from infraplan.training.enums import Dtype
from infraplan.training.host_time import CUDA_GRAPH_LAUNCH_S, kernel_counts
from infraplan.training.layer_layout import layer_layout
from infraplan.training.plan import PlanArrays


def add_host_seconds(out: dict[str, Any], ops: LayerOps, shape: TransformerShape, plan: PlanArrays, stack: Stack,
                     amax: tuple[float, float, Any], recompute: tuple[Any, Any], extra: tuple[Any, Any],
                     one: bool, host_dispatch_s: float) -> None:
    """Set `out`'s "host_fwd" / "host_bwd": one dispatch per kernel (eager) or one graph launch per layer and phase
    (CUDA graphs). `amax`: `amax_reductions`' counts and mask; `recompute`: the (full, selective) masks; `extra`:
    the fp8 and eager kernels beyond the layer table, forward and backward (`training.layer_time`)."""
    amax_count_fwd, amax_count_bwd, amax_mask = amax
    full, selective = recompute
    extra_fwd, extra_bwd = extra
    ops_fwd, ops_bwd = kernel_counts(ops, plan)
    amax_launches = pick(amax_mask & (plan.tp > 1), 1.0, 0.0)
    ops_fwd = ops_fwd + amax_count_fwd * amax_launches
    ops_bwd = ops_bwd + (amax_count_bwd + pick(full, amax_count_fwd, 0.0)) * amax_launches
    # the eager softmax's launches (`softmax_falls_back`), again where the recompute re-runs the attention core
    eager = pick(softmax_falls_back(shape, plan, stack), SOFTMAX_FALLBACK_KERNELS, 0.0)
    ops_fwd, ops_bwd = ops_fwd + eager, ops_bwd + eager + pick(full | selective, eager, 0.0)
    if shape.attention_sinks and stack.sink_attention == "te_unfused":  # TE's unfused sink attention, not 1 + 3
        # fused kernels: 2 batched GEMMs + the eager softmax forward, 4 + the softmax backward (`attention_core_times`)
        sink_fwd = TE_SINK_SOFTMAX_KERNELS + 2.0 - 1.0
        ops_fwd, ops_bwd = ops_fwd + sink_fwd, ops_bwd + TE_SINK_SOFTMAX_KERNELS + 4.0 - 3.0 + pick(
            full | selective, sink_fwd, 0.0)
    dpa = fp8_dpa.fp8_attention_on(shape, plan, stack) if fp8_dpa.FP8_DPA_HOST_LAUNCHES else False
    if dpa is not False:  # fp8 attention's casts (`attention_core.FP8_DPA_CAST_KERNELS`), again where the core re-runs
        casts = pick(dpa, FP8_DPA_CAST_KERNELS, 0.0)
        rerun = full | (selective & ("core_attn" in stack.recompute_modules))
        ops_fwd, ops_bwd = ops_fwd + casts, ops_bwd + casts + pick(rerun, casts, 0.0)
    recomputed = pick(full, extra_fwd, 0.0)
    graphs = stack.cuda_graphs
    for phase, count in (("fwd", ops_fwd + extra_fwd), ("bwd", ops_bwd + extra_bwd + recomputed)):
        if one:
            out[f"host_{phase}"] = CUDA_GRAPH_LAUNCH_S if graphs else float(count * host_dispatch_s)
            continue
        out[f"host_{phase}"] = (np.full(np.shape(count), CUDA_GRAPH_LAUNCH_S) if stack.cuda_graphs
                                else np.asarray(count * host_dispatch_s, dtype=np.float64))


def layer_kernel_counts(shape: TransformerShape, plan: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
    """Kernels (and collectives) the host launches per layer and micro-batch, forward and backward.

    Forward: the layer's GEMMs, attention (1 fused kernel, or 2 batched GEMMs + softmax + dropout unfused),
    the element-wise kernels, TP/CP/EP collectives and fp8 casts of `ops.layer_ops`. Backward: twice the
    GEMMs, 3 (fused) or 6 (unfused) attention kernels, the backward element-wise kernels, the same
    collectives and casts, plus whatever recompute re-runs.
    """
    return kernel_counts(layer_ops(shape, layer_layout(plan, plan.dtype != int(Dtype.BF16))), plan)
