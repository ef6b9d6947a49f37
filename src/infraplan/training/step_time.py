"""Training step time of a transformer under a TP/CP/PP/DP/EP plan, vectorised over plans.

Per micro-batch and layer on one GPU: `training.layer_time` (GEMMs, attention, element-wise work, TP/CP collectives,
recompute, the stack's overlaps, host issue time), `training.head_time` (LM head, loss, embedding) and
`training.expert_dispatch` (EP all-to-all), once per distinct layer row; stages (`training.stage_split`), p2p and DP
traffic (`training.step_traffic`, once per communication row), assembled by `training.step_assembly`.

Pipeline (Narayanan et al. SC'21): the heaviest stage (a middle stage's layers, the first's plus the embedding,
or the last's plus the LM head and loss) sets the pace; step = m * t_stage + the schedule's bubble
(`training.schedules`, on the other stages' summed time o: o for 1F1B, o/v interleaved; (p-1) t_stage and
(p-1)/v t_stage for equal stages) + the p2p chain of one micro-batch through all p*v chunks forward and back
(steady-state p2p overlaps compute; a stack with blocking p2p, `Stack.p2p_synchronize`, pays every micro-batch's
calls: `step_assembly.pipeline_p2p_time`; a Megatron-Core layout sets stages: `training.pipeline_layout`).
Data parallel: gradient all-reduce (ZeRO 0), reduce-scatter + parameter all-gather (ZeRO 1/2), or all-gather
forward and backward + reduce-scatter (ZeRO 3/FSDP), overlapped with the first micro-batch's forward and the last
one's backward; what does not fit in that window is exposed. Optimizer: Adam is memory-bound, 38 bytes per
parameter of the stage that steps the most (`training.optimizer_step`). A frozen base: `frozen_base`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import Fabric
from infraplan.network.sharp import collnet_fabric
from infraplan.ops.layer import ArrayLike, Collective
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training.activation_memory import activation_bytes_per_token_layer
from infraplan.training.activation_offload import with_offload_wait
from infraplan.training.adapter_host import frozen_grid, frozen_layers
from infraplan.training.attention_core import attention_core_times as attention_core_times
from infraplan.training.axes import COMM_KEYS as COMM_KEYS  # cache keys, derived from the declared plan axes
from infraplan.training.axes import LAYER_KEYS
from infraplan.training.dp_collectives_memo import dp_key_of, one_plan_dp_collectives
from infraplan.training.enums import Recompute, Schedule
from infraplan.training.expert_dispatch import deepep_node_dedup, ep_seconds, with_ep_comm, with_flex_dispatcher
from infraplan.training.forward_pass import forward_only_terms
from infraplan.training.frozen_base import LoraSpec
from infraplan.training.frozen_traffic import frozen_ends, frozen_traffic
from infraplan.training.head_time import head_times
from infraplan.training.host_time import CHECKPOINT_HOST_CALLS as CHECKPOINT_HOST_CALLS
from infraplan.training.host_time import EAGER_EXTRA_KERNELS as EAGER_EXTRA_KERNELS
from infraplan.training.host_time import MAIN_GRAD_ADD_KERNELS as MAIN_GRAD_ADD_KERNELS
from infraplan.training.host_time import host_exposed_time as host_exposed_time
from infraplan.training.host_time import micro_batch_host_time as micro_batch_host_time
from infraplan.training.layer_time import ACT, layer_times_but_ep
from infraplan.training.layer_time import layer_kernel_counts as layer_kernel_counts
from infraplan.training.main_grad_accumulation import layer_reads_zero, least_work_zero
from infraplan.training.memory import recomputed_stage_layers, stage_layers
from infraplan.training.mirrored_stages import end_stage_capacities, mirrored_splits, with_mirrored_pairs
from infraplan.training.one_plan_memo import ClusterPricing, cluster_pricing
from infraplan.training.optimizers import (
    blocking_gather,
    blocking_gathers,
    newton_schulz_terms,
    reduces_by_all_reduce,
)
from infraplan.training.pipeline_layout import with_pipeline_layout
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import take_rows
from infraplan.training.row_memo import RowMemo
from infraplan.training.row_memo import computed_once as _computed_once
from infraplan.training.row_memo import distinct_rows as _distinct_rows
from infraplan.training.schedules import stack_schedules
from infraplan.training.stack_limits import expert_layout, rank_order
from infraplan.training.stage_params import MIRRORED_SCHEDULES
from infraplan.training.stage_split import with_stage_split
from infraplan.training.step_assembly import COMPONENTS as COMPONENTS
from infraplan.training.step_assembly import assemble_step
from infraplan.training.step_traffic import (
    EndStageTraffic,
    dp_collectives_once,
    pipeline_and_dp_traffic,
)

__all__ = ["ACT", "CHECKPOINT_HOST_CALLS", "COMPONENTS", "EAGER_EXTRA_KERNELS", "MAIN_GRAD_ADD_KERNELS",
           "STRIDE_ONLY_KEYS", "attention_core_times", "balanced_split", "deepep_node_dedup", "head_times",
           "host_exposed_time", "layer_kernel_counts", "layer_times", "one_plan_step_time", "step_time"]

_FULL = int(Recompute.FULL)  # its code as an int (the one-plan checks compare it per estimate; issue 18)
_DUALPIPE = int(Schedule.DUALPIPE)
_ZB_V = int(Schedule.ZB_V)

# layer keys that change the per-layer times only through the EP all-to-all's rank stride (`PlanArrays.dp_stride`)
# and the pipeline stage split (`_per_layer` prices the rest without them; tests/training/test_search_speed.py)
STRIDE_ONLY_KEYS = ("pp", "order", "expert_layout")
FREE_KEYS = tuple(k for k in LAYER_KEYS if k not in STRIDE_ONLY_KEYS)  # the stride-free layer keys (`RowMemo`)
# relative widening of `stage_work_bound_s` (float rounding ~1e-15, the balanced split's layer tolerance 1e-9)
BOUND_MARGIN = 1e-6


def layer_times(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
                precision: tuple[ArrayLike, ArrayLike], host_dispatch_s: float = 0.0,
                stack: Stack | None = None) -> dict[str, np.ndarray]:
    """Seconds per micro-batch for one layer, forward and backward, by component (priced `ops.layer_ops`).

    Also `host_fwd` / `host_bwd`: host issue seconds of the layer's kernels (exposed by `host_exposed_time`).
    """
    stack = stack or resolve_stack(None, "training")
    times, ep_records = layer_times_but_ep(shape, rates, fabric, plan, precision, host_dispatch_s, stack)
    return with_ep_comm(times, ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0),
                        plan.recompute == int(Recompute.FULL), stack, fabric, ep_records)


def _per_layer(shape: TransformerShape, rates: KernelRates, fabric: Fabric, plan: PlanArrays,
               precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
               stack: Stack, pricing: ClusterPricing | None = None, keep: bool = False) -> dict[str, Any]:
    """Layer and head times, computed once per distinct LAYER_KEYS row (arrays; a single estimate's floats).

    Within those rows, PP and the rank order (`STRIDE_ONLY_KEYS`) change only the EP all-to-all (through its
    rank stride) and the stage split: everything else is priced once per distinct row of the other layer keys
    (a search has ~5-15x fewer of them) and spread back; the all-to-all and the split run on every row.
    `keep`: a search keeps these rows' terms for its later calls (`RowMemo.whole_rows`: the memory's split of a
    block's rows, `balanced_split`, which the step time of the rows that fit reads again).
    """
    def compute(distinct: PlanArrays) -> dict[str, Any]:
        return _layer_rows(shape, rates, fabric, distinct, precision_of, stack)

    keys = LAYER_KEYS
    if layer_reads_zero(stack):  # (its layer terms per ZeRO stage: the search's broadcast axis spread over them)
        keys = (*LAYER_KEYS, "zero")
        plan = plan if plan.is_one else _spread(plan, keys)
    # (the rates and precision: pricing's; one plan's terms are the one-plan memo's)
    owners = None if pricing is None or plan.is_one else (shape, pricing, fabric, stack)
    return _computed_once(plan, keys,
                          compute if pricing is None else pricing.memoised("layer", shape, keys, compute),
                          owners, keep)


def _spread(plan: PlanArrays, keys: tuple[str, ...]) -> PlanArrays:
    """`plan` with its `keys` fields broadcast to one shape (`row_memo.computed_once` reads key fields of one)."""
    wide = np.broadcast_shapes(*(np.shape(getattr(plan, k)) for k in keys))
    return replace(plan, **{k: np.broadcast_to(getattr(plan, k), wide) for k in keys})


def _layer_rows(shape: TransformerShape, rates: KernelRates, fabric: Fabric, distinct: PlanArrays,
                precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]], stack: Stack) -> dict[str, Any]:
    """`_per_layer`'s terms of rows with distinct LAYER_KEYS (arrays; one plan's Python floats)."""
    host_s = fabric.host_kernel_dispatch_s
    if distinct.is_one:  # one plan: the same terms on its Python numbers (`PlanArrays.one_row`)
        row = distinct.one_row
        precision = precision_of(row)  # (its int dtype code picks its recipe's Python floats)
        times, ep_records = layer_times_but_ep(shape, rates, fabric, row, precision, host_s, stack)
        times.update(head_times(shape, rates, row, precision, stack, host_s, fabric))
        times = with_ep_comm(times, ep_seconds(shape, fabric, ep_records, stack, precision[1] < 2.0, True),
                             row.recompute == _FULL, stack, fabric, ep_records, True)
        # the one-plan memo keeps Python floats (in the split's key order; `float` returns a float as it is, and
        # `map` converts in C: ~120 terms, no bytecode per term; hP9)
        split = with_stage_split(shape, stack, times, float(row.pp))
        return dict(zip(split, map(float, split.values()), strict=True))
    free_keys = (*FREE_KEYS, "zero") if layer_reads_zero(stack) else FREE_KEYS  # (`_per_layer`'s keys)
    free = _distinct_rows([getattr(distinct, k) for k in free_keys])
    once = distinct if free is None else take_rows(distinct, free[0])

    def price(rows: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
        return _price_free_rows(shape, rates, fabric, rows, precision_of, stack)

    memo = RowMemo.active()  # a search shares the priced rows across its blocks (`training.row_memo`)
    memo = memo if memo is not None and memo.keys == free_keys else None
    inverse = None if free is None else free[1]
    if memo is not None:  # looked up straight onto the rows (one gather per term)
        times, ep_records = memo.lookup(once, price, inverse)
    else:
        times, ep_records = price(once)
        if inverse is not None:
            n = len(once)

            def spread(v: ArrayLike) -> np.ndarray:
                return np.asarray(np.broadcast_to(np.asarray(v), (n,))[inverse])

            times = {k: spread(v) for k, v in times.items()}
            ep_records = tuple(replace(c, bytes=spread(c.bytes), group=spread(c.group), mask=spread(c.mask))
                               for c in ep_records)
    fp8 = precision_of(distinct)[1] < 2.0
    if free is not None or memo is not None:  # the records' stride is the first priced row's: each row's own
        ep_records = tuple(replace(c, stride=distinct.ep_stride) for c in ep_records)
    times = with_ep_comm(times, ep_seconds(shape, fabric, ep_records, stack, fp8),
                         distinct.recompute == int(Recompute.FULL), stack, fabric, ep_records)
    # the balanced whole-layer split depends only on these rows too: bisect it once per distinct row
    return with_stage_split(shape, stack, times, distinct.pp.astype(np.float64))


def _price_free_rows(shape: TransformerShape, rates: KernelRates, fabric: Fabric, rows: PlanArrays,
                     precision_of: Callable[[PlanArrays], tuple[np.ndarray, np.ndarray]],
                     stack: Stack) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
    """Layer terms but the EP all-to-all, LM-head terms and the all-to-all's records of stride-free rows."""
    precision, host_s = precision_of(rows), fabric.host_kernel_dispatch_s
    times, ep_records = layer_times_but_ep(shape, rates, fabric, rows, precision, host_s, stack)
    times.update(head_times(shape, rates, rows, precision, stack, host_s, fabric))
    return times, ep_records


def stage_work_bound_s(shape: TransformerShape, cluster: Cluster, rows: PlanArrays, stack: Stack) -> np.ndarray:
    """Per row (1-D rows at vpp 1, 1F1B, ZeRO 0): a lower bound on the heaviest stage's work of the step,
    `step_time(..., stage_only=True)` summed (seconds), from the row's stride-free layer terms alone: no EP
    all-to-all, no stage split (a search prices them on every row; this prices nothing per row).

    Per micro-batch the stage holds l layers of GPU time G each (compute, TP/CP/EP, element-wise) and, when it is
    the last, the LM head's GPU time h (the first: the embedding's e); exposed host time only adds. Both splits
    pick the stage of the highest pace l P + [last] H + [first] E (P, H, E: per phase the longer of GPU and host
    time) and give the p stages L layers, the head and the embedding in all, so that pace is >= (L P + H + E) / p.
    A middle stage then has l >= L / p; the last has l G + h >= (L / p) G - (H - h), as G <= P, and the first
    l G + e >= (L / p) G - (E - e). G here leaves out the EP all-to-all (which only adds: its hidden share moves to
    the compute), so m ((L / p) G - max(H - h, E - e)) bounds the stage work of the row's m micro-batches.
    Widened by `BOUND_MARGIN` over the rounding and the balanced split's 1e-9 layer tolerance.
    """
    pricing = cluster_pricing(cluster, stack)
    if layer_reads_zero(stack):  # (the least layer terms of any ZeRO stage: `least_work_zero`)
        rows = replace(rows, zero=np.full_like(rows.zero, least_work_zero(stack)))
    free = _distinct_rows([getattr(rows, k) for k in FREE_KEYS])
    once = rows if free is None else take_rows(rows, free[0])
    memo = RowMemo.active()
    memo = memo if memo is not None and memo.keys == FREE_KEYS and not layer_reads_zero(stack) else None

    def price(plans: PlanArrays) -> tuple[dict[str, np.ndarray], tuple[Collective, ...]]:
        return _price_free_rows(shape, pricing.rates, cluster.fabric, plans, pricing.precision_of, stack)

    t, _ = price(once) if memo is None else memo.lookup(once, price)
    gpu = sum(t[f"{part}_{phase}"] for part in ("compute", "tp", "cp", "other") for phase in ("fwd", "bwd"))
    head_excess = np.maximum(*((np.maximum(t[f"{end}_host_fwd"] - t[f"{end}_gpu_fwd"], 0.0)
                                + np.maximum(t[f"{end}_host_bwd"] - t[f"{end}_gpu_bwd"], 0.0))
                               for end in ("head", "embed")))  # the last stage's head, the first's embedding
    if free is not None:
        gpu, head_excess = np.asarray(gpu)[free[1]], np.asarray(head_excess)[free[1]]
    layers = shape.num_layers / rows.pp.astype(np.float64)
    if stack.pipeline_layouts:  # a layout's heaviest rank may hold fewer than L / p layers beside several heads
        layers = np.where(rows.pp > 1, 0.0, layers)  # (`training.pipeline_layout`): no cheap bound for those rows
    bound = rows.micro_batches * (layers * gpu * (1.0 - BOUND_MARGIN) - head_excess * (1.0 + BOUND_MARGIN))
    return np.asarray(np.maximum(bound, 0.0), dtype=np.float64)


def _with_block_recompute(shape: TransformerShape, plan: PlanArrays, lt: dict[str, np.ndarray],
                          per_layer: Callable[[PlanArrays], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Layer times under block recompute (`training.memory.recomputed_stage_layers`): r of the stage's layers pay
    the full-recompute layer time, the others the no-recompute one (the stage's mean layer). Plans without
    block recompute are returned as they are."""
    if plan.is_one:  # one plan: its Python ints decide
        row = plan.one_row
        if not (row.recompute == _FULL and row.recompute_layers > 0):
            return lt
    block = (plan.recompute == int(Recompute.FULL)) & (plan.recompute_layers > 0)
    if not np.any(block):
        return lt
    plain = per_layer(replace(plan, recompute=np.where(block, int(Recompute.NONE), plan.recompute)))
    share = np.where(block, recomputed_stage_layers(shape, plan) / stage_layers(shape.num_layers, plan.pp), 1.0)
    return {k: v if k in ("stage_layers", "last_is_heaviest", "first_is_heaviest", "other_layers")
            or k.startswith(("head_", "embed_"))
            else share * v + (1.0 - share) * plain[k] for k, v in lt.items()}


def balanced_split(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                   profile: Stack) -> tuple[Any, ...] | None:
    """The step time's split of the stack's "balanced" layer split (`stage_split.with_stage_split`, on the paces of
    the plan's layers, embedding and LM head + loss): the heaviest stage's layers and whether it is the first / the
    last (1.0 or 0.0), in the plan's shape (one plan: floats), which the memory prices its stage kinds on
    (`memory.memory_breakdown`'s `split`); None where the split is "even" (the memory's own counts, the same). The
    per-layer terms are the step time's (`_per_layer`, kept in the one-plan memo and a search's `RowMemo`). Where a
    plan or the stack runs a schedule whose ranks hold mirrored stages (DualPipe, ZB-V), then the split the step
    time paces those on (`mirrored_stages.mirrored_splits`, of every plan: a search's rows stand for every schedule).
    Last, the first and the last stage's capacities at the step's pace (`mirrored_stages.end_stage_capacities`,
    `stage_params.split_capacities`; hO47, session 43): 5 terms, or 10 with a mirrored schedule's.
    """
    if profile.pipeline_split != "balanced":
        return None
    profile = with_flex_dispatcher(profile, cluster.accelerator.catalog_name)  # as `one_plan_step_time`
    plan = plan.with_expert_layout(expert_layout(profile), rank_order(profile))
    pricing = cluster_pricing(cluster, profile)
    lt = _per_layer(shape, pricing.rates, cluster.fabric, plan, pricing.precision_of, profile, pricing, True)
    split = lt["stage_layers"], lt["first_is_heaviest"], lt["last_is_heaviest"]
    # (on the paces the step time prices: block recompute's mixed layer, `one_plan_step_time`)
    paced = _with_block_recompute(shape, plan, lt, lambda p: _per_layer(shape, pricing.rates, cluster.fabric, p,
                                                                         pricing.precision_of, profile, pricing))
    capacities = end_stage_capacities(paced, split[0], plan.is_one)
    schedule = plan.one_row.schedule if plan.is_one else plan.schedule
    if not (np.any(np.isin(schedule, MIRRORED_SCHEDULES))
            or any(int(code) in MIRRORED_SCHEDULES for code in stack_schedules(profile))):
        return (*split, *capacities)
    return (*split, *mirrored_splits(shape, profile, paced, float(plan.one_row.pp) if plan.is_one else plan.pp),
            *capacities)


def step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
              stack: str | Stack | None = None, stage_only: bool = False,
              breakdown: bool = True) -> dict[str, np.ndarray]:
    """Step time and its breakdown (seconds, arrays over plans); components add up to `step_time_s`.

    `stack`: the software-stack profile (name, file or Stack; None = `catalog.stacks.DEFAULT_TRAINING_STACK`); a
    name, file or None comes with the stack's recipe for `shape`'s model, as in `estimate_training` (a Stack object
    is taken as given).
    `stage_only`: only the micro-batches' stage work (compute, TP/CP/EP, other), without the pipeline and DP
    traffic (the search's step-time floor, `training.search_bounds`).
    `breakdown` False: without the exposed host row and its phases (`step_assembly.assemble_step`; a search's grid).
    """
    out = one_plan_step_time(shape, cluster, plan, resolve_stack(stack, "training", recipe_key(shape)), stage_only,
                             breakdown=breakdown)
    return {k: np.array([v]) for k, v in out.items()} if plan.is_one else out


def one_plan_step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack,
                       stage_only: bool = False,
                       forward_only: bool | Callable[[dict[str, Any]], dict[str, Any]] = False,
                       lora: LoraSpec | None = None, breakdown: bool = True) -> dict[str, Any]:
    """`step_time` under a resolved stack; a single estimate's plan (`PlanArrays.is_one`) as Python floats: the same
    formulas on its plain numbers (`PlanArrays.one_row`, `scalar_path.FLOAT_OPS`), the bits of its row in a grid.
    `forward_only`: its forward passes (`forward_pass`; on a grid too, `dsa_warmup_grid`), a callable also applied
    to their terms (`dsa_warmup`: the indexer's work on each layer); `lora`: a LoRA step (`frozen_base`)."""
    profile = with_flex_dispatcher(profile, cluster.accelerator.catalog_name)  # the recipe's MoE dispatcher here
    # the experts as the stack lays them and its rank order where the plan names none (a stack-less grid)
    plan = plan.with_expert_layout(expert_layout(profile), rank_order(profile))
    fabric = cluster.fabric
    pricing = cluster_pricing(cluster, profile)
    rates, precision_of = pricing.rates, pricing.precision_of
    grad_bytes = profile.grad_reduce_bytes  # (the stack's property, read once for its uses below)
    all_reduce = reduces_by_all_reduce(profile)  # ZeRO 1/2's gradients all-reduced (`step_traffic`; Muon's too)

    per_layer = _per_layer(shape, rates, fabric, plan, precision_of, profile, pricing)
    lt = _with_block_recompute(shape, plan, per_layer,
                               lambda p: _per_layer(shape, rates, fabric, p, precision_of, profile, pricing))
    # DualPipe's ranks each hold a mirrored pair of stages (`mirrored_stages.mirrored_pair_stage`)
    paired = plan.one_row.schedule == _DUALPIPE if plan.is_one else plan.schedule == _DUALPIPE
    # ZB-V's rank 0 holds the first and the last of 2p chunks, every micro-batch through both (`v_shape_stage`)
    v_shaped = plan.one_row.schedule == _ZB_V if plan.is_one else plan.schedule == _ZB_V
    lt = with_mirrored_pairs(shape, profile, lt, float(plan.one_row.pp) if plan.is_one else plan.pp, paired,
                             v_shaped)
    if profile.pipeline_layouts:  # the layout matching each plan's p x v chunks (`training.pipeline_layout`)
        lt = with_pipeline_layout(shape, profile, lt, plan.one_row.pp if plan.is_one else plan.pp,
                                  plan.one_row.vpp if plan.is_one else plan.vpp)
    # NCCL CollNet (the stack's `nccl_collnet`): the DP all-reduce through IB SHARP where the switches do it
    dp_fabric = collnet_fabric(cluster) if profile.nccl_collnet and not stage_only else fabric
    traffic = ({} if stage_only else
               pipeline_and_dp_traffic(shape, dp_fabric, plan, grad_bytes, pricing,
                                       profile.mtp_num_layers, all_reduce)
               | newton_schulz_terms(shape, plan.one_row if plan.is_one else plan, rates, profile))  # (Muon's)
    if plan.is_one:  # the one-plan terms are floats (one-element arrays only where block recompute mixed two rows)
        row = plan.one_row
        # (what the DP collectives' key reads of the plan, once for its stages: `dp_collectives_memo`)
        held = None if stage_only else (*dp_key_of(dp_fabric, row, grad_bytes), all_reduce)
        if not stage_only:  # the DP collectives of its ZeRO stage (`pipeline_and_dp_traffic` keeps the rest)
            traffic = traffic | one_plan_dp_collectives(shape, dp_fabric, row, traffic["params"],
                                                          traffic["expert_params"], grad_bytes, None, held, all_reduce)
            if lora is not None:  # a frozen base: the adapters' gradients and steps (`frozen_base`)
                traffic = frozen_traffic(traffic, shape, row, lora, lambda params: one_plan_dp_collectives(
                    shape, dp_fabric, row, params, 0.0, grad_bytes, None, held, all_reduce))
        traffic = blocking_gather(traffic, profile)  # (Muon's all-gather in its step, `training.optimizers`)
        floats = lt | traffic if lt is per_layer else {k: float(np.ravel(v)[0]) for k, v in (lt | traffic).items()}
        if lora is not None:  # a frozen base: its GEMMs, the adapters' and their host calls (`adapter_host`)
            floats = frozen_layers(floats, shape, rates, row, precision_of(row), profile, lora, fabric)
        if forward_only:  # no backward, gradients or optimizer; nothing saved to offload (`forward_pass`)
            forward = forward_only_terms(floats)
            forward = forward_only(forward) if callable(forward_only) else forward  # (`dsa_warmup`'s indexer)
            return assemble_step(row, forward, forward, profile, fabric.host_kernel_dispatch_s, rates, FLOAT_OPS,
                                 stage_only, host_moved=False)
        ends = EndStageTraffic(shape, row, blocking_gathers(lambda stages: [one_plan_dp_collectives(
            shape, dp_fabric, row, params, experts, grad_bytes, layers, held, all_reduce)
            for params, experts, layers, *_ in stages], profile), (dp_fabric, grad_bytes))
        ends = ends if lora is None else frozen_ends(ends, shape, row, lora)
        out = assemble_step(row, floats, floats, profile, fabric.host_kernel_dispatch_s, rates, FLOAT_OPS,
                            stage_only, ends)
        out = dict(zip(out, map(float, out.values()), strict=True))  # (Python floats, converted in C)
        return _with_offload(shape, cluster, plan, profile, floats, out, stage_only)
    ends = EndStageTraffic(shape, plan, blocking_gathers(lambda stages, rows=None: dp_collectives_once(
        shape, dp_fabric, plan, stages, grad_bytes, rows, all_reduce), profile), (dp_fabric, grad_bytes))
    if lora is not None:  # a frozen base on a search's grid: the one plan's terms, as arrays (`frozen_base`)
        lt, traffic, ends = frozen_grid(shape, pricing, (fabric, dp_fabric), plan, profile, lora, (lt, traffic, ends))
    traffic = blocking_gather(traffic, profile)  # (Muon's all-gather in its step, `training.optimizers`)
    if forward_only:  # a grid's forward passes, as the one plan's above (`dsa_warmup_grid`: search --dsa-stage)
        forward = forward_only_terms(lt | traffic)
        forward = forward_only(forward) if callable(forward_only) else forward
        return assemble_step(plan, forward, forward, profile, fabric.host_kernel_dispatch_s, rates, NUMPY_OPS,
                             stage_only, breakdown=breakdown, host_moved=False)
    out = assemble_step(plan, lt, traffic, profile, fabric.host_kernel_dispatch_s, rates, NUMPY_OPS, stage_only, ends,
                        breakdown)
    return _with_offload(shape, cluster, plan, profile, lt, out, stage_only)


def _with_offload(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack, lt: dict[str, Any],
                  out: dict[str, Any], stage_only: bool) -> dict[str, Any]:
    """The CPU offload copies' waits on the stack's offloading plans (`training.activation_offload`)."""
    if not profile.cpu_offload_layers or stage_only:
        return out
    saved = activation_bytes_per_token_layer(shape, plan.one_row if plan.is_one else plan, profile)
    return with_offload_wait(plan, profile, shape.num_layers, lt, saved,
                             cluster.accelerator.host_link_bandwidth_bytes_per_s, out)
