"""The exact pipeline bubbles of torch's and Megatron's orders on the rank and chunk kinds of the even split.

`step_assembly.assemble_step` prices a plan's bubble with its schedule's model (`schedules.pipeline_bubble`: the
heaviest stage and the other stages' time); on the even split, where the end ranks or chunks differ from a middle
one, the exact bubble of the order as it runs on those kinds is added here, each term from its own module and
session: the interleaved first chunk's excess (`rank_kind_bubbles.interleaved_first_chunk_s`; hZ2), ZB-V with rank 0
the heaviest (`mirrored_stages.zb_v_end_chunks_s`; hZ3, hZ40), interleaved below p micro-batches with the last rank
the heaviest (`interleaved_last_heaviest_few_s`; hB5), 1F1B / ZB-H1 on three rank kinds (`three_rank_kinds_s`; hB,
hB3), interleaved with a middle or the first rank the heaviest (`interleaved_middle_heaviest_s`,
`interleaved_first_heaviest_s`; hB2, hB4). Moved out of `step_assembly` unchanged (session 40), the terms added in
the same order, so every bubble keeps its bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.scalar_path import MathOps, anywhere, is_plain
from infraplan.training.enums import Schedule
from infraplan.training.mirrored_stages import zb_v_end_chunks_s
from infraplan.training.plan import PlanArrays
from infraplan.training.rank_kind_bubbles import (
    interleaved_first_chunk_s,
    interleaved_first_heaviest_s,
    interleaved_last_heaviest_few_s,
    interleaved_middle_heaviest_s,
    three_rank_kinds_s,
)

_INTERLEAVED = int(Schedule.INTERLEAVED)
_ZB_V = int(Schedule.ZB_V)
_ZB_H1 = int(Schedule.ZB_H1)


def even_split_exact_bubble(bubble: Any, plan: PlanArrays, profile: Stack, lt: dict[str, Any], ops: MathOps,
                            pp: Any, m: Any, stage_total: Any, others: Any, layers: Any, with_head: Any,
                            with_embed: Any, layer_s: Any, embed_s: Any, mid_fwd: Any, mid_bwd: Any,
                            gpu_fwd: Any, gpu_bwd: Any, first_n: Any, first_end_s: Any, first_end_share: Any,
                            last_end_s: Any) -> Any:
    """`bubble` (the schedule model's, `schedules.pipeline_bubble`) with the exact terms of the even split's rank
    and chunk kinds added (module docstring): the heaviest stage's `stage_total`, the other stages' `others`, a
    middle stage's pace per layer `layer_s` and its GPU forward / backward `mid_fwd` / `mid_bwd`, the heaviest's
    GPU forward / backward, the first end stage's layers, seconds and forward share, the last's seconds."""
    # interleaved, the heaviest rank the last: the first chunk's excess over a plain chunk runs a round of forwards
    # before and of backwards after it (`schedules.interleaved_first_chunk_s`; known on the even split: the embedding,
    # less a layer where it counts as one; hZ2)
    counted = float(profile.account_for_embedding_in_pipeline_split)
    # (the first stage's total less a plain stage's layers: its embedding's work and exposed host time)
    excess = with_head * (1.0 - with_embed) * (first_end_s - (first_n + counted) * layer_s)
    bubble = bubble + interleaved_first_chunk_s(plan.schedule, pp, plan.vpp, m, excess)
    # ZB-V, rank 0 (chunks 0 and 2p - 1: the embedding, the LM head + loss) the heaviest, both its chunks at least
    # a plain one, on whole chunks (L' = 2p per): the exact bubble of torch's order (`zb_v_end_chunks_s`; hZ3,
    # session 39), x the embedding's seconds less a counted layer (y: the rest of rank 0's excess over 2 chunks)
    zb_v = plan.schedule == _ZB_V
    if anywhere(zb_v):  # (rank 0's shares 1: the heaviest; L' = 2p per: rank 0's 2 per less the counted ends)
        end_layers = counted + float(profile.account_for_loss_in_pipeline_split)
        at = zb_v & (with_embed == 1.0) & (lt["stage_layers"] + lt["other_layers"] + end_layers
                                           == pp * (lt["stage_layers"] + end_layers))
        if anywhere(at):  # (405B's 126 layers: never; nothing computed)
            bubble = bubble + zb_v_end_chunks_s(
                plan.schedule, pp, m, stage_total, others, ops.where(at, embed_s - counted * layer_s, -1.0))
    # below p micro-batches (torch's one round of m), the last rank the heaviest on whole ranks and chunks (L' =
    # p per, per a multiple of v) with no MTP module elsewhere: the exact bubble of the order on the chunk kinds
    # (`interleaved_last_heaviest_few_s`; hB5, session 38), the first chunk's passes at a layer's share
    # (Megatron's rule refuses interleaving below p: only a stack on torch's rules runs it)
    few = profile.pipeline_micro_batch_rules == "torch" and anywhere(plan.schedule == _INTERLEAVED)
    few = few and (with_head == 1.0) & (m < pp)
    if anywhere(few):
        loss = float(profile.account_for_loss_in_pipeline_split)
        per = lt["stage_layers"] + loss  # a plain rank's layers
        whole = (per % plan.vpp == 0.0) & (lt["stage_layers"] + lt["other_layers"] + counted + loss == pp * per)
        plain = ops.where(few & whole & (lt["mtp_other"] == 0.0), per * layer_s, -1.0)
        bubble = bubble + interleaved_last_heaviest_few_s(
            plan.schedule, pp, plan.vpp, m, stage_total, others, plain,
            plain * mid_fwd / ops.maximum(mid_fwd + mid_bwd, 1e-30), excess)
    # 1F1B / ZB-H1, the first or a middle rank the heaviest: the exact bubble of torch's order on the three rank
    # kinds (`three_rank_kinds_s`; hB, session 36; the last the heaviest: o is exact, hZ2). The even split's middle
    # ranks hold per layers (the first's + 1 where the embedding counts), rank 0 those less the counted embedding,
    # with the embedding, the last those less the counted loss, with the LM head (+ loss) and the MTP modules; the
    # heaviest kind is the stage priced. A rank's forward is its GPU forward's share of its time (its exposed host
    # time split as its GPU work; the other kinds at a layer's share: an assumption, no source). Below p
    # micro-batches ZB-H1's order is not the model's with the last rank the heaviest either: its kinds too (hB3)
    model_exact, zb_few = with_head > 0.0, anywhere((plan.schedule == _ZB_H1) & (m < pp))
    if zb_few:  # (else in its shape: no schedule axis)
        model_exact = model_exact & ((plan.schedule != _ZB_H1) | (m >= pp))
    # (with_head 1 or 0 off DualPipe, 1/2 on it; the model exact everywhere: nothing to add)
    if not (model_exact if is_plain(model_exact) else np.all(model_exact)):
        emb = float(profile.account_for_embedding_in_pipeline_split)
        loss = float(profile.account_for_loss_in_pipeline_split)
        per = layers + with_embed * emb
        last_s = last_end_s  # (the end stages that are not the heaviest: priced as it is, see `others`)
        middle_heavy = (with_embed + with_head) == 0.0
        # a middle rank the heaviest on a split of whole ranks only (L' a multiple of p, as Megatron requires):
        # otherwise the middle ranks are not equal and the model's o stays
        uneven = lt["stage_layers"] + lt["other_layers"] + emb + loss != pp * per
        last_s = ops.where(with_head > 0.0, stage_total, last_s) if zb_few else last_s  # (its kind: the stage)
        last_s = ops.where(model_exact | (middle_heavy & uneven), -1.0, last_s)
        heavy_share = gpu_fwd / ops.maximum(gpu_fwd + gpu_bwd, 1e-30)
        layer_share = mid_fwd / ops.maximum(mid_fwd + mid_bwd, 1e-30)
        first_s = ops.where(with_embed > 0.0, stage_total, first_end_s)
        first_fwd = first_s * ops.where(with_embed > 0.0, heavy_share, first_end_share)
        middle_s = ops.where(pp > 2.0, ops.where(middle_heavy, stage_total, per * layer_s), 0.0)
        middle_fwd = middle_s * ops.where(middle_heavy, heavy_share, layer_share)
        bubble = bubble + three_rank_kinds_s(plan.schedule, pp, m, stage_total, others, first_s, first_fwd, middle_s,
                                             middle_fwd, last_s)
        # interleaved, a middle rank the heaviest (both ends lighter than its chunks): the exact bubble of torch's /
        # Megatron's order on the chunk kinds (`interleaved_middle_heaviest_s`; hB2, session 36), on whole chunks
        # (L' a multiple of p v, as Megatron requires; otherwise the model's o / v stays)
        if anywhere(middle_heavy):
            whole = ops.where(middle_heavy & (per % plan.vpp == 0.0), last_s, -1.0)
            bubble = bubble + interleaved_middle_heaviest_s(
                plan.schedule, pp, plan.vpp, m, stage_total, others, first_s, middle_fwd, whole)
        # interleaved, rank 0 the heaviest (its first chunk heavier than a plain one in both passes, the last chunk
        # lighter or heavier): the exact bubble of the order on the chunk kinds (`interleaved_first_heaviest_s`;
        # hB4, session 37), on whole chunks of an even split (L' = p per, per a multiple of v; else o / v stays)
        first_heavy = (with_embed > 0.0) & (with_head == 0.0)
        if anywhere(first_heavy):
            plain = per * layer_s
            whole = ops.where(first_heavy & (per % plan.vpp == 0.0), ops.where(uneven, -1.0, last_s), -1.0)
            bubble = bubble + interleaved_first_heaviest_s(
                plan.schedule, pp, plan.vpp, m, stage_total, others, first_fwd, plain, plain * layer_share, whole)
    return bubble
