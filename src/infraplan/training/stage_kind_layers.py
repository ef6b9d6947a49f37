"""The layers of each pipeline stage kind (first, middle, last) under the stack's split, one implementation for
the step time (`training.step_assembly`: the end stages' and the middle stage's own DP exposure, optimizer and
bubble) and the memory per GPU (`training.memory`, `training.stage_params`).

`stage_layer_counts` (moved from step_assembly.py, hO42): Megatron-Core's `get_num_layers_to_build` on the even
split (megatron-core 0.16.1 transformer/transformer_block.py:102-147), the balanced split's ends beside the
pace-setting stage (`stage_split.balanced_end_layers`) or a fixed cut's (`Stack.pipeline_partition`);
`balanced_stage_layers`, each stage kind's of the balanced split (hO42, session 42); a mirrored schedule's end and
middle ranks on the same balanced split (`mirrored_rank_layers`: DualPipe, DeepSeek-V3 arXiv:2412.19437 sec. 3.2.1;
ZB-V, Qi et al. arXiv:2401.10241 sec. 6; hO44, session 43). Moved out of `stage_params` unchanged (hO, session 60).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.stacks import Stack
from infraplan.ops import params as ops_params
from infraplan.scalar_path import MathOps, larger, ops_of, pick, smaller, to_float
from infraplan.training.enums import Schedule
from infraplan.training.pipeline_partition import FIXED_PARTITIONS
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_split import balanced_end_layers

_ZB_V = int(Schedule.ZB_V)  # (its code as an int: the mirrored schedule of one copy, `mirrored_split_layers`)


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
