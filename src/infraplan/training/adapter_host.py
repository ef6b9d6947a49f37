"""Host issue of LoRA adapters: the calls each adapter adds to a layer's eager host time (hL, session 56).

A frozen-base step (`training.frozen_base`) runs the adapters as their own small modules beside each adapted
projection, every one a Python call into PyTorch (Megatron-Bridge 0.6.0 peft/lora_layers.py:80-85 `LoRALinear.
forward`, peft/utils.py:1183-1251 `ParallelLinearAdapter.forward`): forward the layer-norm output's `.contiguous()`,
the adapter dropout, `linear_in`, the activation (identity), `linear_out`, `x * (alpha / dim)`, the reshape and the
add to the base output: 8 (`ADAPTER_CALLS[0]`); backward the scale's gradient, the data- and weight-gradient GEMM of
each linear, dropout's and the input-gradient sum of the adapter and base branches: 7 (`ADAPTER_CALLS[1]`); plus the
launches of the adapters' own TP collectives (`frozen_base.adapter_collectives`). A frozen GEMM computes no weight
gradient, so its wgrad launch leaves the layer's backward count (`LayerOps.gemm_kernels`: one each). Each call is
one eager dispatch (`Node.host_kernel_dispatch_s`, as `host_time` prices the layer's kernels; the reshape and the
identity cost less: an upper reading). Under CUDA graphs the stack's graph launch stands for them (none added).
A routed experts' grouped projection is one adapter over its local experts (`frozen_base`'s sites): one set of
calls at its share of the layers. Toggle `ADAPTER_HOST_CALLS`. At 8 GPUs (MLPerf v4.0 Llama 2 70B LoRA, TP4 CP2,
4,096 tokens a GPU) the GPU work hides them; at 1,024 GPUs (TP4 CP8, 1,024 tokens) they add ~70 ms a step
(validation/notes/training_sets_tried.md "hL (session 56)").
`frozen_layers` / `frozen_grid` are a frozen base's per-layer terms with these calls (one plan's floats / a search
grid's arrays): the one entry `step_time` takes, so `frozen_base` need not know this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import layer_ops
from infraplan.ops.layer_records import collective_launches
from infraplan.scalar_path import pick, to_float
from infraplan.training import adapter_sites, frozen_base
from infraplan.training.cuda_graph_rule import graphed
from infraplan.training.enums import Recompute
from infraplan.training.frozen_base import with_frozen_layers
from infraplan.training.frozen_traffic import FrozenEndStages, frozen_ends, frozen_traffic
from infraplan.training.layer_time import layer_layout
from infraplan.training.one_plan_memo import ClusterPricing
from infraplan.training.plan import PlanArrays
from infraplan.training.step_traffic import EndStageTraffic, dp_collectives

ADAPTER_HOST_CALLS = True
ADAPTER_CALLS = (8.0, 7.0)  # per adapter: forward, backward (module docstring)


def adapter_host_calls(shape: TransformerShape, row: PlanArrays, spec: frozen_base.LoraSpec,
                       stack: Stack) -> tuple[Any, Any]:
    """(forward, backward) host calls the adapters add to one layer and micro-batch, less the frozen GEMMs' wgrad
    launches: a `one_row` plan's floats or a grid's arrays."""
    ops = layer_ops(shape, layer_layout(row, False))
    sites: Any = 0.0
    for g in frozen_base.adapted_gemms(ops.gemms, spec, shape):  # an adapted projection: its share of the layers
        sites = sites + adapter_sites.adapter_site(g, row)[1]
    one = type(row.tp) is int  # type: ignore[comparison-overlap]  # (a `one_row` plan: floats)
    fwd_c, bwd_c = (frozen_base.adapter_collectives(shape, row, spec, stack, ops.gemms)
                    if frozen_base.ADAPTER_TP_COLLECTIVES else ((), ()))
    launched = [collective_launches(cs, one) for cs in (fwd_c, bwd_c)]
    sites = to_float(sites)
    return sites * ADAPTER_CALLS[0] + launched[0], sites * ADAPTER_CALLS[1] + launched[1] - ops.gemm_kernels()


def with_adapter_host(out: dict[str, Any], shape: TransformerShape, row: PlanArrays, spec: frozen_base.LoraSpec,
                      stack: Stack, fabric: Fabric) -> dict[str, Any]:
    """Per-layer terms with the adapters' host calls in `host_fwd` / `host_bwd` (eager stacks; the forward's again
    under full recompute); unchanged with the toggle off or under CUDA graphs."""
    graphs = graphed(stack, row)  # (per plan: `cuda_graph_rule`, hT70)
    if not ADAPTER_HOST_CALLS or graphs is True:
        return out
    calls_fwd, calls_bwd = adapter_host_calls(shape, row, spec, stack)
    if graphs is not False:  # a grid mixing graphed and eager plans: the calls on the eager ones
        calls_fwd, calls_bwd = np.where(graphs, 0.0, calls_fwd), np.where(graphs, 0.0, calls_bwd)
    rerun = pick(row.recompute == int(Recompute.FULL), calls_fwd, 0.0)
    out["host_fwd"] = out["host_fwd"] + calls_fwd * fabric.host_kernel_dispatch_s
    out["host_bwd"] = out["host_bwd"] + (calls_bwd + rerun) * fabric.host_kernel_dispatch_s
    return out


def frozen_layers(terms: dict[str, Any], shape: TransformerShape, rates: KernelRates, row: PlanArrays,
                  precision: Any, stack: Stack, spec: frozen_base.LoraSpec, fabric: Fabric) -> dict[str, Any]:
    """`frozen_base.with_frozen_layers` (the frozen GEMMs, the adapters' GEMMs and TP collectives) with the adapters'
    host calls (`with_adapter_host`)."""
    out = with_frozen_layers(terms, shape, rates, row, precision, stack, spec, fabric)
    return with_adapter_host(out, shape, row, spec, stack, fabric)


def frozen_grid(shape: TransformerShape, pricing: ClusterPricing, fabrics: tuple[Fabric, Fabric], plan: PlanArrays,
                stack: Stack, spec: frozen_base.LoraSpec, terms: tuple[dict[str, Any], dict[str, Any], EndStageTraffic]
                ) -> tuple[dict[str, Any], dict[str, Any], FrozenEndStages]:
    """A search grid's (per-layer terms, traffic, end stages) of a frozen base: `frozen_layers`,
    `frozen_traffic` (the adapters' DP collectives: `step_traffic.dp_collectives` at every ZeRO stage, at the
    stack's gradient bytes and all-reduce) and `frozen_ends` on arrays, as `step_time.one_plan_step_time` applies
    them to one plan's floats. `fabrics`: (the layers', the DP collectives')."""
    layers, traffic, ends = terms
    traffic = frozen_traffic(traffic, shape, plan, spec, lambda params: dp_collectives(
        shape, fabrics[1], plan, params, 0.0, stack.grad_reduce_bytes, grad_all_reduce=stack.grad_reduce_all_reduce))
    return (frozen_layers(layers, shape, pricing.rates, plan, pricing.precision_of(plan), stack, spec, fabrics[0]),
            traffic, frozen_ends(ends, shape, plan, spec))
