"""The weight-gradient input re-gather of Transformer Engine's column-parallel GEMMs under sequence parallelism,
priced where it outlasts the dgrad GEMM it runs under (`SP_WGRAD_REGATHER`, hH58).

Transformer Engine 2.14 keeps only the rank's sequence shard of a column-parallel GEMM's gathered input for backward
and gathers it again there for the wgrad GEMM:
* LayerNormLinear (module/layernorm_linear.py): forward gathers the norm's output (:241-275), runs the GEMM and frees
  the gathered copy (:377-379, `clear_tensor_data(ln_out_total)` where `with_input_all_gather`); the shard is kept
  where `ctx.ln_out_needs_gather` (weight gradient, column-parallel, SP: :412-414); backward gathers it again,
  asynchronously in the recipe's format (`gather_along_first_dim(..., async_op=True, quantizer=...)`, :665-690;
  under userbuffers a bulk overlap with the dgrad GEMM, :675-681) while the dgrad GEMM runs, and waits for it
  before the wgrad GEMM (:819-821);
* Linear (module/linear.py) the same for its input (frees :341-344, `backward_input_needs_gather` :380-382, the
  async gather :649-675, the wait :773-775); LayerNormMLP for FC1's input (layernorm_mlp.py:575, :1079).
In Megatron-Core 0.16.1's layers these are the QKV (GQA) and FC1 inputs (the norm's T x h output), a shared expert's
FC1 input (`SharedExpertMLP`'s TEColumnParallelLinear; not under `moe_shared_expert_overlap`, where the linear
has no SP mode and keeps the input Megatron gathered: `ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`) and, in MLA
under SP, the q / kv latents the up projections take (TELayerNormColumnParallelLinear, `ops.layer.
MLA_DOWN_ON_SEQUENCE_SHARD`; the T x h input of `linear_q_proj` where q_lora_rank is None). A frozen weight (LoRA's
base) is not re-gathered (not priced apart: `training.frozen_base` keeps the trained layer's TP time).

Priced: per such GEMM, the all-gather of its T x k input at the forward gather's bytes per element (bf16, or the
recipe's quantised operand under `Stack.quantized_tp_all_gather`: `training.tp_quantised_collectives`), less the dgrad
GEMM it overlaps (half the GEMM's backward time: dgrad and wgrad have the same FLOPs), never below zero; on the stacks
whose column-parallel backward is Transformer Engine's async path (`Stack.tp_async_backward`). Megatron-LM's own
`LinearWithGradAccumulationAndAsyncCommunication` re-gathers the same way (not read here; its stacks are not priced
so). False: unpriced, as before (the re-gather taken as hidden under the dgrad GEMM).
"""

from __future__ import annotations

from typing import Any

from infraplan.network.collectives import Fabric, collective_seconds
from infraplan.ops import layer as ops_layer
from infraplan.ops.layer import ArrayLike, Collective, LayerOps, Layout
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import larger, to_bool, to_float
from infraplan.training.layer_kernels import collective_times

SP_WGRAD_REGATHER = True
GATHERED_INPUT_ROLES = ("qkv", "ffn_up", "shared_up")  # the T x h norm output's column-parallel GEMMs
MLA_GATHERED_INPUT_ROLES = ("q_up", "kv_up")  # the latents (q_proj's h where q_lora_rank is None)


def regather_exposed_s(fabric: Fabric, ops: LayerOps, gemm_times: list[tuple[Any, Any]], lay: Layout,
                       ratio: ArrayLike, one: bool) -> Any:
    """Seconds per layer and micro-batch the wgrad input re-gathers add to the backward's TP time (module
    docstring); `gemm_times`: the (forward, backward) time of each of `ops.gemms`; `ratio`: the gathered bytes over
    bf16's."""
    roles = GATHERED_INPUT_ROLES + (MLA_GATHERED_INPUT_ROLES if ops_layer.MLA_DOWN_ON_SEQUENCE_SHARD else ())
    if lay.shared_expert_overlap and ops_layer.SHARED_OVERLAP_MEGATRON_GATHERS:  # its FC1 takes the gathered input
        roles = tuple(r for r in roles if r != "shared_up")
    if one:
        return _one_plan_regather_s(fabric, ops, gemm_times, lay, ratio, roles)
    sp, tp = to_bool(lay.sequence_parallel), to_float(lay.tp)
    exposed: Any = 0.0
    for g, (_, bwd) in zip(ops.gemms, gemm_times, strict=True):
        if g.role not in roles:
            continue
        record = Collective("all_gather", "tp", g.m * g.k * ACT_BYTES * ratio, tp, 1, 1.0, sp)
        gather = collective_times(fabric, (record,), "tp", one)
        # (`bwd` is the GEMM's backward over its count and share of the layers: the gather weighted alike)
        exposed = exposed + larger(g.count * g.share * gather - 0.5 * bwd, 0.0)
    return exposed


def _one_plan_regather_s(fabric: Fabric, ops: LayerOps, gemm_times: list[tuple[Any, Any]], lay: Layout,
                         ratio: Any, roles: tuple[str, ...]) -> float:
    """`regather_exposed_s` of one plan's Python floats: `collective_times` of each re-gather's one record (`0.0 +
    count x collective_seconds` where its mask holds and its group is above one) without building the record, each
    input size priced once (QKV's and FC1's are both T x h), and `larger(x, 0.0)` written out: the same operations
    in the same order (hS59)."""
    sp, tp = bool(lay.sequence_parallel), float(lay.tp)
    exposed = 0.0
    priced: dict[Any, float] = {}
    for g, (_, bwd) in zip(ops.gemms, gemm_times, strict=True):
        if g.role not in roles:
            continue
        elements = g.m * g.k
        gather = priced.get(elements)
        if gather is None:
            gather = priced[elements] = 0.0 + (1.0 * collective_seconds(fabric, "all_gather", elements * ACT_BYTES
                                                                        * ratio, tp, 1) if sp and tp > 1 else 0.0)
        excess = g.count * g.share * gather - 0.5 * bwd
        exposed = exposed + (0.0 if excess < 0.0 else excess)  # larger(excess, 0.0)
    return exposed
