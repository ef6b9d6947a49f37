"""Training step time of a transformer under a TP/CP/PP/DP/EP plan, vectorised over plans.

Per micro-batch and layer on one GPU: `training.layer_time` (GEMMs, attention, element-wise work, TP/CP collectives,
recompute, the stack's overlaps, host issue time), `training.head_time` (LM head, loss, embedding) and
`training.expert_dispatch` (EP all-to-all), once per distinct layer row (`training.layer_terms`, with the balanced
stage split and block recompute's mixed layer); stages (`training.stage_split`), p2p and DP traffic
(`training.step_traffic`, once per communication row), assembled by `training.step_assembly`.

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
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.part_files import warn_default_host_link
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.network.sharp import collnet_fabric
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training.activation_memory import activation_bytes_per_token_layer
from infraplan.training.activation_offload import with_offload_wait
from infraplan.training.adapter_host import frozen_grid, frozen_layers
from infraplan.training.attention_core import attention_core_times as attention_core_times
from infraplan.training.axes import COMM_KEYS as COMM_KEYS  # cache keys, derived from the declared plan axes
from infraplan.training.dp_collectives_memo import dp_key_of, one_plan_dp_collectives
from infraplan.training.enums import Schedule
from infraplan.training.expert_dispatch import deepep_node_dedup as deepep_node_dedup
from infraplan.training.expert_dispatch import with_flex_dispatcher
from infraplan.training.forward_pass import forward_only_terms
from infraplan.training.frozen_base import LoraSpec
from infraplan.training.frozen_traffic import frozen_ends, frozen_traffic
from infraplan.training.head_time import head_times as head_times
from infraplan.training.host_time import CHECKPOINT_HOST_CALLS as CHECKPOINT_HOST_CALLS
from infraplan.training.host_time import EAGER_EXTRA_KERNELS as EAGER_EXTRA_KERNELS
from infraplan.training.host_time import MAIN_GRAD_ADD_KERNELS as MAIN_GRAD_ADD_KERNELS
from infraplan.training.host_time import host_exposed_time as host_exposed_time
from infraplan.training.host_time import micro_batch_host_time as micro_batch_host_time
from infraplan.training.layer_terms import FREE_KEYS as FREE_KEYS
from infraplan.training.layer_terms import STRIDE_ONLY_KEYS as STRIDE_ONLY_KEYS
from infraplan.training.layer_terms import balanced_split as balanced_split
from infraplan.training.layer_terms import layer_times as layer_times
from infraplan.training.layer_terms import per_layer_terms, with_block_recompute
from infraplan.training.layer_terms import stage_work_bound_s as stage_work_bound_s
from infraplan.training.layer_time import ACT as ACT
from infraplan.training.layer_time import layer_kernel_counts as layer_kernel_counts
from infraplan.training.mirrored_stages import with_mirrored_pairs
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.optimizers import (
    blocking_gather,
    blocking_gathers,
    newton_schulz_terms,
    reduces_by_all_reduce,
)
from infraplan.training.pipeline_layout import with_pipeline_layout
from infraplan.training.plan import PlanArrays
from infraplan.training.stack_limits import expert_layout, rank_order
from infraplan.training.step_assembly import COMPONENTS as COMPONENTS
from infraplan.training.step_assembly import assemble_step
from infraplan.training.step_traffic import (
    EndStageTraffic,
    dp_collectives_once,
    pipeline_and_dp_traffic,
)

__all__ = ["ACT", "CHECKPOINT_HOST_CALLS", "COMPONENTS", "EAGER_EXTRA_KERNELS", "FREE_KEYS", "MAIN_GRAD_ADD_KERNELS",
           "STRIDE_ONLY_KEYS", "attention_core_times", "balanced_split", "deepep_node_dedup", "head_times",
           "host_exposed_time", "layer_kernel_counts", "layer_times", "one_plan_step_time", "stage_work_bound_s",
           "step_time"]

_DUALPIPE = int(Schedule.DUALPIPE)
_ZB_V = int(Schedule.ZB_V)


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

    per_layer = per_layer_terms(shape, rates, fabric, plan, precision_of, profile, pricing)
    lt = with_block_recompute(shape, plan, per_layer,
                              lambda p: per_layer_terms(shape, rates, fabric, p, precision_of, profile, pricing))
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
    warn_default_host_link(cluster.accelerator, "the offloaded activations' copies are priced")
    return with_offload_wait(plan, profile, shape.num_layers, lt, saved, cluster.accelerator.host_link_bytes_per_s,
                             out)
