"""The pace-setting rank of a pipeline schedule whose ranks hold mirrored stages (DualPipe, ZB-V).

DualPipe's rank i holds stage i of one direction and stage p-1-i of the other, half the micro-batches each way, and
paces on the mean of the pair (`mirrored_pair_stage`, applied per plan by `with_mirrored_pairs` in
`step_time.one_plan_step_time`: the schedule is not a layer key): the embedding, the LM head + loss and the MTP
modules share the end ranks. ZB-V's rank i holds chunks i and 2p-1-i of 2p, every micro-batch through both
(`v_shape_stage`, the same call): rank 0 runs the embedding and the LM head + loss (and MTP) of every micro-batch.
The same split rules as `training.stage_split` (even, balanced: its bisection), per pair of stages; a stack whose
balanced split is a fixed cut (`Stack.pipeline_partition`: DeepSpeed's, which ships no mirrored schedule) pairs the
bisection's stages where a plan names one: ASSUMPTION (hS46); torchtitan's units cut pairs its own 2p stages under
ZB-V (`pipeline_partition.v_paced_rank`, hT47). Vectorised over plans, or one plan's floats operation
for operation. Moved out of training/stage_split.py (hY2, session 38),
unchanged. ZB-V's bubble with rank 0's two end chunks heavier than a plain chunk: `zb_v_end_chunks_s` (hZ3,
session 39; below 2p - 1 micro-batches hZ40, session 40).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import anywhere, larger, pick, smaller, to_float
from infraplan.training.enums import Schedule
from infraplan.training.pipeline_layout import mtp_layer_equivalent, paces
from infraplan.training.pipeline_partition import stage_arrays, v_cut_rank_arrays, v_paced_rank
from infraplan.training.rank_kind_bubbles import where_it_holds
from infraplan.training.schedule_models import ZB_SPLIT
from infraplan.training.stage_split import Array, ArrayLike, as_array, balanced_heaviest_stage, balanced_stage_floats


def mirrored_pair_stage(num_layers: int, pp: ArrayLike, layer_s: ArrayLike, first_extra_s: ArrayLike,
                        last_extra_s: ArrayLike, split: str = "balanced", embedding_is_layer: bool = False,
                        loss_is_layer: bool = False) -> tuple[Array, Array, Array, Array]:
    """The pace-setting rank of a schedule whose rank i holds stage i of the forward direction and stage p-1-i of
    the reverse one, each direction running half the micro-batches (DualPipe: DeepSeek-V3 arXiv:2412.19437
    sec. 3.2.1, Fig. 5; deepseek-ai/DualPipe README, "2x" parameters per rank): its pace per micro-batch is the
    mean of its two stages, max_i (s_i + s_{p-1-i}) / 2, so the embedding (stage 0) and the LM head + loss and MTP
    modules (stage p-1, `last_extra_s`) share the end ranks 0 and p-1.

    "even" (Megatron-Core's split, `_even_heaviest_stage`): the end pair's (first + last layers) / 2 and the
    extras' halves against a middle pair's ceil(L' / p) layers (ties: the end pair). "balanced" (the whole-layer
    split a user balances): the same bisection (`balanced_heaviest_stage`) over the p / 2 pairs, the end pair
    carrying e + h, at half its time per micro-batch. Returns (seconds per micro-batch, decoder layers per
    micro-batch, the share of its micro-batches running the LM head + loss, the share running the embedding):
    1/2 each on the end pair, 0 on a middle one. Arrays over plans, or one plan's floats (operation for
    operation the same) where every input is a float; p < 2 has no pair (one stage: everything).
    """
    if all(type(x) is float for x in (pp, layer_s, first_extra_s, last_extra_s)):  # one plan
        one = _mirrored_pair_floats(num_layers, float(pp), float(layer_s), float(first_extra_s), float(last_extra_s),
                                    split, embedding_is_layer, loss_is_layer)
        return one  # type: ignore[return-value]
    p, t, e, h = stage_arrays(pp, layer_s, first_extra_s, last_extra_s)
    single = p < 2.0
    if split == "even":
        emb, loss = float(embedding_is_layer), float(loss_is_layer)
        per = np.ceil((num_layers + emb + loss) / np.maximum(p, 1.0))
        end_layers = (per - emb + per - loss) / 2.0
        end = end_layers * t + (e + h) / 2.0
        middle = np.where(p > 2.0, per * t, 0.0)
        is_end = end >= middle
        seconds, layers = np.where(is_end, end, middle), np.where(is_end, end_layers, per)
    else:  # p / 2 bins of whole layers, the end pair's holding the embedding and the head (`first` below)
        pair_s, pair_layers, _, is_end = balanced_heaviest_stage(num_layers, np.maximum(p / 2.0, 1.0), t, e + h,
                                                                  np.zeros_like(t))
        seconds, layers = pair_s / 2.0, pair_layers / 2.0
    share = np.where(is_end, 0.5, 0.0)
    return (np.asarray(np.where(single, num_layers * t + e + h, seconds), dtype=np.float64),
            np.asarray(np.where(single, float(num_layers), layers), dtype=np.float64),
            np.asarray(np.where(single, 1.0, share), dtype=np.float64),
            np.asarray(np.where(single, 1.0, share), dtype=np.float64))



def _mirrored_pair_floats(num_layers: int, p: float, t: float, e: float, h: float, split: str,
                          embedding_is_layer: bool, loss_is_layer: bool) -> tuple[float, float, float, float]:
    """`mirrored_pair_stage` of one plan, operation for operation on floats (IEEE doubles: the same results)."""
    if p < 2.0:
        return num_layers * t + e + h, float(num_layers), 1.0, 1.0
    if split == "even":
        emb, loss = float(embedding_is_layer), float(loss_is_layer)
        per = float(math.ceil((num_layers + emb + loss) / (p if p > 1.0 else 1.0)))
        end_layers = (per - emb + per - loss) / 2.0
        end = end_layers * t + (e + h) / 2.0
        middle = per * t if p > 2.0 else 0.0
        is_end = end >= middle
        seconds, layers = (end, end_layers) if is_end else (middle, per)
    else:
        pair_s, pair_layers, _, is_end = balanced_stage_floats(num_layers, p / 2.0 if p / 2.0 > 1.0 else 1.0,
                                                                t if t > 1e-30 else 1e-30, e + h, 0.0)
        seconds, layers = pair_s / 2.0, pair_layers / 2.0
    share = 0.5 if is_end else 0.0
    return seconds, layers, share, share



def v_shape_stage(num_layers: int, pp: ArrayLike, layer_s: ArrayLike, first_extra_s: ArrayLike,
                  last_extra_s: ArrayLike, split: str = "balanced", embedding_is_layer: bool = False,
                  loss_is_layer: bool = False) -> tuple[Array, Array, Array, Array]:
    """The pace-setting rank of ZB-V: the model is cut into 2p chunks and rank i holds chunks i and 2p-1-i
    (Qi et al., arXiv:2401.10241 sec. 6; torch 2.13.0 torch/distributed/pipelining/_utils.py:528-543,
    `generate_stage_to_rank_mapping(style="v")`, which ScheduleZBVZeroBubble uses, schedules.py:3427-3428), so rank
    0 holds the embedding (chunk 0) and the LM head + loss and MTP modules (chunk 2p-1), and every micro-batch runs
    both chunks of every rank. Those are `mirrored_pair_stage`'s pairs of the 2p chunks, each run by every
    micro-batch instead of half of them: twice its pace, layers and shares (1 for both ends on rank 0, 0 on the
    others). "even": chunks of ceil(L' / 2p) layers, the end chunks one short where the embedding / loss count
    as a layer; "balanced": the bisection over p ranks of whole layers, rank 0 carrying e + h. Returns
    (seconds per micro-batch, decoder layers, share of micro-batches running the LM head + loss on it, share
    running the embedding). Arrays over plans, or one plan's floats where every input is a float (the same bits:
    x 2 is exact)."""
    if all(type(x) is float for x in (pp, layer_s, first_extra_s, last_extra_s)):  # one plan
        s, layers, head, embed = _mirrored_pair_floats(num_layers, 2.0 * float(pp), float(layer_s),
                                                       float(first_extra_s), float(last_extra_s), split,
                                                       embedding_is_layer, loss_is_layer)
        return 2.0 * s, 2.0 * layers, 2.0 * head, 2.0 * embed  # type: ignore[return-value]
    pace = mirrored_pair_stage(num_layers, 2.0 * as_array(pp), layer_s, first_extra_s, last_extra_s, split,
                               embedding_is_layer, loss_is_layer)
    return 2.0 * pace[0], 2.0 * pace[1], 2.0 * pace[2], 2.0 * pace[3]



def with_mirrored_pairs(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: Any,
                        paired: Any, v_shaped: Any = False) -> dict[str, Any]:
    """`times` (of `with_stage_split`) with the pace-setting rank of `mirrored_pair_stage` on the plans `paired`
    (a bool array over plans, or one plan's bool: those whose schedule holds mirrored stage pairs, DualPipe):
    its mean decoder layers per micro-batch (`stage_layers`), its shares of micro-batches running the LM head +
    loss (`last_is_heaviest`) and the embedding (`first_is_heaviest`), 1/2 on the end pair, its MTP modules (the
    head's share of them, `mtp_stage`) and the rest on the other ranks (`other_layers`, `mtp_other`): their sum
    over the ranks is each stage's work once, as `schedules`' bubble reads it. On the plans `v_shaped` (ZB-V) the
    rank of `v_shape_stage` in the same terms (its two chunks' layers, shares 1 on rank 0). Other plans keep the
    split's terms. Arrays over plans or one plan's floats (`pp` a float; its terms floats, or one-element arrays
    where block recompute mixed two rows)."""
    one = type(pp) is float
    if not ((bool(paired) or bool(v_shaped)) if one else (bool(np.any(paired)) or bool(np.any(v_shaped)))):
        return times
    layer, head, embed = paces(times)
    mtp = float(stack.mtp_num_layers)  # MTP modules after the LM head, on the last stage (`pipeline_layout`)
    last = head + mtp * (mtp_layer_equivalent(shape) * layer + head + embed) if mtp else head
    if one:
        layer, embed, last = (float(np.ravel(x)[0]) for x in (layer, embed, last))
    out = dict(times)
    for rule, which in ((mirrored_pair_stage, paired), (v_shape_stage, v_shaped)):
        if not (bool(which) if one else bool(np.any(which))):
            continue
        if rule is v_shape_stage and stack.pipeline_split == "balanced" and stack.pipeline_partition == "units":
            # torchtitan's own V pairs of its units cut (`pipeline_partition.v_paced_rank`; hT47)
            _, layers, head_share, embed_share = v_paced_rank(
                shape.num_layers, pp, times, mtp, mtp_layer_equivalent(shape) if mtp else 0.0)
            if one:
                layers, head_share, embed_share = (float(np.ravel(x)[0]) for x in (layers, head_share, embed_share))
        else:
            _, layers, head_share, embed_share = rule(
                shape.num_layers, pp, layer, embed, last, stack.pipeline_split,
                stack.account_for_embedding_in_pipeline_split, stack.account_for_loss_in_pipeline_split)
        terms = {"stage_layers": layers, "last_is_heaviest": head_share, "first_is_heaviest": embed_share,
                 "other_layers": shape.num_layers - layers, "mtp_stage": mtp * head_share}
        terms["mtp_other"] = mtp - terms["mtp_stage"]
        for k, v in terms.items():
            out[k] = v if one else np.where(which, v, out[k])
    return out


def mirrored_splits(shape: TransformerShape, stack: Stack, times: dict[str, Any], pp: Any) -> tuple[Any, ...]:
    """`with_mirrored_pairs`' split of every plan under DualPipe and under ZB-V: (DualPipe's pace-setting rank's
    `stage_layers`, its `first_is_heaviest` share, ZB-V's the same, the end bin's extra work in layers:
    `end_extra_layers`), the split the step time prices those schedules
    on, for the memory's and the optimizer's ranks (`step_time.balanced_split`, `stage_params.mirrored_rank_layers`;
    hO44, session 43). Arrays over plans or one plan's floats, as `with_mirrored_pairs`. torchtitan's units cut under
    ZB-V: its rank 0 (`pipeline_partition.v_cut_ranks`, share 1) whichever rank paces, so that the memory's end rank
    holds its own layers and a middle rank ceil((L - end) / (p - 1)), the cut's most (its middle ranks differ by at
    most one layer); the pace-setting rank's X with the end bin the L - (p - 1) X left put llama3-70b PP8's rank 0 at
    3 layers for its 9 (hT47)."""
    dual = with_mirrored_pairs(shape, stack, times, pp, True, False)
    v_shaped = with_mirrored_pairs(shape, stack, times, pp, False, True)
    zb_v_layers, zb_v_end = v_shaped["stage_layers"], v_shaped["first_is_heaviest"]
    if stack.pipeline_split == "balanced" and stack.pipeline_partition == "units":
        zb_v_layers = v_cut_rank_arrays(shape.num_layers, pp)[0]
        zb_v_end = 1.0 if type(pp) is float else np.ones_like(zb_v_layers)
    return (dual["stage_layers"], dual["first_is_heaviest"], zb_v_layers, zb_v_end,
            end_extra_layers(times, type(pp) is float))


def end_extra_layers(times: dict[str, Any], one: bool) -> Any:
    """Layers of time the end bin's embedding, LM head + loss and MTP modules take per micro-batch, (e + h) / t of
    `mirrored_pair_stage`'s balanced bisection (its end bin's extra work over a layer's pace, `paces`), from which
    `stage_params.mirrored_rank_layers` reads the end rank's layers at the pace (hO46, session 43). `times` of
    `with_stage_split` (or the step's, after `with_mirrored_pairs`: the paces and MTP terms are the same); `one`: one
    plan's float."""
    layer, embed, last = _end_paces(times)
    extra = (embed + last) / np.maximum(layer, 1e-30)
    return float(np.ravel(extra)[0]) if one else extra


def _end_paces(times: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(a layer's, the first stage's embedding's, the last stage's LM head + loss and MTP modules') pace per
    micro-batch, as `stage_split.with_stage_split` balances on (`paces`)."""
    layer, head, embed = paces(times)
    mtp = times["mtp_stage"] + times["mtp_other"]
    last = head + mtp * (times["mtp_layer_equivalent"] * layer + head + embed) if anywhere(mtp) else head
    return layer, embed, last


def end_stage_capacities(times: dict[str, Any], heaviest: Any, one: bool) -> tuple[Any, Any]:
    """Whole layers the first stage holds beside its embedding and the last beside its LM head + loss (and MTP
    modules) within the pace of the heaviest stage, `heaviest` layers and, where it is an end stage (`times`'
    `first_is_heaviest` / `last_is_heaviest` 1), its table: T = X t (+ e or h), floor(max(T - e, 0) / t + 1e-9), the
    capacity test of the step time's balanced bisection (`stage_split.balanced_heaviest_stage`), from which
    `stage_params.stage_layer_counts` reads the 1F1B / interleaved split's ends where its middle stages cannot all
    hold X (hO47, session 43) and the other end where one end is the heaviest (hO48, session 44: X t alone put the
    pace one table short, the other end below what it holds). A fixed cut (`Stack.pipeline_partition`, `times`'
    `partition_first_layers` / `partition_last_layers`: `stage_split.with_stage_split`): the layers its ends hold,
    whole (hS46, session 44). `times` of `with_stage_split` or the step's; `one`: one plan's floats."""
    if "partition_first_layers" in times:  # (rounded: block recompute's mix of two rows may leave 1e-16)
        held = np.rint(times["partition_first_layers"]), np.rint(times["partition_last_layers"])
        return (float(np.ravel(held[0])[0]), float(np.ravel(held[1])[0])) if one else held
    layer, embed, last = _end_paces(times)
    t = np.maximum(layer, 1e-30)
    total = (heaviest * t + np.where(times["first_is_heaviest"] == 1.0, embed, 0.0)
             + np.where(times["last_is_heaviest"] == 1.0, last, 0.0))
    first = np.floor(np.maximum(total - embed, 0.0) / t + 1e-9)
    last = np.floor(np.maximum(total - last, 0.0) / t + 1e-9)
    return (float(np.ravel(first)[0]), float(np.ravel(last)[0])) if one else (first, last)


def zb_v_end_chunks_s(schedule: Any, pp: ArrayLike, micro_batches: ArrayLike, stage_s: ArrayLike,
                      others_s: ArrayLike, first_excess_s: ArrayLike) -> Array:
    """Seconds per step to add to ZB-V's `pipeline_bubble` (o = `others_s`, the other ranks' seconds per
    micro-batch, each rank two plain chunks of c = o / (2 (p - 1))) where rank 0 (`stage_s` per micro-batch, the
    heaviest) holds chunk 0 (the embedding), c + x, and chunk 2p - 1 (the LM head + loss and the MTP modules),
    c + y: x = `first_excess_s` >= 0, y = `stage_s` - 2c - x >= 0; 0 where either is negative (x < 0: the
    caller's mark, not this case), for other schedules and where `ZB_SPLIT`'s shares are not equal.

    torch's ScheduleZBVZeroBubble (torch 2.14.1 torch/distributed/pipelining/schedules.py:3457-3648, its order of
    F, I (input gradient) and W (weight gradient) per chunk; the transcription in
    tests/training/test_zbv_kinds_hZ3.py), each pass a third of its chunk (F = I = W, the model's `ZB_SPLIT`): the
    longest path through its DAG over the three chunk kinds has, from 2p - 1 micro-batches on, three shapes (the
    vertices of the paths' pass counts by linear programming in the cone x, y >= 0, p 2-5, m 2p - 1..4p): rank 0's
    run alone (no bubble), the fill A = (p - 1) c - (3m - 2p + 1) x - (3m - 3p + 4) y (the model's (p - 1) c / 3
    at x = y = 0: every other rank's pass waits on rank 0's heavier ones) and B = (p - 2) c - 2p x - y (one plain
    pass fewer, rank 0's chunk-0 passes of the warm-up and one of the head's), so the bubble is
    max(0, A, B) / 3: exact with fractions on every list-scheduled case tried (p 2-16, m 2p - 1..4p, random c, x,
    y >= 0). The model's o / 6 is over wherever x + y > 0 (e.g. p 4, y = c / 2: 1.5 c / 3 for 3 c / 3). Below 2p -
    1 micro-batches (torch's order for 2p - 1 with the missing micro-batches' slots idle) the closed form of
    `_zb_v_ramp_passes` less the model's ramp (hZ40, session 40). Arrays over plans (computed only where it
    applies), or one plan's floats (the same bits)."""
    f, b, w = ZB_SPLIT
    m, p, x = to_float(micro_batches), to_float(pp), to_float(first_excess_s)
    holds = (schedule == int(Schedule.ZB_V)) & (m >= 1.0) & (x >= 0.0) & (f == b == w)
    return where_it_holds(holds, (p, m, stage_s, others_s, x), _zb_v_end_chunks)


def _zb_v_end_chunks(p: Any, m: Any, th: Any, o: Any, x: Any) -> Any:
    """`zb_v_end_chunks_s` of plans it applies to (floats or arrays of one shape); 0 where y < 0."""
    f, b, w = ZB_SPLIT
    c = o / (2.0 * larger(p - 1.0, 1.0))
    y = th - 2.0 * c - x  # (rounding of a plan with y = 0 kept: 1e-9 of a chunk)
    inside, y = y >= -1e-9 * c, larger(y, 0.0)
    steady = o * max(f, f + b - 2.0 * w) / 2.0  # the model's steady bubble (`_zb_v_bubble`)
    if type(m) is float and m < 2.0 * p - 1.0:  # one plan on the ramp
        return pick(inside, f * _zb_v_ramp_passes(p, m, c, x, y) - larger(_model_ramp(p, m, o), steady), 0.0)
    fill = (p - 1.0) * c - (3.0 * m - 2.0 * p + 1.0) * x - (3.0 * m - 3.0 * p + 4.0) * y
    warm = (p - 2.0) * c - 2.0 * p * x - y
    full = f * larger(larger(fill, warm), 0.0) - steady  # less the model's (from 2p - 1 micro-batches)
    ramp = m < 2.0 * p - 1.0
    if type(m) is not float and bool(np.any(ramp)):  # plans on the ramp among them
        below = f * _zb_v_ramp_passes(p, m, c, x, y) - larger(_model_ramp(p, m, o), steady)
        full = np.where(ramp, below, full)
    return pick(inside, full, 0.0)


def _model_ramp(p: Any, m: Any, o: Any) -> Any:
    """The model's ramp below 2p - 1 micro-batches (`schedule_models._zb_v_bubble`'s, operation for operation)."""
    f, b, w = ZB_SPLIT
    return o * (f + b - w * (m - 1.0) / larger(p - 1.0, 1.0))


def _zb_v_ramp_passes(p: Any, m: Any, c: Any, x: Any, y: Any) -> Any:
    """ZB-V's bubble in passes (a third of a chunk, `ZB_SPLIT`'s equal shares) below 2p - 1 micro-batches
    (1 <= m <= 2p - 2), rank 0's chunks c + x (chunk 0) and c + y (chunk 2p - 1), the others c, x, y >= 0: the
    longest path through torch 2.14.1's ScheduleZBVZeroBubble order (schedules.py:3526-3648, n_micro = max(2p - 1,
    m), the slots of micro-batches >= m idle) less rank 0's 6m passes. Every path is a count of passes per chunk
    kind; the upper envelope of those counts' linear forms over the cone x, y >= 0 (pareto-pruned by path, hull
    vertices by linear programming, p 2-16, every m 1..2p - 2; hZ40, session 40) is the max of 0 and seven forms,
    with q = min(m, p), e = 1 for an even m (0 odd): the fill A = (4p - 2 - 2m) c - (2q - 2 + e) x - (3q - 2) y
    (the model's ramp at x = y = 0), B = (4p - 1 - 3m - e) c - y, C = (2p - 1 - m - e) c, D = (4p - 1 - 3m) c - x
    - y, E = (2p - 1 - m) c - x (below p micro-batches the last rank's warm-up), F = (p - 1) c - (2m + e) x - (3p +
    1) y (the steady fill, m > 3p / 2 - 1) and G = (m - p - 1) c - (2p + e) x - y. Exact (fractions) against the
    list schedule; tests/training/test_zbv_ramp_hZ40.py. Floats or arrays of one shape."""
    q, e = smaller(m, p), 1.0 - m % 2.0
    forms = ((4.0 * p - 2.0 - 2.0 * m) * c - (2.0 * q - 2.0 + e) * x - (3.0 * q - 2.0) * y,
             (4.0 * p - 1.0 - 3.0 * m - e) * c - y,
             (2.0 * p - 1.0 - m - e) * c,
             (4.0 * p - 1.0 - 3.0 * m) * c - x - y,
             (2.0 * p - 1.0 - m) * c - x,
             (p - 1.0) * c - (2.0 * m + e) * x - (3.0 * p + 1.0) * y,
             (m - p - 1.0) * c - (2.0 * p + e) * x - y)
    most = 0.0 * c
    for form in forms:
        most = larger(most, form)
    return most
