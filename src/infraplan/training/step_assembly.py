"""A training step assembled from its per-layer terms and its pipeline and data-parallel traffic.

`step_time` prices a layer's components (`training.layer_time`, `training.expert_dispatch`), splits the layers
into pipeline stages and prices the p2p and DP collectives; here they become one step, element-wise in arrays over
plans (`scalar_path.NUMPY_OPS`) or in the Python floats of one plan (`scalar_path.FLOAT_OPS`):
* the heaviest stage's micro-batch work: its layers, plus the embedding where it is the first stage and the LM
  head + loss where it is the last (Megatron-Core builds the embedding on the first pipeline stage and the
  output layer + loss on the last, `GPTModel(pre_process, post_process)`; DualPipe's heaviest rank: the mean of
  its mirrored pair of stages, `mirrored_stages.mirrored_pair_stage`), with the host issue time no queued GPU
  work covers (`training.host_time`; its own component `host_exposed`, by phase `host_time.stage_host_phases`);
  under DualPipe or Megatron's combined 1F1B each layer's EP all-to-all runs beside the paired chunk
  (`expert_dispatch.with_ep_comm`), the latter with its unpaired warm-up / cool-down passes and its pipeline
  transfers on the all-to-all's NICs (`training.combined_1f1b`);
* the pipeline bubble of the schedule on the other stages' time (`training.schedules`, Narayanan et al. SC'21):
  each stage's layers, the first's embedding and the last's head + loss (an end stage priced as the heaviest is,
  `stage_seconds`, with its exposed host time); the p2p chain of one micro-batch
  through every model chunk (every micro-batch's send / recv calls where the stack blocks on them,
  `pipeline_p2p_time`), and with tied embeddings the word-embedding gradient all-reduce between the first
  and last stage once per step (`step_traffic.tied_embedding_sync`, in `pp_comm`);
* the DP gradient reduction and parameter gathers by ZeRO stage, hidden behind the layers' share of a micro-batch's
  forward / backward wall time (`dp_exposure.dp_windows`, `Stack.dp_overlap_fraction`), and the exposed rest: the
  most of the heaviest stage's and each end stage's on its own windows (`dp_exposure.end_stage_dp_forms`; a
  DualPipe / ZB-V rank's on the two stages it holds, `mirrored_dp`), and the SMs the hidden collectives hold
  (`training.dp_overlap_sms`, built and off); a stack that re-gathers and reduce-scatters ZeRO-3's layers on
  every micro-batch (`Stack.zero3_collectives_per_micro_batch`: torchtitan, DeepSpeed, Megatron-FSDP) exposes m
  times that without a pipeline (hM, session 52), and with one where the pipelined schedules run the same hooks
  (`Stack.zero3_pipeline_collectives_per_micro_batch`: Megatron-FSDP, hI52; else once a step; `fsdp2_copies`; with
  FSDP2's regathers under torch's pipelining, m + 1 gathers a step: `fsdp2_regathers`, hT70); a stack
  whose ZeRO-2 reduce-scatters every micro-batch (`Stack.zero2_grad_reduce_per_micro_batch`: Megatron-FSDP
  optim_grads) adds m - 1 more of the heaviest stage's exposed reduce-scatters on its backward window (hN, session
  53; ASSUMPTION at PP > 1: the end stages' own reduce-scatters are priced once, as the step's, not m times);
  ZeRO-3's first gather and last reduce-scatter, which no compute hides, are exposed at least (`zero3_edges`, hS53);
* the optimizer: Adam is memory-bound, `optimizer_step.ADAM_BYTES_PER_PARAM` per parameter, and its launches are
  exposed, on the stage that steps the most parameters of those the DP exposure is priced on (`optimizer_step`);
  its launches' exposed host time and a blocking pipeline's p2p host calls join the host row (`host_row`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from infraplan.catalog.stacks import Stack
from infraplan.hardware.kernels import KernelRates
from infraplan.scalar_path import FLOAT_OPS, MathOps, anywhere, is_plain, negate
from infraplan.training import dp_overlap_sms, fsdp2_regathers, zero3_edges
from infraplan.training.combined_1f1b import combined_1f1b_plans, combined_1f1b_schedule_s, megatron_schedule
from infraplan.training.cuda_graph_rule import optimizer_graphed
from infraplan.training.dp_exposure import dp_forms as exposed_dp_forms
from infraplan.training.dp_exposure import dp_windows, end_stage_dp_forms
from infraplan.training.enums import Schedule
from infraplan.training.exact_bubbles import even_split_exact_bubble
from infraplan.training.fsdp2_copies import fsdp2_step_copies
from infraplan.training.host_row import moved_phases, with_host_row
from infraplan.training.host_time import (
    host_exposed_floats,
    host_exposed_time,
    micro_batch_host_time,
    stage_host_phases,
)
from infraplan.training.mirrored_dp import mirrored_dp_forms
from infraplan.training.mirrored_stages import end_extra_layers, end_stage_capacities
from infraplan.training.optimizer_step import optimizer_seconds, stepped_params
from infraplan.training.pipeline_hops import blocking_p2p_host_s, pipeline_p2p_time
from infraplan.training.plan import PlanArrays
from infraplan.training.schedules import PIPELINE_SCHEDULES, pipeline_bubble
from infraplan.training.stage_params import stage_layer_counts
from infraplan.training.stage_seconds import stage_seconds, stage_work
from infraplan.training.step_traffic import EndStageTraffic

_DUALPIPE = int(Schedule.DUALPIPE)  # its code as an int (compared once per estimate; issue 18)
_ZB_V = int(Schedule.ZB_V)
# the step-time components, in the order they are summed into `step_time_s` (`host_exposed` comes out of `other`
# after the sum, `with_host_row`: the step's bits are those of the sum without it)
PRICED_COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "pp_bubble", "pp_comm", "dp_comm_exposed",
                     "optimizer", "other")
COMPONENTS = (*PRICED_COMPONENTS, "host_exposed")


def assemble_step(plan: PlanArrays, lt: dict[str, Any], traffic: dict[str, Any], profile: Stack, dispatch_s: float,
                  rates: KernelRates, ops: MathOps, stage_only: bool, ends: EndStageTraffic | None = None,
                  breakdown: bool = True, host_moved: bool = True) -> dict[str, Any]:
    """`step_time` from the per-layer terms `lt` and the `traffic` of `step_traffic.pipeline_and_dp_traffic`,
    element-wise in arrays over plans (NUMPY_OPS) or in the Python floats of one plan (FLOAT_OPS,
    `PlanArrays.one_row`). `stage_only`: the heaviest stage's micro-batch work alone (`search_bounds`' floor).
    `breakdown` False: `PRICED_COMPONENTS` and the step, without the host row and its phases (a search's grid reads
    the step alone; the same bits). `host_moved` False: the optimizer's and the blocking p2p calls' host time stay
    in `optimizer` / `pp_comm` (an evaluation's forward passes, `forward_pass`: no optimizer, half the p2p chain).
    `ends`: the end stages' own DP traffic (`step_traffic.EndStageTraffic`; needed where an end stage holds other
    parameters than the traffic's and can set the DP exposure)."""
    head_compute, head_other = lt["head_compute"], lt["head_other"]
    overlap: Any = profile.dp_overlap_fraction  # (the stack's field, read once for its uses below)
    piped = profile.pipeline_dp_overlap_fraction  # a pipeline engine's own (DeepSpeed: reduced after the schedule)
    if piped is not None and piped != overlap:
        overlap = ops.where(plan.pp > 1, piped, overlap)
    exposed = host_exposed_floats if ops is FLOAT_OPS else host_exposed_time  # (one plan: its floats as they are)

    # DualPipe hides each chunk's EP all-to-all under the paired chunk of the other phase (`with_ep_comm`), so does
    # Megatron's combined 1F1B where Megatron-Core accepts it (`combined_1f1b.combined_1f1b_plans`)
    combined_1f1b = combined_1f1b_plans(plan, profile)
    paired = (plan.schedule == _DUALPIPE) | combined_1f1b
    # (a grid where no plan pairs: each row's own sums, not spread over the broadcast (vpp, schedule) axes; hP2)
    unpaired = ops is not FLOAT_OPS and not np.any(paired)
    per_layer = {
        "compute": (lt["compute_fwd"] + lt["compute_bwd"] if unpaired
                    else ops.where(paired, lt["compute_paired"], lt["compute_fwd"] + lt["compute_bwd"])),
        "tp_comm": lt["tp_fwd"] + lt["tp_bwd"],
        "cp_comm": lt["cp_fwd"] + lt["cp_bwd"],
        "ep_comm": (lt["ep_fwd"] + lt["ep_bwd"] if unpaired
                    else ops.where(paired, lt["ep_paired"], lt["ep_fwd"] + lt["ep_bwd"])),
        "other": lt["other_fwd"] + lt["other_bwd"],
    }
    pp = ops.as_float(plan.pp)
    single = plan.pp == 1
    # heaviest stage of the stack's split (`stage_split.heaviest_stage`): a middle stage, the first with the
    # embedding, or the last with the LM head + loss (one stage: everything); DualPipe's heaviest rank of mirrored
    # stage pairs (`mirrored_stages.mirrored_pair_stage`): per micro-batch the mean of its two stages, so its shares of
    # micro-batches running the LM head + loss (`last_is_heaviest`) and the embedding are 1/2 on the end pair
    # MTP modules on it (`training.pipeline_layout`): each a layer (+ eh_proj), an embedding and an LM head + loss
    mtp, mtp_layers = lt["mtp_stage"], lt["mtp_stage"] * lt["mtp_layer_equivalent"]
    layers, with_head = lt["stage_layers"] + mtp_layers, lt["last_is_heaviest"]  # (1 or 0; 1/2 paired)
    heads = with_head + mtp
    with_embed = lt["first_is_heaviest"]  # (1 or 0; 1/2 paired)
    embeds = with_embed + mtp
    m = ops.as_float(plan.micro_batches)
    # a sync ends every forward when stages exchange activations (PP) or the stack's timers synchronise
    # (`Stack.phase_sync`); the LM head and loss close that forward, so the GPU runs them after the host has
    # issued everything: the layers' host slack cannot cover them (`host_exposed_time`, `head_tail`)
    # (a dropless MoE layer's host sync ends the forward's run-ahead too, whatever share of the layers are MoE)
    synced = ops.where(single, ops.where(lt["moe_host_sync"] > 0.0, True, profile.phase_sync), True)
    host_terms = (synced, m, *micro_batch_host_time(profile, dispatch_s))
    batch_host, loss_host = host_terms[2:]
    # dropless MoE: each MoE layer's eager block after its forward sync, hidden by its own GPU work (`layer_time`;
    # eager stacks: no block of its own, the dispatch the emptied queue waits for after the sync)
    moe_block = lt["moe_host_sync"] * (ops.maximum(lt["moe_host_fwd"] - lt["moe_gpu_fwd"] - lt["ep_fwd"], 0.0)
                                       + dispatch_s)
    moe_exposed = moe_block + lt["moe_sync_waits"] * dispatch_s  # the block's other syncs (GPT-OSS's GeGLU offset)
    stage, run_host_fwd, run_gpu_fwd, host_bwd, gpu_bwd, gpu_fwd, stage_host = stage_seconds(
        lt, per_layer, layers, heads, embeds, with_head, host_terms, moe_exposed, exposed, dispatch_s, ops)
    if stage_only:
        stage_out = {k: m * v for k, v in stage.items()}
        return _in_paired_shape(stage_out, paired) if unpaired else stage_out
    stage_total = summed(stage.values(), ops)
    fwd_window, bwd_window = dp_windows(lt, layers, run_host_fwd - run_gpu_fwd, host_bwd - gpu_bwd, synced,
                                        overlap, moe_block, ops)

    out = {k: m * v for k, v in stage.items()}
    if profile.moe.overlap_ep_comm:  # its unpaired passes and pipeline transfers on the all-to-all's NICs
        out["ep_comm"] = out["ep_comm"] + combined_1f1b_schedule_s(
            plan, lt, traffic, layers, combined_1f1b & megatron_schedule(plan), ops)
    # the other stages' time per micro-batch (`schedules`, uneven stages): the middle stages' layers at the pace per
    # layer of a middle stage as long as the heaviest (no embedding, no LM head: its GPU work and the host issue time
    # no queued work covers, priced as the heaviest stage's). (The heaviest stage's total less its head's GPU time
    # was used before: once that stage is host-bound a faster head moved time onto the layers, +0.12 % on a step.)
    head_s, embed_s = head_compute + head_other + lt["head_tp"], lt["embed_other"] + lt["embed_tp"]
    paced = ops.maximum(layers, 1.0)
    layer_gpu = summed(per_layer.values(), ops)
    mid_fwd = layers * (0 + lt["compute_fwd"] + lt["other_fwd"] + lt["tp_fwd"] + lt["cp_fwd"] + lt["ep_fwd"])
    mid_bwd = layers * (0 + lt["compute_bwd"] + lt["other_bwd"] + lt["tp_bwd"] + lt["cp_bwd"] + lt["ep_bwd"])
    mid_host = (exposed(layers * lt["host_fwd"] + ops.where(synced, 0.0, batch_host),
                        layers * lt["host_bwd"], mid_fwd, mid_bwd, m, synced, dispatch_s)
                + m * ops.where(synced, batch_host, 0.0)) / m + layers * moe_exposed
    layer_s = ops.where(layers > 0.0, layer_gpu + mid_host / paced, layer_gpu)
    # The end stages that are not the heaviest, each priced as the heaviest is (`stage_seconds`: its own GPU work and
    # the host issue time no queued GPU work covers: the first with the embedding, the last with the LM head + loss,
    # their host calls and the forward's tail, and the MTP modules), on the even split's layers (Megatron-Core
    # get_num_layers_to_build: a middle stage's less one where the embedding / the loss counts as a layer; the
    # balanced split: as many as the heaviest, or what equal middle stages leave), at most the other stages' layers
    # (`stage_params.stage_layer_counts`, the memory's split too). (A middle stage's pace plus the LM head's /
    # embedding's GPU time was used before: where the heaviest stage switched ends the bubble jumped, +0.34 % on a
    # step at 2.4x the FLOPs of GB200; hX1 / hA, session 38.)
    # DualPipe's and ZB-V's ranks hold both ends' chunks (`mirrored_stages`): the older form stays there.
    capacities = (end_stage_capacities(lt, lt["stage_layers"], ops is FLOAT_OPS)  # (each end's at the pace: hO47)
                  if profile.pipeline_split == "balanced" and anywhere(pp > 2.0)  # (hO48: an end heaviest too)
                  else None)
    first_n, last_n, middle_n = stage_layer_counts(profile, pp, lt["stage_layers"], lt["other_layers"], with_embed,
                                                   with_head, ops, capacities)  # (the memory's split too)
    first_end_s = last_end_s = first_end_share = 0.0  # (per micro-batch; the first's forward share of its GPU work)
    first_windows: tuple[Any, Any] | None = None  # (one plan: the first stage's DP windows, where it counts)
    # the DP exposure: each stage's DP ranks reduce its own gradients behind its own backward (and gather behind its
    # own forward), and the step ends when the last of them is done, so it is the most the stages that exist expose,
    # each on its own parameters (`step_traffic.EndStageTraffic`) and windows: the heaviest (its layers, a table
    # where it is an end stage, its MTP modules; the step's traffic where that is it: one stage, or ceil(L / p)
    # layers, a table and no MTP module anywhere), each end stage that is not the heaviest (its layers, its table, the
    # last's MTP modules; hA2, session 38; hD5, session 39) and, with PP >= 3 and an end stage the heaviest, the
    # middle stage of the most layers (no table; hT40, session 40), off DualPipe / ZB-V (ranks with both ends: each
    # rank's own two stages, `mirrored_dp`; a grid's stages priced on its rows, its schedules' put back after)
    both_ends = (plan.schedule == _DUALPIPE) | (plan.schedule == _ZB_V)
    heaviest_forms = exposed_dp_forms(traffic, fwd_window, bwd_window, ops)
    one_end = not both_ends if is_plain(both_ends) else True
    mtp_all = lt["mtp_stage"] + lt["mtp_other"]
    traffic_layers = ops.ceil((lt["stage_layers"] + lt["other_layers"]) / pp)  # ceil(L / p) (`dp_collectives`)
    end_heavy = (with_embed + with_head) > 0.0  # the heaviest holds a table
    settled = single | (end_heavy & (lt["stage_layers"] == traffic_layers) & (mtp_all == 0.0))  # (the traffic's)
    settled = settled | both_ends if is_plain(both_ends) else settled
    if ops is FLOAT_OPS and is_plain(settled):  # (one plan: FLOAT_OPS.where's pick, `a if c else b`, written out)
        dp_forms = heaviest_forms if settled else (0.0, 0.0, 0.0)
    else:
        dp_forms = (heaviest_forms if (settled if is_plain(settled) else np.all(settled))
                    else tuple(ops.where(settled, h, 0.0) for h in heaviest_forms))
    middle = (pp > 2.0) & end_heavy & (middle_n > 0.0)
    if ends is not None and ops is not FLOAT_OPS:  # (the stages in one pass, where each may count)
        if not np.all(settled):
            ends.expect(lt["stage_layers"], lt["mtp_stage"], negate(settled), ops.where(end_heavy, 1.0, 0.0))
            if anywhere(with_embed < 1.0):
                ends.expect(first_n, 0.0, with_embed == 0.0)
        if anywhere(with_embed < 1.0) and anywhere(with_head < 1.0):
            ends.expect(last_n, lt["mtp_other"], with_head == 0.0)
        if anywhere(middle):
            ends.expect(middle_n, 0.0, middle, 0.0)
    if not (settled if is_plain(settled) else np.all(settled)):
        dp_forms = end_stage_dp_forms(traffic, lt, layers, 0.0, 0.0, synced, overlap, moe_block,
                                      ops, dp_forms, (fwd_window, bwd_window), negate(settled),
                                      (ends, lt["stage_layers"], lt["mtp_stage"], mtp_all, traffic_layers,
                                       ops.where(end_heavy, 1.0, 0.0), settled), (fwd_window, bwd_window),
                                      heaviest_forms)
    if anywhere(with_embed < 1.0):
        first_end, f_host, f_gpu, b_host, end_bwd, end_fwd, _ = stage_seconds(
            lt, per_layer, first_n, 0.0, 1.0, 0.0, host_terms, moe_exposed, exposed, dispatch_s, ops)
        first_end_s = summed(first_end.values(), ops)
        first_end_share = end_fwd / ops.maximum(end_fwd + end_bwd, 1e-30)
        first_counts = (with_embed == 0.0) & one_end
        if ops is FLOAT_OPS and first_counts:  # (one plan: its windows, kept for the last stage's `same_as_first`)
            first_windows = dp_windows(lt, first_n, f_host - f_gpu, b_host - end_bwd, synced,
                                       overlap, moe_block, ops)
        dp_forms = end_stage_dp_forms(traffic, lt, first_n, f_host - f_gpu, b_host - end_bwd, synced,
                                      overlap, moe_block, ops, dp_forms, (fwd_window, bwd_window),
                                      first_counts, (ends, first_n, 0.0, mtp_all, traffic_layers, 1.0, settled),
                                      first_windows)
    if anywhere(with_head < 1.0):
        mtp_last = lt["mtp_other"]
        last_layers = last_n + mtp_last * lt["mtp_layer_equivalent"]
        last_end, l_host, l_gpu, b_host, l_bwd, _, _ = stage_seconds(
            lt, per_layer, last_layers, 1.0 + mtp_last, mtp_last, 1.0, host_terms, moe_exposed, exposed, dispatch_s,
            ops)
        last_end_s = summed(last_end.values(), ops)
        last_counts = (with_head == 0.0) & one_end
        last_windows = (dp_windows(lt, last_layers, l_host - l_gpu, b_host - l_bwd, synced,
                                   overlap, moe_block, ops)
                        if ops is FLOAT_OPS and first_windows is not None and last_counts else None)
        # one plan whose last stage is its first's (its layers, no MTP module, a table each, its windows): priced
        # on the first's already, and `end_stage_dp_forms` of the same stage twice is its once (each form the most
        # of what it holds and that stage's, or what it holds; hP16, session 40)
        same_as_first = (last_windows is not None and last_windows == first_windows and mtp_last == 0.0
                         and last_n == first_n)
        if not same_as_first:
            dp_forms = end_stage_dp_forms(traffic, lt, last_layers, l_host - l_gpu, b_host - l_bwd, synced,
                                          overlap, moe_block, ops, dp_forms,
                                          (fwd_window, bwd_window), last_counts,
                                          (ends, last_n, mtp_last, mtp_all, traffic_layers, 1.0, settled),
                                          last_windows)
    if anywhere(middle) and one_end:  # its windows: a stage of its layers alone (`stage_work`)
        m_host, m_gpu, mb_host, mb_gpu, _, _ = stage_work(lt, middle_n, 0.0, 0.0, 0.0, host_terms, ops)
        dp_forms = end_stage_dp_forms(traffic, lt, middle_n, m_host - m_gpu, mb_host - mb_gpu, synced,
                                      overlap, moe_block, ops, dp_forms, (fwd_window, bwd_window),
                                      middle, (ends, middle_n, 0.0, mtp_all, traffic_layers, 0.0, settled))
    # the pace-setting rank, its MTP modules, 1 where it holds a table; the end bin's tables in layers (hO46)
    mirrored_heaviest = (lt["stage_layers"], lt["mtp_stage"], ops.where(end_heavy, 1.0, 0.0),
                         end_extra_layers(lt, ops is FLOAT_OPS) if anywhere(both_ends) else 0.0)
    if anywhere(both_ends):  # a mirrored rank's own DP traffic: its two stages (`mirrored_dp`; hO45, session 43)
        mirrored = heaviest_forms if ends is None else mirrored_dp_forms(
            plan, ends, profile, mirrored_heaviest,
            (fwd_window, bwd_window), ops, None if is_plain(both_ends) else both_ends)
        dp_forms = (mirrored if is_plain(both_ends) else
                    tuple(ops.where(both_ends, h, e) for h, e in zip(mirrored, dp_forms, strict=True)))
    others = ((lt["other_layers"] - first_n - last_n) * layer_s + (1.0 - with_embed) * first_end_s
              + (1.0 - with_head) * last_end_s)
    if anywhere(both_ends):
        others = ops.where(both_ends, lt["other_layers"] * layer_s + (1.0 - with_head) * head_s
                           + (1.0 - with_embed) * embed_s
                           + lt["mtp_other"] * (lt["mtp_layer_equivalent"] * layer_s + head_s + embed_s), others)
    # each plan by its own schedule (`schedules.pipeline_bubble`; one plan's code: its model asked directly)
    model = PIPELINE_SCHEDULES.get(plan.schedule) if ops is FLOAT_OPS else None  # type: ignore[call-overload]
    out["pp_bubble"] = (float(model.bubble(pp, plan.vpp, m, stage_total, others)) if model is not None
                        else pipeline_bubble(plan.schedule, pp, plan.vpp, m, stage_total, others))
    if profile.pipeline_split == "even":  # the exact bubbles of the rank / chunk kinds (`exact_bubbles`)
        out["pp_bubble"] = even_split_exact_bubble(
            out["pp_bubble"], plan, profile, lt, ops, pp, m, stage_total, others, layers, with_head, with_embed,
            layer_s, embed_s, mid_fwd, mid_bwd, gpu_fwd, gpu_bwd, first_n, first_end_s, first_end_share, last_end_s)

    out["pp_comm"] = ops.where(single, 0.0, pipeline_p2p_time(
        pp, ops.as_float(plan.vpp), m, traffic["p2p"], profile, dispatch_s,
        (traffic["p2p_inside"], traffic["p2p_across"], traffic["p2p_hops_across"])) + traffic["embedding_sync"])
    zero3_form = zero3_edges.zero3_edge_form(dp_forms[2], plan, traffic, lt, (fwd_window, bwd_window), profile, ops)
    if profile.zero3_collectives_per_micro_batch:  # each micro-batch's gathers / scatters on its own windows (hM52)
        zero3_form = (m * zero3_form if profile.zero3_pipeline_collectives_per_micro_batch  # any PP (hI52)
                      else ops.where(single, m * zero3_form, zero3_form + fsdp2_regathers.extra_gather_s(
                          plan, traffic, (fwd_window, bwd_window), profile, ops)))  # (hT, session 70)
    zero12_form = zero3_edges.deferred_zero2_form(dp_forms[1], plan, traffic, (fwd_window, bwd_window), profile, ops)
    if profile.zero2_grad_reduce_per_micro_batch:  # ZeRO-2: m - 1 more reduce-scatters on their windows (hN53)
        zero12_form = ops.where(plan.zero == 2, zero12_form + (m - 1.0) * ops.maximum(
            traffic["scatter"] - bwd_window, 0.0), zero12_form)
    out["dp_comm_exposed"] = ops.where(plan.zero == 0, dp_forms[0],  # np.select's values, without its overhead
                                       ops.where(plan.zero < 3, zero12_form, zero3_form))
    out["other"] = out["other"] + fsdp2_step_copies(plan, lt, traffic, profile, m, rates, ops)  # (hT, session 53)
    if dp_overlap_sms.DP_OVERLAP_SMS:  # the hidden DP collectives' SMs (off: they hide for free)
        out["compute"] = out["compute"] + dp_overlap_sms.dp_overlap_sm_seconds(
            plan.zero, traffic, out["dp_comm_exposed"], float(rates.compute_units), ops)

    # the optimizer on the stage that steps the most parameters, of the stages the DP exposure is priced on
    # (`optimizer_step`; hO41, session 41)
    stepped = stepped_params(plan, traffic, ends, profile, settled, both_ends, mirrored_heaviest, (
        (first_n, 0.0, 1.0, (with_embed == 0.0) & one_end),
        (last_n, lt["mtp_other"], 1.0, (with_head == 0.0) & one_end),
        (middle_n, 0.0, 0.0, middle & one_end)), traffic_layers, ops)
    optimizer_gpu, optimizer_host = optimizer_seconds(stepped, rates, profile, dispatch_s, exposed, ops, traffic,
                                                      optimizer_graphed(profile, plan))  # (hT, session 70)
    out["optimizer"] = optimizer_gpu + optimizer_host
    out = {k: out[k] for k in PRICED_COMPONENTS}  # (the components, in their order)
    if not breakdown:
        out["step_time_s"] = summed(out.values(), ops)
        return _in_paired_shape(out, paired) if unpaired else out
    # the host row: the heaviest stage's, the optimizer's launches, a blocking pipeline's p2p host calls
    p2p_host = blocking_p2p_host_s(pp, ops.as_float(plan.vpp), m, profile, dispatch_s) if host_moved else 0.0
    out = with_host_row(out, m * stage_host, (optimizer_gpu, optimizer_host, p2p_host) if host_moved else None,
                        summed(out.values(), ops))
    out.update(stage_host_phases(ops, lt, (run_host_fwd, run_gpu_fwd, host_bwd, gpu_bwd), m, host_terms,
                                 ops.where(synced, with_head, 0.0), layers * moe_exposed, dispatch_s))
    moved_phases(out, optimizer_host if host_moved else 0.0, p2p_host)
    return _in_paired_shape(out, paired) if unpaired else out


def _in_paired_shape(out: dict[str, Any], paired: Any) -> dict[str, Any]:
    """`out` with its compute and EP terms in the shape `where(paired, ...)` gave them (their values: each row's own),
    as read-only broadcast views where that shape is wider (a search grid's (vpp, schedule) axes)."""
    for k in ("compute", "ep_comm"):
        wide = np.broadcast_shapes(np.shape(out[k]), np.shape(paired))
        if np.shape(out[k]) != wide:
            out[k] = np.broadcast_to(out[k], wide)
    return out


def summed(values: Iterable[Any], ops: MathOps) -> Any:
    """`sum(values)` of one plan's floats (`FLOAT_OPS`), else `ordered_sum` of arrays: the same additions in order."""
    return sum(values) if ops is FLOAT_OPS else ordered_sum(values)


def ordered_sum(values: Iterable[Any]) -> Any:
    """`sum(values)` of arrays (from 0, in order: the same IEEE additions, so the same bits), adding in place into
    the running total once it is an array of this function's own in the result's shape and dtype, not into a fresh
    array per term (the search's (ZeRO, pairs, rows) grids: a few MB each; hP2, session 36)."""
    total: Any = 0
    owned = False
    for v in values:
        if (owned and np.broadcast_shapes(total.shape, np.shape(v)) == total.shape
                and np.result_type(total, v) == total.dtype):
            np.add(total, v, out=total)
            continue
        total = total + v
        owned = type(total) is np.ndarray
    return total
