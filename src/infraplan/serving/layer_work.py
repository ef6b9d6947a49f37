"""One serving layer's non-attention work for M tokens on one GPU, and the collectives serving prices (moved out of
`serving.llm_iteration`, which sums them into an iteration's cost tables, for room; its docstring says what is
modelled and from which source).

* `layer_time`: the GEMMs of `ops.layer_ops` at the inference phase (the routed experts' grouped kernels, a release's
  block-fp8 floor: `serving.routed_experts`, `serving.release_tables`), the engine's element-wise and MoE routing
  kernels (`serving.engine_kernels`), the TP all-reduces and the EP all-to-all (`serving.ep_all_to_all`, the
  busiest GPU's inbound where EP does not divide the experts: `serving.expert_slots`).
* `serving_collective_time`: NCCL's time (`network.collectives`), or for a TP all-reduce of a stack whose engine runs
  its custom one-shot / two-shot kernel at that group size and, where it needs one, on one host
  (`ServingEngine.custom_all_reduce_at`: vLLM / SGLang run NCCL for a group spanning hosts, hI59), the custom
  kernel's (`collective_algorithms.custom_all_reduce_time`, bounded by the release's measured table where it has one,
  `serving.release_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collective_algorithms import custom_all_reduce_time
from infraplan.network.collectives import Fabric, collective_time
from infraplan.ops.layer import Collective, layer_ops
from infraplan.serving import engine_kernels, ep_all_to_all, expert_slots, release_tables, routed_experts
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import load_engine
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.kv_cache import ACT_BYTES
from infraplan.serving.trtllm_gen_moe import routing_kernels


@dataclass(frozen=True)
class GemmPrecision:
    """The rate and operand widths a layer's GEMMs run at (`format_precision.serving_precision`)."""

    rate: float  # FLOP/s the layer GEMMs run at
    weight_bytes: float
    act_bytes: float
    grouped_rate: float = 0.0  # FLOP/s of the grouped expert GEMMs where not `rate` (a release's plain-GEMM rate)

    def bytes_per_element(self, m, n, k):
        """Average operand width: activations (m k, m n) and weights (k n) may differ (int4, fp8)."""
        total = m * k + k * n + m * n
        return np.where(total > 0, (m * k * self.act_bytes + k * n * self.weight_bytes + m * n * ACT_BYTES)
                        / np.maximum(total, 1.0), ACT_BYTES)


def serving_collective_time(fabric: Fabric, c: Collective, custom_all_reduce: bool = False,
                            table: str | None = None) -> np.ndarray:
    """Seconds of `c`; a stack with custom all-reduce runs small TP all-reduces one-shot / two-shot (bounded by its
    release's measured `table` where it has one: `serving.release_tables`)."""
    if custom_all_reduce and c.kind == "all_reduce":
        one = custom_all_reduce_time(fabric, c.bytes, c.group, c.stride, table)
    else:
        one = collective_time(fabric, c.kind, c.bytes, c.group, c.stride)
    return np.where(c.mask, c.count * one, 0.0)


def layer_time(shape: TransformerShape, rates: KernelRates, fabric: Fabric, dep: Deployment, prec: GemmPrecision,
                m: np.ndarray, gemm_rates: KernelRates, contiguous_align: int, block_depth: float,
                block_rate_fraction: float, accelerator: Accelerator,
                plain: tuple[GemmPrecision, KernelRates] | None = None,
                roles: frozenset[str] = frozenset()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seconds and pure-matmul seconds of one layer's non-attention work for M tokens on one GPU: `ops.layer_ops` at
    the inference phase (EP inside the TP group, TP all-reduce, no SP; plain GEMMs at `gemm_rates`); and of those
    seconds the routed experts' GEMMs (`serving.lockstep_loop`: they run on every rank's routed tokens). `plain`:
    the precision and rates of every GEMM whose role is not in `roles` where a checkpoint's scope quantises only
    those (`ops.precision.quantised_roles`)."""
    ops = layer_ops(shape, inference_layout(dep.tp, dep.ep, dep.attention_dp, m, dep.moe_tp))  # wide EP: docstring
    gemms, fused = np.zeros_like(m), routed_experts.shared_expert_fused(shape, dep.engine, dep.ep)
    routed, spare = np.zeros_like(m), expert_slots.spare_per_rank(dep.stack, dep.ep)  # EPLB's redundant experts
    flop_s = np.zeros_like(m)  # a release's measured block-fp8 GEMM floor (`serving.release_tables`)
    floor = release_tables.release_fit(accelerator, dep.stack, dep.dtype, shape.model_type in
                                       routed_experts.FP8_BLOCK_MODEL_TYPES)
    for g in ops.gemms:  # MoE experts: one grouped kernel over the local experts (`serving.routed_experts`)
        p, p_rates = (prec, gemm_rates) if plain is None or g.role in roles else plain
        width, g_rates = p.bytes_per_element(g.m, g.n, g.k), rates if g.grouped else p_rates
        rate = (p.grouped_rate or p.rate) if g.grouped else p.rate
        g_s = routed_experts.layer_gemm_time(g_rates, g, width, rate, shape.num_experts / dep.ep, contiguous_align,
                                             block_depth, block_rate_fraction, fused, spare)
        if floor is not None and p is prec:
            g_s = np.maximum(g_s, release_tables.floor_s(floor, accelerator, g, rates.compute_units))
        gemms, routed = gemms + g_s, routed + g_s if g.role in routed_experts.EXPERT_GEMMS else routed
        flop_s = flop_s + g.flops() / rate
    (elem,) = ops.elementwise_fwd
    elementwise = engine_kernels.elementwise_time(shape, rates, dep, m, elem) + routed_experts.moe_routing_time(
        shape, rates, m, dep.attention_dp / dep.ep, routing_kernels(accelerator, shape, dep.dtype, dep.engine))
    engine = load_engine(dep.stack)  # TP all-reduce, custom at the engine's sizes; the EP ones: `ep_all_to_all`
    table = release_tables.table(accelerator, dep.stack)  # the release's measured custom all-reduce, if any
    host = fabric.host_accelerators  # an engine whose kernel needs one host runs NCCL beyond it (hI59)
    tp_s = sum((serving_collective_time(fabric, c, engine.custom_all_reduce_at(float(c.group), host), table)
                for c in ops.collectives_fwd if c.role == "tp"), np.zeros_like(m))
    ep_s = ep_all_to_all.ep_seconds(shape, fabric, dep, ops.collectives_fwd, serving_collective_time, m)
    # where EP does not divide the experts, the busiest GPU's inbound beyond the mean rank's: `serving.expert_slots`
    for c in ops.collectives_fwd:
        if (busiest := expert_slots.busiest_rank_collective(c, shape.num_experts / dep.ep, spare)) is not c:
            inbound = (ep_all_to_all.collective_seconds(fabric, dep, busiest, serving_collective_time)
                       - ep_all_to_all.collective_seconds(fabric, dep, c, serving_collective_time))
            ep_s, routed = ep_s + inbound, routed + inbound
    return ep_all_to_all.layer_terms(gemms + elementwise, tp_s, ep_s, dep, flop_s, routed, rates.compute_units)
