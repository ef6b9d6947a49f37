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
hK44). The layers of the stages that exist under the stack's split, one implementation for the step time and the
memory (`stage_layer_counts`, moved from step_assembly.py; `balanced_stage_layers`, each stage kind's of the
balanced split: hO42, session 42); a mirrored schedule's end and middle ranks on the same balanced split
(`mirrored_rank_layers`: hO44, session 43).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.ops import params as ops_params
from infraplan.scalar_path import MathOps, anywhere, is_plain, larger, ops_of, pick, smaller, to_float
from infraplan.training.activation_memory import FIRST as _FIRST
from infraplan.training.activation_memory import MIDDLE as _MIDDLE
from infraplan.training.activation_memory import split_flags as _split_flags
from infraplan.training.enums import Schedule
from infraplan.training.pipeline_partition import FIXED_PARTITIONS
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES
from infraplan.training.stage_split import balanced_end_layers

# a fourth stage kind beside `activation_memory.MIDDLE`, `FIRST` and `LAST`:
BOUND_KIND = 3  # a middle stage's layers (the balanced split's most) with a table: at least any stage's parameters
# schedules whose ranks hold mirrored stages (DualPipe, ZB-V): the first stage's rank holds the last, and its MTP
MIRRORED_SCHEDULES = tuple(sorted(int(code) for code, model in PIPELINE_SCHEDULES.items()
                                 if model.stage_chunks is None))
_ZB_V = int(Schedule.ZB_V)  # (its code as an int: the mirrored schedule of one copy, `mirrored_split_layers`)


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


def mirrored_rank_layers(num_layers: int, pp: Any, heaviest: Any, end_heavy: Any, v_shaped: Any,
                         end_extra: Any = 0.0) -> tuple[Any, Any]:
    """(the end rank's, the middle rank of the most's) layers per parameter copy under a schedule whose ranks hold
    mirrored stages, on the balanced split its step time paces (`mirrored_stages.with_mirrored_pairs`: `heaviest`,
    its pace-setting rank's `stage_layers`; `end_heavy` > 0 where that is the end rank, which holds the embedding and
    the LM head; `end_extra`: the end bin's tables and MTP modules in layers of time, `mirrored_stages.
    end_extra_layers`). DualPipe (`v_shaped` false): rank i holds stages i and p - 1 - i, so the split is p / 2 bins
    of two stages (DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1; dualpipe 1.0.0), the rank's `heaviest` their mean (half
    its bin), priced per copy (its two stages, `schedules.parameter_copies` 2); ZB-V (`v_shaped` true): rank i holds
    chunks i and 2p - 1 - i of 2p (Qi et al. arXiv:2401.10241 sec. 6), p bins, one copy.

    The step time's split (`stage_split.balanced_heaviest_stage`) assumes only that no bin runs longer than the
    pace-setting bin of X layers and that the bins hold all L: its capacity test at that pace, (B - 1) X +
    floor(X - e) (e: the end bin's tables in layers), holds L. The end bin the heaviest: it holds X, the middle bins
    the rest as evenly as whole layers go (the most ceil((L - X) / (B - 1))). A middle bin the heaviest: as
    `stage_layer_counts` (Megatron-Core's uneven split), every middle bin holds X and the end bin the L - (B - 1) X
    left (Llama 3 405B's ends one layer short, arXiv:2407.21783 sec. 3.3.2); where (B - 1) X > L no split gives
    every middle bin X, and a partitioner gives some X and others fewer: ASSUMPTION, the end bin then holds its
    capacity beside its tables at the pace, floor(X - e) (at most L - X: one middle bin holds X), the most a split
    that keeps the pace gives it, so that it is not understated, and the middle bins the L - end left, at most X each
    (the capacity test). (A partitioner may leave the end fewer: DeepSpeed 0.14.4's `partition_balanced` minimises
    the largest less the smallest part, runtime/utils.py:583-619.) hO46, session 43: the end bin held L - (B - 1) X
    clamped to 0 there (hO44: llama3-8b deepspeed PP8 ZB-V, 7 x 5 = 35 > 32, the end rank 0 layers and both tables,
    bins summing to 35). One bin (DualPipe PP 2): every rank holds all L; one stage: L."""
    ops = ops_of(pp)
    p = to_float(pp)
    per_copy = pick(v_shaped, 1.0, 2.0)
    bins = larger(pick(v_shaped, p, p / 2.0), 1.0)
    held = heaviest * per_copy  # the pace-setting rank's bin
    whole = float(num_layers)
    end_first = end_heavy > 0.0
    rest = whole - (bins - 1.0) * held  # (every middle bin X: what it leaves the end bin)
    beside = larger(ops.floor(held - end_extra + 1e-9), 0.0)  # the end bin's capacity at the pace
    end = pick(end_first, held, pick(rest >= 0.0, rest, smaller(beside, whole - held)))
    middle = pick(end_first, ops.ceil((whole - held) / larger(bins - 1.0, 1.0)), held)
    one_bin = bins <= 1.0  # (no middle rank: its kind holds the end rank's layers, no table, so never more)
    end, middle = pick(one_bin, whole, end), pick(one_bin, whole, middle)
    single = p < 2.0
    return pick(single, whole, end / per_copy), pick(single, whole, middle / per_copy)


def mirrored_split_layers(num_layers: int, plan: PlanArrays, split: tuple[Any, ...]) -> tuple[Any, Any]:
    """`mirrored_rank_layers` of each plan's mirrored schedule (ZB-V's, else DualPipe's) from the step time's
    balanced split (`step_time.balanced_split`: after the heaviest stage's three terms, DualPipe's and ZB-V's
    pace-setting rank's layers and end-rank flags and the end bin's extra work in layers,
    `mirrored_stages.mirrored_splits`); ceil(L / p) per copy where the split has none (as before hO44)."""
    if len(split) < 7:
        per = ops_params.stage_layers(num_layers, plan.pp)
        return per, per
    zb_v = plan.schedule == _ZB_V
    return mirrored_rank_layers(num_layers, plan.pp, pick(zb_v, split[5], split[3]), pick(zb_v, split[6], split[4]),
                                zb_v, split[7] if len(split) > 7 else 0.0)


def stage_layer_counts(profile: Stack, pp: Any, heaviest: Any, other: Any, with_embed: Any, with_head: Any,
                       ops: MathOps, capacities: tuple[Any, Any] | None = None) -> tuple[Any, Any, Any]:
    """(first, last, middle): the layers of the first and the last stage where each is not the heaviest (0 where it
    is) and of the middle stage of the most layers, from the heaviest stage's `heaviest` layers, the `other` layers
    on the other stages and whether the heaviest holds the embedding / the LM head (`stage_split.with_stage_split`:
    1 or 0; DualPipe's pairs 1/2), in arrays or one plan's floats (`ops`). The one split of the step time
    (`step_assembly`: the end stages' and the middle stage's own DP exposure, optimizer and bubble) and of the memory
    (`balanced_stage_layers`). Even split: Megatron-Core get_num_layers_to_build, a middle stage's layers less one
    where the embedding / the loss counts as a layer, at most the other stages' layers. Balanced: with an end the
    heaviest, the other end as many as the heaviest (at most the layers left); with a middle stage the heaviest every
    middle stage holds its layers X (Megatron-Core's uneven split, megatron-core 0.16.1
    transformer/transformer_block.py:102-147: the stages between the set first and last split the rest evenly), so
    the ends hold the L - (p - 2) X left, as evenly as whole layers go (Llama 3 405B: 7 and 7 of 126 on 16 stages,
    arXiv:2407.21783 sec. 3.3.2; the odd one on the first, ASSUMPTION: its embedding is the lighter end); hT40,
    session 40. Each end at most its `capacities` (the whole layers it holds beside its table within the pace X,
    `mirrored_stages.end_stage_capacities`; None: X each), the other end the rest of the share; where (p - 2) X > L
    no split gives every middle stage X, and the ends hold their capacities (at most L - X together: the pace-setting
    stage holds X), the middle stages the rest, at most X each: the bisection's capacity test, (p - 2) X + the ends'
    capacities >= L (`stage_split.balanced_heaviest_stage`); ASSUMPTION as for a mirrored schedule's end bin
    (`mirrored_rank_layers`): the most a split that keeps the pace gives the ends, so that they are not understated
    (hO47, session 43: both ends held 0 layers there, llama3-8b deepspeed PP16 1F1B: 14 x 3 = 42 > 32). The middle
    stage: ceil of the layers the ends leave over the p - 2 middle stages (moved here from step_assembly.py, hO42,
    session 42). A fixed cut (`Stack.pipeline_partition`): its ends as `capacities` gives them (hS46, session 44)."""
    even = profile.pipeline_split == "even"
    emb_layer = float(profile.account_for_embedding_in_pipeline_split and even)
    loss_layer = float(profile.account_for_loss_in_pipeline_split and even)
    per = heaviest + with_head * loss_layer + with_embed * emb_layer  # a middle stage's layers
    first_n = (1.0 - with_embed) * ops.minimum(per - emb_layer, other)
    last_n = (1.0 - with_head) * ops.minimum(per - loss_layer, other - first_n)
    if profile.pipeline_partition in FIXED_PARTITIONS and capacities is not None:  # a fixed cut's ends (hS46)
        first_n, last_n = (1.0 - with_embed) * capacities[0], (1.0 - with_head) * capacities[1]
    elif profile.pipeline_split == "balanced":  # the ends beside the pace-setting stage (`stage_split`; hO48)
        first_n, last_n = balanced_end_layers(pp, heaviest, other, with_embed, with_head, capacities, ops,
                                              first_n, last_n)
    middle_n = ops.ceil((other - first_n - last_n) / ops.maximum(pp - 2.0, 1.0))  # the most, no table
    return first_n, last_n, middle_n


def split_capacities(split: tuple[Any, ...]) -> tuple[Any, Any] | None:
    """The end stages' capacities at the pace (`mirrored_stages.end_stage_capacities`), the last two terms of
    `step_time.balanced_split` (after the heaviest stage's three, or those and a mirrored schedule's five: 5 or 10
    terms); None in a split without them (X each, `stage_layer_counts`)."""
    return (split[-2], split[-1]) if len(split) in (5, 10) else None


def balanced_stage_layers(num_layers: int, pp: Any, split: tuple[Any, ...], profile: Stack) -> tuple[Any, ...]:
    """Layers of a middle, the first and the last stage (the order of `ops.params.split_stage_layers`) of the
    balanced split the step time prices (`split`: the heaviest stage's layers and whether it is the first / the
    last, `stage_split.with_stage_split`, and the ends' capacities, `split_capacities`), by `stage_layer_counts`: the
    heaviest's on its own kind, the others' own.
    The middle kind: every middle stage's X where a middle stage is the heaviest, else the middle stage of the most
    layers; none on PP 2 where an end is the heaviest (the layers `stage_layer_counts` leaves over there are the other
    end's: two stages hold them all); one stage (PP 1) all L (hO42, session 42)."""
    heaviest, first_heavy, last_heavy = split[:3]  # (a mirrored schedule's split after them: `mirrored_split_layers`)
    ops = ops_of(pp)
    p = to_float(pp)
    first_n, last_n, middle_n = stage_layer_counts(profile, p, heaviest, num_layers - heaviest, first_heavy,
                                                   last_heavy, ops, split_capacities(split))
    end_heavy = (first_heavy + last_heavy) > 0.0
    two = end_heavy & (p == 2.0)  # (the left-over layers on the other end)
    left = pick(two, middle_n, 0.0)
    first = pick(first_heavy > 0.0, heaviest, first_n + pick(last_heavy > 0.0, left, 0.0))
    last = pick(last_heavy > 0.0, heaviest, last_n + pick(first_heavy > 0.0, left, 0.0))
    middle = pick(end_heavy, pick(p > 2.0, middle_n, 0.0), heaviest)
    single = p <= 1.0
    whole = float(num_layers)
    return pick(single, whole, middle), pick(single, whole, first), pick(single, whole, last)
