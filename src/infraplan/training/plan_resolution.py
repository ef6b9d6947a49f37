"""Resolving a user's training plan: the checked one-element plan (`resolve_plan`), the least recompute that fits
(`auto_recompute`) and the virtual stages of a plan that names none (`default_virtual_stages`).

Moved from training/estimate.py (hP13, session 38), which re-exports these names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.communicator_buffers import check_memory_margin, tight
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute, Schedule
from infraplan.training.frozen_base import LoraSpec
from infraplan.training.pipeline_layout import layout_virtual_stages
from infraplan.training.pipeline_split_rule import LaidOut, pipeline_split_rule, split_refuses
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_outputs import plan_memory
from infraplan.training.plan_rules import check_single_plan, pipeline_extra_layers
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import chosen_virtual_stages
from infraplan.training.stack_limits import UNNAMED_DEFAULT_ZERO, micro_batch_rules


def resolve_plan(shape: TransformerShape, cluster: Cluster, gpus: int, tp: int, pp: int, dp: int | None,
                 cp: int, ep: int, vpp: int, seq_len: int, global_batch: int, micro_batch: int,
                 recompute: str, zero: int | None, dtype: str, attention: str = "flash",
                 order: str = "tp-cp-pp-dp", sequence_parallel: bool = True,
                 schedule: str | None = None, etp: int | None = None, extra_layers: int = 0,
                 rules: str = "megatron", split: str = "any", layout: int = 0,
                 divisible: LaidOut | None = None) -> PlanArrays:
    """Check a user's plan against the model and system and return it as a one-element PlanArrays.

    `schedule` None: interleaved with virtual stages (vpp > 1), 1F1B without. `etp` (expert tensor parallel)
    None: TP, Megatron-Core's default; another value folds the expert groups over TP x CP x DP (`training.plan`).
    `rules`: the stack's micro-batch rule set (`stack_limits.micro_batch_rules`: megatron or torch); `split`: its
    split of the experts (`stack_limits.expert_split`); `layout`: where it lays the expert groups
    (`stack_limits.expert_layout`, the plan's `expert_layout`); `divisible`: whether its pipeline split needs PP x VPP
    to divide the layers (`pipeline_split_rule.pipeline_split_rule`). `zero` None
    (a caller that does not resolve the stack's default, `stack_limits.default_zero`, first): ZeRO-1, the stage
    every stack priced before stacks named their defaults.
    """
    cluster.check_gpus(gpus)
    cluster.check_layout(gpus)  # (its placement's domains within the system's: hZ2 77)
    cluster.require_accelerator("LLM training")
    recompute_mode = Recompute.parse(recompute, "--recompute")
    precision = Dtype.parse(dtype, "--dtype")
    kernels = Attention.parse(attention, "--attention")
    zero = UNNAMED_DEFAULT_ZERO if zero is None else zero
    if zero not in (0, 1, 2, 3):
        raise InputError(f"--zero must be 0, 1, 2 or 3, got {zero}")
    rank_order = RankOrder.parse(order, "--order")
    pipeline = None if schedule is None else Schedule.parse(schedule, "--schedule")
    accelerator = cluster.accelerator
    if not accelerator.supports(dtype):
        raise InputError(f"{accelerator.name} has no {dtype} peak in its catalog file; it trains in "
                         + ", ".join(d.label for d in Dtype if accelerator.supports(d.label)))  # hU39: what it runs
    if min(tp, pp, cp, ep, vpp, tp if etp is None else etp) < 1:
        small = {"--tp": tp, "--pp": pp, "--cp": cp, "--ep": ep, "--etp": etp, "--vpp": vpp}
        raise InputError("--tp, --pp, --cp, --ep, --etp and --vpp must be >= 1, got "
                         + ", ".join(f"{k} {v}" for k, v in small.items() if v is not None and v < 1))
    if dp is None:
        if gpus % (tp * pp * cp):
            raise InputError(f"--gpus {gpus} is not divisible by TP x PP x CP = {tp * pp * cp}")
        dp = gpus // (tp * pp * cp)
    plan = PlanArrays.one_plan(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, etp=etp, vpp=vpp, micro_batch=micro_batch,
                               global_batch=global_batch, seq_len=seq_len,
                               recompute=recompute_mode, zero=zero, dtype=precision, attention=kernels,
                               order=rank_order, sequence_parallel=int(bool(sequence_parallel)), schedule=pipeline,
                               expert_layout=layout)
    check_single_plan(shape, plan, gpus, extra_layers, rules, split, divisible)
    return plan


RECOMPUTE_AUTO = "auto"


def auto_recompute(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                   stack: Stack | None = None, lora: LoraSpec | None = None,
                   margin_fraction: float | None = None) -> tuple[PlanArrays, str]:
    """The least recompute on Megatron's ladder that makes a one-element plan fit with the memory margin left, and
    the note saying why.

    Ladder, cheapest first: none -> selective (the stack's `recompute_modules`; the default attention core
    stores no score matrix with fused attention, so it saves nothing and is skipped by the memory test) -> full
    recompute of the first k layers of each model chunk, k = 1, 2, ... (Megatron-Core `--recompute-granularity
    full --recompute-method block --recompute-num-layers k`) -> full recompute of every layer
    (`--recompute-method uniform`). The first rung
    whose memory (`plan_memory`) leaves `margin_fraction` of the accelerator's memory free (`--memory-margin` given;
    `communicator_buffers.tight`, the test that flags `low_memory_headroom` and that `search` ranks by) is taken,
    else the first that fits at all (then flagged); None (no margin given): the first rung that fits, as the
    published recipes run (the lead, session 73: at the default 5 % the 405B NeMo recipes' no-recompute plans and
    DeepSeek-V3's default plan took more recompute than they ran, 2.66 -> 3.08 M GPU-hours against the published
    2.788 M); if none fits, full recompute is
    kept and the result says it does not fit. hW73: the first rung that fit was taken whatever its headroom, so
    `train --recompute auto` chose a plan its own answer flagged and `search` ranks after the plans keeping the
    margin (Llama 3 70B TP4 PP2 fp8 on 64 H100: 15 of 40 layers, 0.6 GiB left of 79.6). `lora`: a frozen base's
    memory (`frozen_traffic.frozen_memory`: the adapters' gradients and optimizer states alone), which `train
    --lora-rank` prices.
    """
    per_chunk = int(-(-shape.num_layers // max(int(plan.pp[0] * plan.vpp[0]), 1)))
    rungs = ([(Recompute.NONE, 0), (Recompute.SELECTIVE, 0)]
             + [(Recompute.FULL, k) for k in range(1, per_chunk)] + [(Recompute.FULL, 0)])
    candidates = replace(plan.take(np.zeros(len(rungs), dtype=np.int64)),
                         recompute=np.array([int(r) for r, _ in rungs], dtype=np.int64),
                         recompute_layers=np.array([k for _, k in rungs], dtype=np.int64))
    memory = plan_memory(shape, cluster, candidates, stack, lora)
    fits = np.flatnonzero(memory["fits"])
    # (only a margin the user gives: the published recipes run at less than the default 5 % by this memory model --
    # the 405B NeMo recipes without recompute, DeepSeek-V3's full run --, so the default keeps the first fit)
    margin = check_memory_margin(margin_fraction) if margin_fraction is not None else 0.0
    roomy = np.flatnonzero(np.asarray(memory["fits"])
                           & ~tight(memory["memory_per_gpu_bytes"], cluster.accelerator.memory_bytes, margin))
    i = int(roomy[0]) if roomy.size else int(fits[0]) if fits.size else len(rungs) - 1
    gib = float(2**30)  # GiB, as the memory row of `train`'s table ("66.8 GiB of 79.6 GiB"), not GB beside it
    capacity_gb = cluster.accelerator.memory_bytes / gib
    needs_gb = float(memory["memory_per_gpu_bytes"][0]) / gib
    chosen_gb = float(memory["memory_per_gpu_bytes"][i]) / gib
    mode, k = rungs[i]
    per = f"per {cluster.accelerator.device_word}"  # the part's own word: "per GPU" on an ASIC read wrong (hU50)
    what = (f"full recompute of {k} of {per_chunk} layers per model chunk (block method)" if k
            else f"{mode} recompute" if mode != Recompute.NONE else "no recompute")
    if not fits.size:
        return candidates.take([i]), (f"--recompute auto: nothing fits ({chosen_gb:.1f} GiB {per} even with full "
                                      f"recompute, {capacity_gb:.1f} GiB available)")
    kept = ("" if not margin else f", leaving the {margin:.0%} margin" if roomy.size
            else f", none leaves the {margin:.0%} margin")
    reason = (f"fits without recompute{kept}" if i == 0 else f"no recompute needs {needs_gb:.1f} GiB {per} of "
              f"{capacity_gb:.1f} GiB; the least recompute that fits{kept}")
    return candidates.take([i]), f"--recompute auto: {what}, {chosen_gb:.1f} GiB {per} ({reason})"


def default_virtual_stages(shape: TransformerShape, profile: Stack, schedule: Any, gpus: int, tp: int, pp: int,
                           cp: int, dp: int | None, global_batch: int, micro_batch: int) -> tuple[int, list[str]]:
    """The virtual stages of a plan that names none, and the notes saying what was chosen: a named schedule brings
    its own chunking (ZB-V two, the others one), as does the stack's `pipeline_default_schedule` (torchtitan's 1F1B);
    else the stack's pipeline layout written for this PP
    (`training.pipeline_layout`); else the interleave a Megatron/NeMo user would set (`chosen_virtual_stages`).
    `resolve_training` asks this (for `estimate_training` and the sweep's batched `train`)."""
    named = None if schedule is None else str(getattr(schedule, "label", schedule))
    named = named or profile.pipeline_default_schedule  # a stack that does not interleave on its own (torchtitan)
    if named not in (None, "interleaved"):
        return (2 if named == "zb-v" else 1), []
    if pp > 1:
        vpp, note = layout_virtual_stages(profile, pp)
        if vpp is not None:
            return vpp, [note] if note else []
    if named is None and profile.pipeline_schedules is not None and "interleaved" not in profile.pipeline_schedules:
        return 1, []  # a framework without interleaving (DeepSpeed's 1F1B TrainSchedule): the stack's
        # `pipeline_schedules` (+ _source), not an interleave it would refuse (noted "outside the stack") (hV)
    replicas = dp if dp is not None else max(gpus // max(tp * pp * cp, 1), 1)
    m = global_batch // max(replicas * micro_batch, 1)
    rules = micro_batch_rules(profile)  # the stack's framework decides which m interleaving accepts
    accepts, requirement = PIPELINE_SCHEDULES[Schedule.INTERLEAVED].batch_rule(rules)
    vpp, note = chosen_virtual_stages(shape.num_layers, pp, m, bool(accepts(pp, 2, m)) or requirement)
    rule, slots = pipeline_split_rule(profile), shape.num_layers + pipeline_extra_layers(profile)
    if vpp > 1 and rule is not None and split_refuses(slots, pp, vpp, rule):  # the stack's split refuses that
        kept = max(v for v in range(1, vpp) if v == 1 or not split_refuses(slots, pp, v, rule))  # the most it takes
        note = (f"--vpp not given: chose {kept} virtual stages for PP{pp}, the most up to {vpp} that the stack's even "
                f"split or a pipeline layout of it takes for {slots} layers (`training.pipeline_split_rule`)"
                if kept > 1 else f"no interleave chosen for PP{pp}: the stack's even split takes no VPP from 2 to "
                f"{vpp} for {slots} layers; ran 1F1B")
        vpp = kept
    if named == "interleaved" and vpp == 1 and note:  # asked to interleave: say why it cannot, not "--vpp > 1"
        raise InputError(f"--schedule interleaved without --vpp: {note.removesuffix('; ran 1F1B')}")
    return vpp, [note] if note else []
