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
base) is not re-gathered: the gather is set up only for a weight gradient (TE 2.14 linear.py:380-382 and
layernorm_linear.py:412-414 `weight.requires_grad and parallel_mode == "column" and sequence_parallel`, layernorm_mlp.py
:1060 `ctx.fc1_weight_requires_grad and ...`; TE 1.13 linear.py:428, layernorm_linear.py:457-462, layernorm_mlp.py
:636-642), so `training.frozen_base` takes `frozen_regather_s` (this term, as `layer_time` added it) out again
(`frozen_base.FROZEN_SKIPS_REGATHER`, hN63; the adapters keep the input they were given: no re-gather of theirs either,
Megatron-Bridge 0.6.0 peft/lora.py:108 `sequence_parallel_input_regather` False by default).

Priced: per such GEMM, the all-gather of its T x k input at the forward gather's bytes per element (bf16, or the
recipe's quantised operand under `Stack.quantized_tp_all_gather`: `training.tp_quantised_collectives`), less the dgrad
GEMM it overlaps (half the GEMM's backward time: dgrad and wgrad have the same FLOPs), never below zero; on the stacks
whose column-parallel backward is Transformer Engine's async path (`Stack.tp_async_backward`). Megatron-LM's own
`LinearWithGradAccumulationAndAsyncCommunication` re-gathers the same way (not read here; its stacks are not priced
so). False: unpriced, as before (the re-gather taken as hidden under the dgrad GEMM).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import Fabric, collective_seconds
from infraplan.ops.layer import ArrayLike, Collective, LayerOps, Layout, layer_ops
from infraplan.ops.layer_records import CollectiveKind
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import anywhere, larger, negate, pick, smaller, to_bool, to_float
from infraplan.training.layer_kernels import collective_times, gemm_fwd_bwd
from infraplan.training.layer_layout import layer_layout
from infraplan.training.layer_recipe import bf16_layer_share, one_plan_terms, quantised_gather_ratios
from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes
from infraplan.training.plan import PlanArrays
from infraplan.training.te_column_roles import GATHERED_INPUT_ROLES as GATHERED_INPUT_ROLES
from infraplan.training.te_column_roles import MLA_GATHERED_INPUT_ROLES as MLA_GATHERED_INPUT_ROLES
from infraplan.training.te_column_roles import column_parallel_roles

SP_WGRAD_REGATHER = True
def regather_exposed_s(fabric: Fabric, ops: LayerOps, gemm_times: list[tuple[Any, Any]], lay: Layout,
                       ratio: ArrayLike, one: bool) -> Any:
    """Seconds per layer and micro-batch the wgrad input re-gathers add to the backward's TP time (module
    docstring); `gemm_times`: the (forward, backward) time of each of `ops.gemms`; `ratio`: the gathered bytes over
    bf16's. `column_parallel_terms`' second term alone."""
    return column_parallel_terms(fabric, ops, gemm_times, lay, ratio, one, window=False)[1]


def column_parallel_terms(fabric: Fabric, ops: LayerOps, gemm_times: list[tuple[Any, Any]], lay: Layout,
                          ratio: ArrayLike, one: bool, window: bool = True, regather: bool = True) -> tuple[Any, Any]:
    """(TE's async dgrad window, the wgrad input re-gathers' exposed seconds) per layer and micro-batch, in one walk of
    the layer's column-parallel TE GEMMs (`column_parallel_roles`; hD, session 66: two walks before, the same
    operations in the same order per term). Window (`tp_overlap.async_dgrad_window_s`, hD65): per GEMM min(its T x k
    input gradient's reduce-scatter (SP) / all-reduce (SP off) in bf16 x count x share, its wgrad GEMM: half its
    backward), summed. Re-gather (module docstring): per GEMM max(its T x k input's all-gather at `ratio` x bf16's
    bytes x count x share - half its backward, 0), summed. `window` / `regather` False: that term 0.0, not walked."""
    roles = column_parallel_roles(lay)
    if one:
        return _one_plan_terms(fabric, ops, gemm_times, lay, ratio, roles, window, regather)
    sp, tp = to_bool(lay.sequence_parallel), to_float(lay.tp)
    hidden: Any = 0.0
    exposed: Any = 0.0
    kinds: tuple[tuple[CollectiveKind, Any], ...] = ()
    if window:
        pairs: tuple[tuple[CollectiveKind, Any], ...] = (("reduce_scatter", sp), ("all_reduce", negate(sp)))
        kinds = tuple((kind, mask) for kind, mask in pairs if anywhere(mask))
    for g, (_, bwd) in zip(ops.gemms, gemm_times, strict=True):
        if g.role not in roles:
            continue
        # (`bwd` is the GEMM's backward over its count and share of the layers: the collectives weighted alike)
        if window:  # (a kind no plan runs is not priced: the search runs SP on only)
            size = g.m * g.k * ACT_BYTES
            records = tuple(Collective(kind, "tp", size, tp, 1, 1.0, mask) for kind, mask in kinds)
            hidden = hidden + smaller(g.count * g.share * collective_times(fabric, records, "tp", one), 0.5 * bwd)
        if regather:
            record = Collective("all_gather", "tp", g.m * g.k * ACT_BYTES * ratio, tp, 1, 1.0, sp)
            gather = collective_times(fabric, (record,), "tp", one)
            exposed = exposed + larger(g.count * g.share * gather - 0.5 * bwd, 0.0)
    return hidden, exposed


def _one_plan_terms(fabric: Fabric, ops: LayerOps, gemm_times: list[tuple[Any, Any]], lay: Layout, ratio: Any,
                    roles: tuple[str, ...], window: bool, regather: bool) -> tuple[float, float]:
    """`column_parallel_terms` of one plan's Python floats: `collective_times` of each collective's one record (`0.0 +
    count x collective_seconds` where its mask holds and its group is above one) without building the record, each
    input size priced once per kind (QKV's and FC1's are both T x h), `smaller` / `larger` written out: the same
    operations in the same order (hS59); no window at TP 1."""
    sp, tp = bool(lay.sequence_parallel), float(lay.tp)
    window = window and tp > 1.0
    kind: CollectiveKind = "reduce_scatter" if sp else "all_reduce"
    hidden: Any = 0.0
    exposed = 0.0
    reductions: dict[Any, float] = {}
    gathers: dict[Any, float] = {}
    for g, (_, bwd) in zip(ops.gemms, gemm_times, strict=True):
        if g.role not in roles:
            continue
        elements: Any = g.m * g.k  # (one plan: a float)
        if window:
            reduction = reductions.get(elements)
            if reduction is None:
                reduction = reductions[elements] = collective_seconds(fabric, kind, elements * ACT_BYTES, tp, 1)
            own, wgrad = g.count * g.share * reduction, 0.5 * bwd
            hidden = hidden + (own if own < wgrad else wgrad)  # smaller(own, wgrad)
        if regather:
            gather = gathers.get(elements)
            if gather is None:
                gather = gathers[elements] = 0.0 + (1.0 * collective_seconds(fabric, "all_gather", elements * ACT_BYTES
                                                                             * ratio, tp, 1) if sp and tp > 1 else 0.0)
            excess = g.count * g.share * gather - 0.5 * bwd
            exposed = exposed + (0.0 if excess < 0.0 else excess)  # larger(excess, 0.0)
    return hidden, exposed


def frozen_regather_s(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                      precision: tuple[Any, Any], stack: Stack) -> Any:
    """`regather_exposed_s` of a plan's layer as `layer_time` adds it (the recipe's GEMM times, the forward gathers'
    byte ratio: the one-plan kept ratios or the grid's column), for `frozen_base` to take out; 0.0 where `layer_time`
    adds none. A `one_row` plan's floats, or arrays over plans."""
    if not (stack.tp_async_backward and SP_WGRAD_REGATHER):
        return 0.0
    one = type(plan.tp) is int  # type: ignore[comparison-overlap]
    fp8 = precision[1] < 2.0
    lay = layer_layout(plan, fp8, stack, rates.fp8_gemm_layouts)
    ops = layer_ops(shape, lay)
    grad_bytes = main_grad_wgrad_bytes(stack)
    # (`layer_time`'s call for a plain GEMM; the routed experts' grouped GEMMs re-gather nothing: never read)
    times = [(0.0, 0.0) if g.grouped else gemm_fwd_bwd(rates, precision, g.m, g.n, g.k, g.count, False, g.share, one,
                                                       grad_bytes) for g in ops.gemms]
    # (`layer_time`'s forward gather ratio: the kept one of one plan, the grid's from the same function)
    ratios = (one_plan_terms(plan, fp8, stack, rates.fp8_gemm_layouts)[1][5] if one
              else quantised_gather_ratios(plan, fp8, stack, pick(fp8, bf16_layer_share(plan, stack), 0.0)))
    return regather_exposed_s(fabric, ops, times, lay, ratios[0] if ratios is not None else 1.0, one)
