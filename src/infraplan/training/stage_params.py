"""Parameters one GPU holds on a pipeline stage of each kind, for the memory per GPU (`training.memory`) and the
DP traffic (`training.step_traffic`).

One layer's matrices, the heaviest stage's with its embedding / LM head and the routed experts' part of them
(`ops.params`), their shards over the data-parallel replicas (`dp_groups`: DP x CP for dense, the expert
data-parallel ranks for experts), the layers of each stage kind under the stack's split (first, middle, last, and
`BOUND_KIND`: a middle stage's layers with a table), the output head a mirrored schedule's first rank holds (ZB-V, torch
2.13.0 pipelining) and the MTP modules' (DeepSeek-V3 arXiv:2412.19437 sec. 2.2; sources in `training.memory`'s
module docstring). A one-plan row keeps its counts (`_kept_on_row`). Moved out of training/memory.py (hY2, session
38); CP counted in the shards and the DP groups (hE, session 38). What a rank holds of a stage kind with its
parameter copies, head table and MTP modules (`held_on_rank`, `rank_params`): the memory's state terms and a
mirrored rank's optimizer step (`training.optimizer_step`; hO41, session 41), its DP traffic (`rank_holdings`,
hK44). The layers of each stage kind under the stack's split: `training.stage_kind_layers` (importable from here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops import params as ops_params
from infraplan.scalar_path import anywhere, is_plain, pick
from infraplan.training.activation_memory import FIRST as _FIRST
from infraplan.training.activation_memory import MIDDLE as _MIDDLE
from infraplan.training.activation_memory import split_flags as _split_flags
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES
from infraplan.training.stage_kind_layers import balanced_stage_layers as balanced_stage_layers
from infraplan.training.stage_kind_layers import mirrored_rank_layers as mirrored_rank_layers
from infraplan.training.stage_kind_layers import mirrored_split_layers as mirrored_split_layers
from infraplan.training.stage_kind_layers import split_capacities as split_capacities
from infraplan.training.stage_kind_layers import stage_layer_counts as stage_layer_counts

# a fourth stage kind beside `activation_memory.MIDDLE`, `FIRST` and `LAST`:
BOUND_KIND = 3  # a middle stage's layers (the balanced split's most) with a table: at least any stage's parameters
# schedules whose ranks hold mirrored stages (DualPipe, ZB-V): the first stage's rank holds the last, and its MTP
MIRRORED_SCHEDULES = tuple(sorted(int(code) for code, model in PIPELINE_SCHEDULES.items()
                                 if model.stage_chunks is None))


def _kept_on_row(plan: PlanArrays, name: str, shape: TransformerShape, compute: Callable[[], Any]) -> Any:
    """`compute()` of a one-plan row (`PlanArrays.one_row`, never changed in place), kept on the row for its
    model: a single estimate asks for its parameter counts twice (the DP traffic and the memory), each a few
    microseconds (issue 18); and across plans of the same model and (TP, PP, EP, ETP) (`ops.params.PLAN_SHAPE_COUNTS`:
    `name` says which count, each reads only those). Arrays over plans are computed every time."""
    if type(plan.tp) is not int:  # type: ignore[comparison-overlap]  # (a `one_row` holds Python ints)
        return compute()
    kept = plan.__dict__.get(name)
    if kept is not None and kept[0] is shape:
        return kept[1]
    key = (name, plan.tp, plan.pp, plan.ep, plan.expert_tp)  # what every kept count reads (`ops.params`)
    value = ops_params.PLAN_SHAPE_COUNTS.get(shape, key)
    if value is None:
        value = ops_params.PLAN_SHAPE_COUNTS.put(shape, key, compute())
    plan.__dict__[name] = (shape, value)  # (the frozen dataclass's __dict__, as `cached_property` writes it)
    return value


def local_layer_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Matrix parameters of one layer held by one GPU (`ops.params.local_layer_params` for the plan)."""
    kinds = row_layer_kind_params(shape, plan)
    if kinds is None:
        return ops_params.local_layer_params(shape, plan.tp, plan.ep, plan.expert_tp)
    layer: np.ndarray = kinds[0]
    return layer


def row_layer_kind_params(shape: TransformerShape, plan: PlanArrays) -> tuple[Any, ...] | None:
    """`ops.params.layer_kind_params` of a one-plan row, kept on the row (every stage kind's parameters and the
    ZeRO-3 layer multiply them: computed once per plan, not once per stage kind); None for arrays over plans (each
    formula computes its own, as before)."""
    if not is_plain(plan.tp):
        return None
    kinds: tuple[Any, ...] = _kept_on_row(plan, "row_layer_kind_params", shape,
                                          lambda: ops_params.layer_kind_params(shape, plan.tp, plan.ep, plan.expert_tp))
    return kinds


def local_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Parameters on the heaviest stage of one GPU, embedding or LM head included."""
    return _kept_on_row(plan, "_local_params", shape,  # type: ignore[no-any-return]
                        lambda: ops_params.local_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp,
                                                        per_layer=row_layer_kind_params(shape, plan)))


def local_expert_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """The part of `local_params` that is routed experts (E / EP experts split over ETP): replicated only over
    the expert data-parallel ranks (`PlanArrays.edp`), not all of DP."""
    experts = _kept_on_row(plan, "_local_expert_params", shape,
                           lambda: ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp))
    return experts if is_plain(plan.tp) else experts * np.ones(np.shape(plan.tp))  # type: ignore[no-any-return]


def dp_groups(plan: PlanArrays) -> tuple[Any, Any, Any, Any]:
    """(ranks, rank stride) of the dense parameters' data-parallel group, then of the routed experts': the ranks a
    step's gradients are reduced over (ZeRO 0's all-reduce, ZeRO 1/2's reduce-scatter, ZeRO-3's per-layer gathers)
    and its ZeRO shards are split over (`sharded_of`). CP ranks hold the same parameters and each computes gradients
    on its own part of the sequence, so the frameworks reduce and shard over DP x CP (hE, session 38):
    megatron-core 0.16.1 builds the DDP buffers on `intra_dp_cp_group` / `intra_expt_dp_group`
    (distributed/distributed_data_parallel.py:291-301; process_groups_config.py:473-481: the data-parallel group
    `with_context_parallel=True` and the expert data-parallel group) and the distributed optimizer on them
    (optimizer/__init__.py:637, :675); its expert data-parallel size is world / (ETP x EP x PP) = TP x CP x DP /
    (EP x ETP) (parallel_state.py:788-791); megatron-core 0.8.0 (EP inside DP) shards experts over
    `get_data_modulo_expert_parallel_group(with_context_parallel=True)` (distributed_data_parallel.py:163,170;
    optimizer/__init__.py:343,357), the 'dp-cp' group with DP read as DP / EP (parallel_state.py:262-263,
    :711-724): CP x DP / EP ranks; torchtitan 0.3.0 FSDP shards over dp_shard x cp (distributed/parallel_dims.py:
    222-225, :278); DeepSpeed 0.14.4 ZeRO over its sequence-data-parallel group (runtime/engine.py:1470, :1519,
    :1589, :1632; utils/groups.py:503-509; no CP in the deepspeed stack). meta-llama3 likewise, ASSUMPTION (Llama 3
    paper sec. 3.3.2 names FSDP over DP, not its group with CP). Dense: DP x CP ranks, CP's TP-apart ranks then DP's (at
    `dp_stride / CP`: the TP x CP blocks PP apart under tp-cp-pp-dp priced as a uniform stride, as
    `PlanArrays._stage_stride`). Experts: `PlanArrays.edp` when laid over the stage (`PlanArrays.experts_over_stage`:
    folded, or the stack's layout at EP > 1, hE3; CP counted already), else EDP x CP likewise. Without CP: DP and
    `PlanArrays.edp` at their strides, as before."""
    cp, tp = plan.cp, plan.tp
    one = cp == 1
    dense = plan.dp * cp
    dense_stride = pick((plan.dp > 1) | one, plan.dp_stride // cp, tp)
    if anywhere(plan.zero_shard > 0):  # hybrid sharding: ZeRO over the N inner ranks (`replica_group`)
        dense = pick(plan.zero_shard > 0, plan.zero_shard, dense)
    edp, edp_stride = plan.edp, plan.edp_stride
    inside = pick((edp > 1) | one, edp_stride // cp, tp)
    over = plan.experts_over_stage
    return dense, dense_stride, pick(over, edp, edp * cp), pick(over, edp_stride, inside)


def replica_group(plan: PlanArrays) -> tuple[Any, Any, Any]:
    """(ranks, rank stride, shard ranks N) of the cross-replica gradient all-reduce under hybrid sharding
    (`PlanArrays.zero_shard` N > 0, `training.hybrid_shard`): the DP x CP / N groups that each hold the same 1 / N
    shard, N inner ranks apart (the DP x CP group's stride times N: the N shard ranks are the group's first N, a
    Megatron-Core instance's contiguous slice of the dp-cp ranks, torchtitan's dp_shard inside dp_replicate). 1
    rank (no all-reduce) where N is 0 (ZeRO over all of DP x CP)."""
    shard = plan.zero_shard
    on = shard > 0
    n = pick(on, shard, plan.dp * plan.cp)
    return (plan.dp * plan.cp) // n, dp_groups(plan)[1] * n, n


def sharded_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Local parameters after sharding over their data-parallel replicas (`dp_groups`: DP x CP for dense, the
    expert data-parallel ranks for experts: CP x DP / EP, or TP x CP x DP / (EP x ETP) under MoE parallel
    folding)."""
    return sharded_of(plan, local_params(shape, plan), local_expert_params(shape, plan))


def sharded_of(plan: PlanArrays, params: np.ndarray, experts: np.ndarray) -> np.ndarray:
    """`sharded_params` of the plan's `local_params` and `local_expert_params` (computed already): the dense part over
    `dp_groups`' DP x CP ranks, the experts over its expert ranks (EP / (DP x CP) of them inside DP)."""
    dense = plan.dp * plan.cp  # `dp_groups`' dense ranks
    expert_shard = pick(plan.folded, experts / plan.edp, experts * plan.ep / dense)
    if anywhere(plan.zero_shard > 0):  # hybrid sharding: the dense part over the N shard ranks (`dp_groups`)
        dense = pick(plan.zero_shard > 0, plan.zero_shard, dense)
    sharded: np.ndarray = (params - experts) / dense + expert_shard
    return sharded


def is_mirrored(plan: PlanArrays) -> Any:
    """Whether each plan's schedule holds mirrored stages per rank (`MIRRORED_SCHEDULES`): a bool, or a bool array."""
    if is_plain(plan.schedule):
        return int(plan.schedule) in MIRRORED_SCHEDULES
    return np.isin(plan.schedule, MIRRORED_SCHEDULES)


def head_table(shape: TransformerShape, plan: PlanArrays, copies: Any) -> Any:
    """The output head's V x h / TP table that an untied model's first-stage rank holds beside the embedding's under
    a mirrored schedule of one parameter copy: ZB-V's rank 0 runs chunks 0 and 2p - 1 (torch 2.13.0
    pipelining/_utils.py:528-543, `generate_stage_to_rank_mapping(style="v")`), so it builds the embedding and the
    LM head (weights, gradients and optimizer state, sharded as the rest of its stage); DualPipe's two copies count
    the first stage's table twice already (its rank 0 holds stages 0 and p - 1). 0 elsewhere (hZ2)."""
    on = is_mirrored(plan) & (plan.pp > 1) & (copies == 1.0)
    return pick(on, shape.vocab_size * shape.hidden_size / plan.tp, 0.0)


def mtp_params(shape: TransformerShape, plan: PlanArrays, profile: Stack) -> tuple[Any, Any]:
    """(parameters, routed-expert parameters) of the stack's MTP modules on one GPU of the stage holding them
    (`training.memory`'s module docstring): per module a layer of the decoder's last kind and eh_proj (2h x h over
    TP), plus the embedding table Megatron-Core builds beside them on a last stage of PP > 1 outside a mirrored
    schedule."""
    table = pick(pick(is_mirrored(plan), False, plan.pp > 1), shape.vocab_size * shape.hidden_size / plan.tp, 0.0)
    modules, experts = mtp_module_params(shape, plan, profile.mtp_num_layers)
    return modules + table, experts


def mtp_module_params(shape: TransformerShape, plan: PlanArrays, mtp_num_layers: int) -> tuple[Any, Any]:
    """(parameters, routed-expert parameters) of `mtp_num_layers` MTP modules on one GPU, without the embedding
    table (`mtp_params`): per module a layer of the decoder's last kind and eh_proj (2h x h over TP)."""
    n = float(mtp_num_layers)
    h = float(shape.hidden_size)
    layer = local_layer_params(shape, plan)  # the routed (last) kind of an MoE model, the one kind of a dense one
    experts = ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, 1.0)
    return n * (layer + 2.0 * h * h / plan.tp), n * experts


def stage_kind_params(shape: TransformerShape, plan: PlanArrays, profile: Stack, kind: int,
                      layers: tuple[Any, ...] | None = None) -> tuple[Any, Any]:
    """(parameters, routed-expert parameters) of one GPU on a stage of the kind: the layers of
    `ops.params.split_stage_layers` (`layers`: each kind's own, by kind, `BOUND_KIND` last: the balanced split's,
    `balanced_stage_layers`) and, on the first and last stage (and the bound kind), the embedding / LM head."""
    if layers is not None:
        held = ops_params.local_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, layers[kind],
                                       kind != _MIDDLE, row_layer_kind_params(shape, plan))
        experts = ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, layers[kind])
        return held, experts if is_plain(plan.tp) else experts * np.ones(np.shape(held))
    emb, loss = _split_flags(profile)
    if kind != _MIDDLE and not (emb or loss):  # ceil(L / p) layers and a table: the heaviest stage's
        return local_params(shape, plan), local_expert_params(shape, plan)

    def compute() -> tuple[Any, Any]:
        split = _kept_on_row(plan, f"_split_stage_layers{int(emb)}{int(loss)}", shape,  # (one per plan)
                             lambda: ops_params.split_stage_layers(shape.num_layers, plan.pp, emb, loss))
        layers = split[kind % BOUND_KIND]
        return (ops_params.local_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, layers, kind != _MIDDLE,
                                        row_layer_kind_params(shape, plan)),
                ops_params.local_expert_params(shape, plan.tp, plan.pp, plan.ep, plan.expert_tp, layers))

    held, experts = _kept_on_row(plan, f"_stage_params_{kind}{int(emb)}{int(loss)}", shape, compute)
    return held, experts if is_plain(plan.tp) else experts * np.ones(np.shape(plan.tp))


def mtp_on(plan: PlanArrays, kind: int) -> Any:
    """1 where a stage of the kind holds the stack's MTP modules, else 0 (`training.memory`'s module docstring): the
    last stage, or the first under a mirrored schedule; the bound kind of `memory_bound_terms` always (an upper
    bound)."""
    if kind == BOUND_KIND:
        return 1.0
    if kind == _MIDDLE:
        return 0.0
    mirrored = is_mirrored(plan)
    return pick(mirrored, 1.0, 0.0) if kind == _FIRST else pick(mirrored, 0.0, 1.0)


def held_on_rank(plan: PlanArrays, kind: int, held: Any, experts: Any, copies: Any, head: Any,
                 mtp: tuple[Any, Any] | None) -> tuple[Any, Any]:
    """(parameters, their shard over the data-parallel replicas) one GPU holds on a stage of the kind with `copies`
    parameter copies (`schedules.parameter_copies`: DualPipe's rank holds two stages), from the stage's (`held`,
    `experts`: `stage_kind_params`), the output head's table a mirrored first rank holds (`head`: `head_table`, None for
    tied embeddings) and the MTP modules once on the rank that holds them (`mtp`: `mtp_params`, None without):
    the weights, gradients and optimizer state of `training.memory` and the parameters a mirrored rank's optimizer
    steps (`training.optimizer_step`)."""
    if head is not None and kind in (_FIRST, BOUND_KIND):  # (the bound: at least the first stage's)
        held = held + head
    params = held * copies
    shard = sharded_of(plan, held, experts) * copies
    if mtp is not None:  # the MTP modules once on the rank that holds them (not per mirrored copy)
        on = mtp_on(plan, kind)
        params = params + on * mtp[0]
        shard = shard + on * sharded_of(plan, mtp[0], mtp[1])
    return params, shard


def rank_params(shape: TransformerShape, plan: PlanArrays, profile: Stack, kind: int,
                copies: Any, layers: tuple[Any, ...] | None = None) -> tuple[Any, Any]:
    """`held_on_rank` of a stage of the kind, its table, head and MTP modules counted here; `layers`: each kind's
    layers by kind (`stage_kind_params`; a mirrored schedule's balanced split: `mirrored_rank_layers`)."""
    mtp = mtp_params(shape, plan, profile) if profile.mtp_num_layers else None
    head = None if shape.tied_embeddings else head_table(shape, plan, copies)
    return held_on_rank(plan, kind, *stage_kind_params(shape, plan, profile, kind, layers), copies, head, mtp)


def rank_holdings(shape: TransformerShape, plan: PlanArrays, profile: Stack, kind: int, copies: Any,
                  layers: tuple[Any, ...] | None = None) -> tuple[Any, Any, Any]:
    """(parameters, routed-expert parameters, MTP modules) of `rank_params`' rank, before sharding: its parameters,
    the routed experts apart (sharded over their own group, `sharded_of`) and the stack's MTP modules where it holds
    them (`mtp_on`), else 0: what a mirrored rank's DP collectives move (`mirrored_dp.mirrored_rank_stages`)."""
    held, experts = stage_kind_params(shape, plan, profile, kind, layers)
    if not shape.tied_embeddings and kind in (_FIRST, BOUND_KIND):  # (the bound: at least the first stage's)
        held = held + head_table(shape, plan, copies)
    if not profile.mtp_num_layers:
        return held * copies, experts * copies, 0.0
    on, mtp = mtp_on(plan, kind), mtp_params(shape, plan, profile)  # (once, not per mirrored copy)
    return held * copies + on * mtp[0], experts * copies + on * mtp[1], on * float(profile.mtp_num_layers)
