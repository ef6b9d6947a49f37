"""Training estimates: the array evaluator the search uses, and the single-plan API the CLI uses.

`evaluate_plans` is the one implementation; `estimate_training` builds a one-element PlanArrays, runs
it, and turns row 0 into a typed `TrainingEstimate` (training/results.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.error_bands import (
    ErrorBand,
    PublishedMfu,
    Residual,
    error_band,
    load_residuals,
    published_mfu_ceiling,
)
from infraplan.catalog.figures import figures_notes
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_note
from infraplan.catalog.schemas import System
from infraplan.catalog.stacks import Stack, band_stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.identity_memo import IdentityMemo
from infraplan.network.placement import placement_notes
from infraplan.ops.precision import RECIPES
from infraplan.training.activation_offload import offloaded_layers, with_offload
from infraplan.training.collnet import sharp_note, sharp_profile, stack_collnet_notes
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute, Schedule
from infraplan.training.flops import forward_flops_per_token_layer, hardware_flops_per_step, model_flops_per_step
from infraplan.training.fp8_slower_note import dtype_twin, higher_precisions, plan_dtype, slower_precision_note
from infraplan.training.memory import memory_breakdown
from infraplan.training.moe_notes import moe_notes
from infraplan.training.one_plan_memo import PLAN_FIELDS, cluster_pricing
from infraplan.training.pipeline_layout import layout_virtual_stages
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import check_single_plan, pipeline_extra_layers
from infraplan.training.results import PlanMetrics, TrainingEstimate, published_mfu_flag
from infraplan.training.schedule_models import PIPELINE_SCHEDULES
from infraplan.training.schedules import chosen_virtual_stages, stack_schedule_notes
from infraplan.training.stack_limits import (
    UNNAMED_DEFAULT_ZERO,
    default_stack_notes,
    default_zero,
    micro_batch_rules,
    stack_dtype_notes,
    stack_limit_notes,
)
from infraplan.training.step_time import COMPONENTS, one_plan_step_time, step_time

MEMORY_TERMS = ("weights", "gradients", "optimizer", "activations", "overhead")
DEFAULT_RANK_ORDER = "tp-cp-pp-dp"  # a stack without `rank_order` (catalog/stacks.py)
_MEMORY_KEYS = tuple((k, f"mem_{k}") for k in MEMORY_TERMS)  # (term, its `evaluate_plans` key)
_MEMORY_VALUES = itemgetter(*(key for _, key in _MEMORY_KEYS))  # the terms' values, in MEMORY_TERMS order
_COMPONENT_VALUES = itemgetter(*COMPONENTS)  # the step components' values, in their order


def training_band(accelerator: str, stack: str) -> ErrorBand | None:
    """The training error band of an accelerator and stack (depends on neither the model nor the plan), kept per
    residual file as loaded (`load_residuals`: a rewritten file, `validation.bands.write_error_bands`, clears it, and
    the bands kept from the old one are dropped with it)."""
    residuals = load_residuals()
    key = (accelerator, stack)
    kept = _TRAINING_BANDS.get(key)
    if kept is not None and kept[0] is residuals:
        return kept[1]
    if len(_TRAINING_BANDS) >= 256:
        _TRAINING_BANDS.clear()
    band = error_band(accelerator, stack, "training", residuals)
    _TRAINING_BANDS[key] = (residuals, band)
    return band


_TRAINING_BANDS: dict[tuple[str, str], tuple[tuple[Residual, ...], ErrorBand | None]] = {}


@lru_cache(maxsize=256)
def mfu_ceiling(accelerator: str, stack: str, dtype: str, leave_out: tuple[str, ...] = ()) -> PublishedMfu | None:
    """The best published MFU a single estimate and a search are checked against (`published_mfu_ceiling`) of the
    accelerator, stack class and precision, without the validation cases `leave_out`, flagged by the same
    `published_mfu_flag` (the published figures are loaded once per process)."""
    return published_mfu_ceiling(accelerator, stack, dtype, leave_out)


def peak_flops(cluster: Cluster, plan: PlanArrays) -> np.ndarray:
    """Peak FLOP/s of each plan's GEMM precision (the MFU denominator)."""
    return _peak_table(cluster)[plan.dtype]


@lru_cache(maxsize=64)
def _peak_table(cluster: Cluster) -> np.ndarray:
    """Peak FLOP/s by `Dtype` code on this cluster's accelerator (read-only; depends on neither model nor plan)."""
    accelerator = cluster.accelerator  # the peak of the format the recipe's GEMMs run in (`ops.precision`)
    formats = [RECIPES[d.label].peak_dtype for d in Dtype]
    table = np.array([accelerator.peak(f) if accelerator.supports(f) else np.nan for f in formats])
    table.flags.writeable = False
    return table


@lru_cache(maxsize=64)
def _peak_floats(cluster: Cluster) -> tuple[float, ...]:
    """`_peak_table` as Python floats, for one plan's `Dtype` code (no numpy scalar indexing)."""
    return tuple(_peak_table(cluster).tolist())


def model_tflops_per_gpu(shape: TransformerShape, plan: PlanArrays, step_s: np.ndarray) -> np.ndarray:
    """Model TFLOP/s per GPU at these step times (Megatron convention, `training.flops`)."""
    return np.asarray(model_flops_per_step(shape, plan) / (step_s * plan.gpus.astype(np.float64)) / 1e12)


def plan_memory(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                stack: Stack | None = None) -> dict[str, np.ndarray]:
    """Memory per GPU by term (`mem_*`), its total and whether it fits; element-wise in the plan fields.
    `stack`: its selective-recompute modules and fp8 activation cache (None: the default training stack)."""
    memory = memory_breakdown(shape, plan, stack)
    out = {f"mem_{k}": memory[k] for k in MEMORY_TERMS}
    total = memory[MEMORY_TERMS[0]]
    for k in MEMORY_TERMS[1:]:  # in order: the same float sum for one plan or a grid of them
        total = total + memory[k]
    out["memory_per_gpu_bytes"] = total
    out["fits"] = total <= cluster.accelerator.memory_bytes
    return out


def evaluate_plans(shape: TransformerShape, cluster: Cluster,
                   plan: PlanArrays, stack: str | Stack | None = None) -> dict[str, np.ndarray]:
    """Every output metric for every plan, as arrays, under one software stack (None: the default).

    One plan (`PlanArrays.is_one`) is priced on Python floats and looked up in the cluster and stack's one-plan
    memo first (`one_plan_outputs`), so sweeps and the scenario planner repeating plans pay a lookup.
    """
    profile = resolve_stack(stack, "training", shape.name)
    if plan.is_one:  # each plan priced where its job's ranks sit (`Cluster.placed`, `network.placement`)
        placed = cluster.placed(int(plan.one_row.gpus))
        return {k: np.array([v]) for k, v in one_plan_outputs(shape, placed, plan, profile).items()}
    sizes = np.unique(plan.gpus)
    if sizes.size == 1:
        return _evaluate(shape, cluster.placed(int(sizes[0])), plan, profile)
    parts = [(np.flatnonzero(plan.gpus == g), int(g)) for g in sizes]  # plans of several job sizes: each its own
    priced = [(rows, _evaluate(shape, cluster.placed(g), plan.take(rows), profile)) for rows, g in parts]
    out = {k: np.empty(len(plan), dtype=np.asarray(v).dtype) for k, v in priced[0][1].items()}
    for rows, values in priced:
        for k, v in values.items():
            out[k][rows] = v
    return out


def one_plan_outputs(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                     profile: Stack) -> dict[str, float | bool]:
    """`evaluate_plans` of a single estimate's plan (`PlanArrays.is_one`) as Python floats (`fits` a bool): the
    same formulas on its plain numbers, the bits of its row in a grid (tests/training/test_one_plan_float_path.py),
    kept in the one-plan memo (`training.one_plan_memo`)."""
    return cluster_pricing(cluster, profile).memoised(
        "plan", shape, PLAN_FIELDS, lambda p: _evaluate_one(shape, cluster, p, profile))(plan)


def _evaluate_one(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                  profile: Stack) -> dict[str, float | bool]:
    """`one_plan_outputs` without the memo: `_evaluate`'s formulas on the plan's Python numbers."""
    out: dict[str, float | bool] = one_plan_step_time(shape, cluster, plan, profile)  # (a fresh dict of floats)
    p = plan.one_row
    gpus = float(p.gpus)
    t = out["step_time_s"]
    peak = _peak_floats(cluster)[p.dtype]
    out["tokens_per_s"] = float(p.global_batch * p.seq_len) / t
    out["tokens_per_s_per_gpu"] = out["tokens_per_s"] / gpus
    forward = forward_flops_per_token_layer(shape, p.seq_len)  # (for both counts)
    model_flops = model_flops_per_step(shape, p, forward)
    out["model_tflops_per_gpu"] = float(model_flops / (t * gpus) / 1e12)  # `model_tflops_per_gpu`
    out["mfu"] = out["model_tflops_per_gpu"] * 1e12 / peak
    out["hfu"] = float(hardware_flops_per_step(shape, p, model_flops, forward) / (t * gpus) / peak)
    memory = memory_breakdown(shape, p, profile)
    total = 0.0
    for i, (k, key) in enumerate(_MEMORY_KEYS):  # in order: `plan_memory`'s float sum
        out[key] = term = float(memory[k])
        total = term if i == 0 else total + term
    out["memory_per_gpu_bytes"] = total
    out["fits"] = total <= cluster.accelerator.memory_bytes
    return out


def _evaluate(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> dict[str, np.ndarray]:
    """`evaluate_plans` of plans that are not one (`_evaluate_one`), without the one-plan memo."""
    out = step_time(shape, cluster, plan, profile)
    gpus = plan.gpus.astype(np.float64)
    tokens = (plan.global_batch * plan.seq_len).astype(np.float64)
    peak = peak_flops(cluster, plan)
    t = out["step_time_s"]
    rates = {"tokens_per_s": tokens / t}
    rates["tokens_per_s_per_gpu"] = rates["tokens_per_s"] / gpus
    model_flops = model_flops_per_step(shape, plan)
    rates["model_tflops_per_gpu"] = model_flops / (t * gpus) / 1e12  # `model_tflops_per_gpu`
    rates["mfu"] = rates["model_tflops_per_gpu"] * 1e12 / peak
    rates["hfu"] = hardware_flops_per_step(shape, plan, model_flops) / (t * gpus) / peak
    out.update({k: np.asarray(v) for k, v in rates.items()})
    out.update(plan_memory(shape, cluster, plan, profile))
    return out


def resolve_plan(shape: TransformerShape, cluster: Cluster, gpus: int, tp: int, pp: int, dp: int | None,
                 cp: int, ep: int, vpp: int, seq_len: int, global_batch: int, micro_batch: int,
                 recompute: str, zero: int | None, dtype: str, attention: str = "flash",
                 order: str = "tp-cp-pp-dp", sequence_parallel: bool = True,
                 schedule: str | None = None, etp: int | None = None, extra_layers: int = 0,
                 rules: str = "megatron") -> PlanArrays:
    """Check a user's plan against the model and system and return it as a one-element PlanArrays.

    `schedule` None: interleaved with virtual stages (vpp > 1), 1F1B without. `etp` (expert tensor parallel)
    None: TP, Megatron-Core's default; another value folds the expert groups over TP x CP x DP (`training.plan`).
    `rules`: the stack's micro-batch rule set (`stack_limits.micro_batch_rules`: megatron or torch). `zero` None
    (a caller that does not resolve the stack's default, `stack_limits.default_zero`, first): ZeRO-1, the stage
    every stack priced before stacks named their defaults.
    """
    cluster.check_gpus(gpus)
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
        raise InputError(f"{accelerator.name} has no {dtype} peak in its catalog file")
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
                               order=rank_order, sequence_parallel=int(bool(sequence_parallel)), schedule=pipeline)
    check_single_plan(shape, plan, gpus, extra_layers, rules)
    return plan


RECOMPUTE_AUTO = "auto"


def auto_recompute(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                   stack: Stack | None = None) -> tuple[PlanArrays, str]:
    """The least recompute on Megatron's ladder that makes a one-element plan fit, and the note saying why.

    Ladder, cheapest first: none -> selective (the stack's `recompute_modules`; the default attention core
    stores no score matrix with fused attention, so it saves nothing and is skipped by the memory test) -> full
    recompute of the first k layers of each model chunk, k = 1, 2, ... (Megatron-Core `--recompute-granularity
    full --recompute-method block --recompute-num-layers k`) -> full recompute of every layer
    (`--recompute-method uniform`). The first rung
    whose memory (`plan_memory`) fits the accelerator is taken; if none fits, full recompute is kept and the
    result says it does not fit.
    """
    per_chunk = int(-(-shape.num_layers // max(int(plan.pp[0] * plan.vpp[0]), 1)))
    rungs = ([(Recompute.NONE, 0), (Recompute.SELECTIVE, 0)]
             + [(Recompute.FULL, k) for k in range(1, per_chunk)] + [(Recompute.FULL, 0)])
    candidates = replace(plan.take(np.zeros(len(rungs), dtype=np.int64)),
                         recompute=np.array([int(r) for r, _ in rungs], dtype=np.int64),
                         recompute_layers=np.array([k for _, k in rungs], dtype=np.int64))
    memory = plan_memory(shape, cluster, candidates, stack)
    fits = np.flatnonzero(memory["fits"])
    i = int(fits[0]) if fits.size else len(rungs) - 1
    gib = float(2**30)  # GiB, as the memory row of `train`'s table ("66.8 GiB of 79.6 GiB"), not GB beside it
    capacity_gb = cluster.accelerator.memory_bytes / gib
    needs_gb = float(memory["memory_per_gpu_bytes"][0]) / gib
    chosen_gb = float(memory["memory_per_gpu_bytes"][i]) / gib
    mode, k = rungs[i]
    what = (f"full recompute of {k} of {per_chunk} layers per model chunk (block method)" if k
            else f"{mode} recompute" if mode != Recompute.NONE else "no recompute")
    if not fits.size:
        return candidates.take([i]), (f"--recompute auto: nothing fits ({chosen_gb:.1f} GiB per GPU even with full "
                                      f"recompute, {capacity_gb:.1f} GiB available)")
    reason = ("fits without recompute" if i == 0 else
              f"no recompute needs {needs_gb:.1f} GiB per GPU of {capacity_gb:.1f} GiB; the least recompute that fits")
    return candidates.take([i]), f"--recompute auto: {what}, {chosen_gb:.1f} GiB per GPU ({reason})"


def result_row(results: dict[str, np.ndarray], plan: PlanArrays, i: int, capacity_bytes: float) -> PlanMetrics:
    """One plan's results (row `i` of the arrays) as a typed result."""
    return PlanMetrics(**row_fields({k: v[i] for k, v in results.items()}, plan, i, capacity_bytes))


def row_fields(values: Mapping[str, Any], plan: PlanArrays, i: int, capacity_bytes: float) -> dict[str, Any]:
    """The PlanMetrics fields of plan `i` from its output `values` (numbers by `evaluate_plans` key; built once,
    so a TrainingEstimate is validated once, not twice). The nested breakdowns and the plan config are plain
    dicts: the enclosing model validates them in the same compiled pass, into the same nested models."""
    # (the terms picked and converted in C: `itemgetter` and `map`, no bytecode per term; hP9)
    memory = dict(zip(MEMORY_TERMS, map(float, _MEMORY_VALUES(values)), strict=True))
    fits = bool(values["fits"])
    return dict(
        step_time_s=float(values["step_time_s"]),
        tokens_per_s=float(values["tokens_per_s"]),
        tokens_per_s_per_gpu=float(values["tokens_per_s_per_gpu"]),
        model_tflops_per_gpu=float(values["model_tflops_per_gpu"]),
        mfu=float(values["mfu"]),
        hfu=float(values["hfu"]),
        memory_per_gpu_bytes=float(values["memory_per_gpu_bytes"]),
        memory_capacity_bytes=capacity_bytes,
        memory_breakdown_bytes=memory,
        fits=fits,
        memory_overflow_term=None if fits else max(memory, key=memory.__getitem__),
        breakdown_s=dict(zip(COMPONENTS, map(float, _COMPONENT_VALUES(values)), strict=True)),
        config=plan.row(i),
    )



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
    if named == "interleaved" and vpp == 1 and note:  # asked to interleave: say why it cannot, not "--vpp > 1"
        raise InputError(f"--schedule interleaved without --vpp: {note.removesuffix('; ran 1F1B')}")
    return vpp, [note] if note else []


@dataclass(frozen=True)
class TrainingPoint:
    """A point of `estimate_training` resolved (`resolve_training`): what its outputs are priced on, and the notes
    that do not depend on them. `estimate_training` prices it on its own (`one_plan_outputs`), the sweep's batched
    `train` (`sweep.functions.train_batch`) with the points that share its model, stack and cluster in one
    `evaluate_plans`; both finish it with `finish_training`, so a point gets one answer either way."""

    shape: TransformerShape
    profile: Stack  # the stack with the model's recipe and any activation offload
    cluster: Cluster  # the job's placed cluster (`Cluster.placed`)
    plan: PlanArrays  # the one-element plan
    notes: tuple[str, ...]
    twins: tuple[tuple[str, PlanArrays], ...]  # the plan in each higher precision (`training.fp8_slower_note`)
    bands: str  # the stack's error-band class (`band_stack`)


def resolve_training(model: str | TransformerShape, system: str | System | Cluster, gpus: int, tp: int = 1,
                     pp: int = 1, dp: int | None = None, cp: int = 1, ep: int = 1, vpp: int | None = None,
                     seq_len: int = 2048, global_batch: int = 512, micro_batch: int = 1,
                     recompute: str = "none", zero: int | None = None, dtype: str = "bf16",
                     attention: str = "flash", order: str | None = None,
                     sequence_parallel: bool = True, schedule: str | None = None,
                     stack: str | Stack | None = None, etp: int | None = None,
                     recompute_layers: int = 0, offload_layers: int = 0, sharp: bool = False) -> TrainingPoint:
    """`estimate_training`'s point (same arguments) resolved into its model, stack, placed cluster, one-element plan
    and notes; bad input is one InputError line."""
    shape = load_model(model) if isinstance(model, str) else model
    profile = resolve_stack(stack, "training", shape.name)  # with the stack's recipe for the model, said in a note
    order = order or profile.rank_order or DEFAULT_RANK_ORDER
    cluster = Cluster.resolve(system).for_gpus(gpus).placed(gpus)  # the job's rank placement (`network.placement`)
    sys_spec, accelerator = cluster.system, cluster.accelerator
    profile = sharp_profile(profile, cluster) if sharp else profile  # NCCL CollNet on (`training.collnet`)
    notes: list[str] = [n for n in [_stack_constants(profile)[0]] if n]
    if vpp is None:
        vpp, chosen = default_virtual_stages(shape, profile, schedule, gpus, tp, pp, cp, dp, global_batch, micro_batch)
        notes += chosen
    if offload_layers:  # Megatron-Core's conditions (`check_offload`), the stack offloading N layers
        profile, offload_notes = with_offload(shape, profile, offload_layers, pp, recompute)
        notes = [*notes, *offload_notes]
    if zero is None:  # what the stack runs when none is set, said
        zero, zero_note = default_zero(profile, pp)
        notes += [zero_note] if zero_note else []
    auto = recompute == RECOMPUTE_AUTO
    plan = resolve_plan(shape, cluster, gpus, tp, pp, dp, cp, ep, vpp, seq_len, global_batch,
                        micro_batch, "none" if auto else recompute, zero, dtype, attention, order, sequence_parallel,
                        schedule, etp, pipeline_extra_layers(profile), micro_batch_rules(profile))
    if recompute_layers:
        if auto or recompute != "full":
            raise InputError("--recompute-layers (block recompute of k layers per model chunk) needs --recompute full, "
                             f"got --recompute-layers {recompute_layers} with --recompute {recompute}")
        plan = replace(plan, recompute_layers=np.array([recompute_layers], dtype=np.int64))
        check_single_plan(shape, plan, gpus, pipeline_extra_layers(profile), micro_batch_rules(profile))
    if auto:
        plan, note = auto_recompute(shape, cluster, plan, profile)
        notes.append(note)
    notes += _plan_notes(shape, sys_spec.node.scale_up_domain, tp, seq_len) + placement_notes(sys_spec.node, gpus)
    notes += stack_plan_notes(shape, profile, cluster, plan, pp, dtype)
    notes += default_stack_notes(stack, profile, accelerator.name, accelerator.vendor)  # NVIDIA's, on another
    notes += figures_notes(accelerator, "training")  # SECONDARY / PRELIMINARY figures, a part for other work
    notes += [sharp_note(zero)] if sharp else stack_collnet_notes(profile, cluster, zero)
    higher = higher_precisions(plan, accelerator)  # the same plan in each wider format, said where one is faster
    twins = tuple((d, dtype_twin(plan, d)) for d in higher) if higher else ()
    return TrainingPoint(shape, profile, cluster, plan, tuple(notes), twins, _stack_constants(profile)[1])


def finish_training(point: TrainingPoint, values: Mapping[str, Any],
                    twin_values: Mapping[str, Mapping[str, Any]]) -> TrainingEstimate:
    """The TrainingEstimate of a resolved point from its outputs `values` and its twins' (`evaluate_plans` keys,
    `twin_values` by dtype): the slower-precision note, the offloaded layers, the error band and the MFU flag."""
    plan, profile, accelerator = point.plan, point.profile, point.cluster.accelerator
    slower = slower_precision_note(values, plan_dtype(plan), twin_values) if twin_values else None  # (`dtype_twin`)
    notes = [*point.notes, slower] if slower else list(point.notes)
    row = row_fields(values, plan, 0, accelerator.memory_bytes)
    if profile.cpu_offload_layers:  # the layers this plan offloads (0 where Megatron-Core would not)
        offloaded = offloaded_layers(profile, plan.one_row if plan.is_one else plan, float(point.shape.num_layers))
        row["config"] = {**row["config"], "offload_layers": int(np.ravel(offloaded)[0])}
    bands = point.bands  # (`band_stack`)
    row.update(error_band=training_band(accelerator.catalog_name, bands), model=point.shape.name,
               system=point.cluster.system.name, accelerator=accelerator.name, parameters=_total_params(point.shape),
               stack=profile.name, notes=notes,
               **published_mfu_flag(row["mfu"], mfu_ceiling(accelerator.catalog_name, bands, row["config"]["dtype"])))
    return TrainingEstimate.model_validate(row)  # (`TrainingEstimate(**row)`'s validation, without the unpacking)


def estimate_training(model: str | TransformerShape, system: str | System | Cluster, gpus: int, tp: int = 1,
                      pp: int = 1, dp: int | None = None, cp: int = 1, ep: int = 1, vpp: int | None = None,
                      seq_len: int = 2048, global_batch: int = 512, micro_batch: int = 1,
                      recompute: str = "none", zero: int | None = None, dtype: str = "bf16",
                      attention: str = "flash", order: str | None = None,
                      sequence_parallel: bool = True, schedule: str | None = None,
                      stack: str | Stack | None = None, etp: int | None = None,
                      recompute_layers: int = 0, offload_layers: int = 0, sharp: bool = False) -> TrainingEstimate:
    """Estimate one training plan; model and system are preset names, file paths, loaded specs or a Cluster.

    `recompute`: none | selective | full, or "auto": the least recompute that fits (`auto_recompute`, stated in
    the notes). `recompute_layers` k > 0 with full: block recompute of the first k layers of each model chunk.
    `offload_layers` N > 0: CPU activation offload of the first N layers (`training.activation_offload`).

    `etp`: expert tensor parallel degree (MoE parallel folding); None: TP, Megatron-Core's default.
    `vpp`: virtual stages per pipeline stage; None: the ones `train` without --vpp chooses (`default_virtual_stages`,
    said in a note), so the API, the CLI, the web API and the sweep give one answer; 1: no interleaving.

    `stack`: software-stack profile name, YAML path or Stack (default `catalog.stacks.DEFAULT_TRAINING_STACK`).
    `order`: the rank order; None: the stack's `rank_order` (Megatron-Core: tp-cp-dp-pp), else tp-cp-pp-dp.
    `zero`: the ZeRO stage; None: the one the stack runs by default at this PP (`stack_limits.default_zero`: torchtitan
    ZeRO-3, or ZeRO-2 with PP; NeMo ZeRO-1), said in a note.
    `sharp`: NCCL CollNet on (`train --sharp`): the DP all-reduce in IB SHARP switches (`training.collnet`); one
    line unless every switch tier of the system does SHARP.

    The point is resolved by `resolve_training` and finished by `finish_training`, as the sweep's batched `train`
    does (`sweep.functions.train_batch`): one answer either way.
    """
    point = resolve_training(model, system, gpus, tp, pp, dp, cp, ep, vpp, seq_len, global_batch, micro_batch,
                             recompute, zero, dtype, attention, order, sequence_parallel, schedule, stack, etp,
                             recompute_layers, offload_layers, sharp)
    shape, cluster, profile = point.shape, point.cluster, point.profile
    return finish_training(point, _outputs(shape, cluster, point.plan, profile),
                           {d: _outputs(shape, cluster, twin, profile) for d, twin in point.twins})


def _outputs(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> Mapping[str, Any]:
    """A single estimate's outputs (`one_plan_outputs`: always, unless a caller's plan is not one)."""
    return (one_plan_outputs(shape, cluster, plan, profile) if plan.is_one
            else {k: v[0] for k, v in evaluate_plans(shape, cluster, plan, profile).items()})


def _plan_notes(shape: TransformerShape, scale_up_domain: int, tp: int, seq_len: int) -> list[str]:
    """What a plan asks that `search` would not propose, said rather than silent: TP beyond one scale-up domain
    (priced over the scale-out network), a sequence beyond the model's positions (context extension)."""
    notes = []
    if tp > scale_up_domain:
        notes.append(f"TP {tp} spans {-(-tp // scale_up_domain)} scale-up domains of {scale_up_domain} GPUs: its "
                     "collectives cross the scale-out network (search proposes this only with --cross-node-tp)")
    if seq_len > shape.max_seq_len:
        notes.append(f"--seq-len {seq_len} exceeds {shape.name}'s {shape.max_seq_len} positions "
                     "(max_position_embeddings): a context-extension run")
    return notes


def stack_plan_notes(shape: TransformerShape, profile: Stack, cluster: Cluster, plan: PlanArrays, pp: int,
                     dtype: str) -> list[str]:
    """What a resolved one-plan answer says about its plan under its stack: the MoE routing, EP span and MTP
    (`moe_notes`), a schedule the stack lacks, a ZeRO stage or CP it does not run, a precision it does not train
    in. `resolve_training` asks this (for `estimate_training` and the sweep's batched `train`)."""
    # (the plan's own ints: its `one_row`, without building its one-element arrays)
    fields = plan.one_row if plan.is_one else plan.take([0]).one_row
    return [*moe_notes(shape, profile, cluster.fabric, int(fields.ep), int(fields.ep_stride)),  # routing, EP, MTP
            *stack_schedule_notes(profile, int(fields.schedule), pp),  # a schedule the stack lacks
            *stack_limit_notes(profile, pp, int(fields.zero), int(fields.cp)),  # ZeRO / CP
            *stack_dtype_notes(profile, dtype)]  # a precision the stack does not train in


def _stack_constants(profile: Stack) -> tuple[str | None, str]:
    """(`recipe_note`, `band_stack`) of a stack, kept by its identity (frozen; the entry holds it, so its id is not
    reused while it is kept): they depend on nothing of the plan, and a single estimate asks for both."""
    kept = _STACK_CONSTANTS.get(profile)
    if kept is not None:
        return kept
    return _STACK_CONSTANTS.put(profile, None, (recipe_note(profile), band_stack(profile)))


_STACK_CONSTANTS: IdentityMemo[tuple[str | None, str]] = IdentityMemo(64)


def _total_params(shape: TransformerShape) -> int:
    """`shape.total_params()` as an int, kept by the model's identity (a constant of the model, not of the plan;
    the entry holds the model, so its id is not reused while it is kept)."""
    kept = _TOTAL_PARAMS.get(shape)
    if kept is not None:
        return kept
    return _TOTAL_PARAMS.put(shape, None, int(shape.total_params()))


_TOTAL_PARAMS: IdentityMemo[int] = IdentityMemo(256)
