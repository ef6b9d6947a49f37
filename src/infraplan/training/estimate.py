"""Training estimates: the single-plan API the CLI uses, on the array evaluator the search uses.

`evaluate_plans` (training/plan_outputs.py) is the one implementation; `estimate_training` resolves the plan into
a one-element PlanArrays (training/plan_resolution.py), prices it, and turns row 0 into a typed `TrainingEstimate`
(training/results.py). The pricing and resolution names are re-exported here (split by hP13, session 38).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np

from infraplan import bounds
from infraplan.catalog import load_model
from infraplan.catalog.answer_bands import band_stack, beyond_validated_length
from infraplan.catalog.error_bands import ErrorBand, Rows, error_band, load_residuals
from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_note
from infraplan.catalog.published_mfu import PublishedMfu, published_mfu_ceiling
from infraplan.catalog.schemas import System
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.identity_memo import IdentityMemo
from infraplan.training.activation_offload import offloaded_layers, with_offload
from infraplan.training.batch_idle_note import idle_batch_notes
from infraplan.training.collnet import sharp_profile
from infraplan.training.communicator_buffers import check_memory_margin, memory_headroom_flag
from infraplan.training.cuda_graph_rule import ungraphed_reason
from infraplan.training.dsa_warmup import check_stage, warmup_estimate, warmup_outputs
from infraplan.training.flops import causal_flops_ratio, flop_convention_note
from infraplan.training.fp8_slower_note import dtype_twin, higher_precisions, plan_dtype, slower_precision_note
from infraplan.training.frozen_base import (
    FLOP_CONVENTION,
    LoraSpec,
    lora_note,
    lora_of,
    rank_notes,
    trainable_params,
)
from infraplan.training.host_bound_note import host_bound_notes
from infraplan.training.host_time import HOST_PHASE_KEYS, HOST_PHASES
from infraplan.training.hybrid_shard import zero_shard_note, zero_shard_ranks
from infraplan.training.one_plan_memo import PLAN_FIELDS
from infraplan.training.optimizers import training_stack
from infraplan.training.pipeline_split_rule import LaidOut, pipeline_split_rule
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_notes import placed_plan_notes, request_notes, tp_crossing_notes
from infraplan.training.plan_notes import prices_collectives as prices_collectives
from infraplan.training.plan_notes import stack_plan_notes as stack_plan_notes
from infraplan.training.plan_outputs import (
    MEMORY_TERMS,
    evaluate_plans,
    model_tflops_per_gpu,
    one_plan_outputs,
    peak_flops,
    plan_memory,
)
from infraplan.training.plan_resolution import (
    RECOMPUTE_AUTO,
    auto_recompute,
    default_virtual_stages,
    resolve_plan,
)
from infraplan.training.plan_rules import check_single_plan, pipeline_extra_layers, refuse_framework
from infraplan.training.results import PlanMetrics, TrainingEstimate, published_mfu_flag
from infraplan.training.stack_limits import (
    DEFAULT_RANK_ORDER,
    default_zero,
    expert_layout,
    expert_split,
    micro_batch_rules,
    sole_schedule,
)
from infraplan.training.step_time import COMPONENTS

__all__ = [  # the names this module has always given (the pricing and resolution ones re-exported)
    "DEFAULT_RANK_ORDER", "MEMORY_TERMS", "RECOMPUTE_AUTO", "TrainingPoint", "auto_recompute",
    "default_virtual_stages", "estimate_training", "evaluate_plans", "finish_training", "mfu_ceiling",
    "model_tflops_per_gpu", "one_plan_outputs", "peak_flops", "plan_memory", "resolve_plan", "resolve_training",
    "result_row", "row_fields", "stack_plan_notes", "training_band",
]

_MEMORY_VALUES = itemgetter(*(f"mem_{k}" for k in MEMORY_TERMS))  # the terms' values, in MEMORY_TERMS order
_COMPONENT_VALUES = itemgetter(*COMPONENTS)  # the step components' values, in their order
_HOST_PHASE_VALUES = itemgetter(*HOST_PHASE_KEYS)  # (`host_time.stage_host_phases`' keys, in HOST_PHASES order)


def training_band(accelerator: str, stack: str, seq_len: int = 0) -> ErrorBand | None:
    """The training error band of an accelerator and stack (depends on neither the model nor the plan), kept per
    residual file as loaded (`load_residuals`: a rewritten file, `validation.bands.write_error_bands`, clears it, and
    the bands kept from the old one are dropped with it); its basis says when `seq_len` is beyond every case's
    (`catalog.answer_bands`, hU59)."""
    residuals = load_residuals("training", None, None, True)  # the training rows only (hE41), as read (hS)
    key = (accelerator, stack)
    kept = _TRAINING_BANDS.get(key)
    if kept is not None and kept[0] is residuals:
        return beyond_validated_length(kept[1], "training", seq_len)
    if len(_TRAINING_BANDS) >= 256:
        _TRAINING_BANDS.clear()
    band = error_band(accelerator, stack, "training", residuals)
    _TRAINING_BANDS[key] = (residuals, band)
    return beyond_validated_length(band, "training", seq_len)


_TRAINING_BANDS: dict[tuple[str, str], tuple[Rows, ErrorBand | None]] = {}


@lru_cache(maxsize=256)
def mfu_ceiling(accelerator: str, stack: str, dtype: str, leave_out: tuple[str, ...] = ()) -> PublishedMfu | None:
    """The best published MFU a single estimate and a search are checked against (`published_mfu_ceiling`) of the
    accelerator, stack class and precision, without the validation cases `leave_out`, flagged by the same
    `published_mfu_flag` (the published figures are loaded once per process)."""
    return published_mfu_ceiling(accelerator, stack, dtype, leave_out)


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
        executed_flops_utilisation=float(values["executed_flops_utilisation"]),
        memory_per_gpu_bytes=float(values["memory_per_gpu_bytes"]),
        memory_capacity_bytes=capacity_bytes,
        memory_breakdown_bytes=memory,
        fits=fits,
        memory_overflow_term=None if fits else max(memory, key=memory.__getitem__),
        **memory_headroom_flag(float(values["memory_per_gpu_bytes"]), capacity_bytes),  # (search: its own margin)
        breakdown_s=dict(zip(COMPONENTS, map(float, _COMPONENT_VALUES(values)), strict=True)),
        host_exposed_phases_s=dict(zip(HOST_PHASES, map(float, _HOST_PHASE_VALUES(values)), strict=True)),
        config=plan.row(i),
        cuda_graphs=bool(values.get("cuda_graphs", False)),  # (`cuda_graph_rule.graphed`, hT70)
    )


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
                     recompute_layers: int = 0, offload_layers: int = 0, sharp: bool = False,
                     zero_shard: int | None = None, lora_rank: int | None = None,
                     lora_targets: str | None = None, optimizer: str | None = None,
                     memory_margin: float | None = None) -> TrainingPoint:
    """`estimate_training`'s point (same arguments) resolved into its model, stack, placed cluster, one-element plan
    and notes; bad input is one InputError line. `lora_rank`: `--recompute auto` on the frozen base's memory."""
    seq_len = bounds.TOKENS.check(seq_len, "--seq-len")  # the CLI's bounds, as `search_plans` checks them (hR66:
    global_batch = bounds.SEQUENCES.check(global_batch, "--global-batch")  # seq_len=inf was an OverflowError,
    micro_batch = bounds.SEQUENCES.check(micro_batch, "--micro-batch")  # global_batch=nan numpy's ValueError)
    shape = model if isinstance(model, TransformerShape) else load_model(model)
    lora = lora_of(shape, lora_rank, lora_targets)
    profile = training_stack(stack, shape, optimizer)  # with the stack's recipe for the model (noted), --optimizer
    order = order or profile.rank_order or DEFAULT_RANK_ORDER
    cluster = Cluster.resolve(system, purpose="LLM training").for_gpus(gpus).placed(gpus)  # the job's rank placement
    sys_spec, accelerator = cluster.system, cluster.accelerator
    profile = sharp_profile(profile, cluster) if sharp else profile  # NCCL CollNet on (`training.collnet`)
    constants = (profile, *_stack_constants(profile))  # (its note, band class, split rule; read again if it changes)
    notes: list[str] = [constants[1]] if constants[1] else []
    sole_notes: list[str] = []
    if schedule is None and vpp is None:  # a framework with one schedule runs it (deepseek-v3: DualPipe)
        schedule, sole_notes = sole_schedule(profile, pp)
        notes += sole_notes
    if vpp is None:
        vpp, chosen = default_virtual_stages(shape, profile, schedule, gpus, tp, pp, cp, dp, global_batch, micro_batch)
        notes += chosen
    if offload_layers:  # Megatron-Core's conditions (`check_offload`), the stack offloading N layers
        profile, offload_notes = with_offload(shape, profile, offload_layers, pp, recompute, ep)
        notes = [*notes, *offload_notes]
    if zero is None:  # what the stack runs when none is set, said
        zero, zero_note = default_zero(profile, pp)
        notes += [zero_note] if zero_note else []
    auto = recompute == RECOMPUTE_AUTO
    try:
        plan = resolve_plan(shape, cluster, gpus, tp, pp, dp, cp, ep, vpp, seq_len, global_batch,
                            micro_batch, "none" if auto else recompute, zero, dtype, attention, order,
                            sequence_parallel, schedule, etp, pipeline_extra_layers(profile),
                            micro_batch_rules(profile), expert_split(profile), expert_layout(profile),
                            constants[3] if constants[0] is profile else _stack_constants(profile)[2])
    except InputError as error:  # the stack's one schedule refuses the plan: say it was not asked for
        if not sole_notes:
            raise
        raise InputError(f"{error} (no --schedule: stack {profile.name} ships only {schedule}; --schedule 1f1b "
                         "prices the plan outside the stack)") from None
    refuse_framework(shape, plan, profile, lora)  # a plan its libraries raise on (fp8 MLA at CP > 1, ...)
    if zero_shard is not None:  # hybrid sharding (`training.hybrid_shard`), checked on the resolved DP and ZeRO
        fields = dict(zip(PLAN_FIELDS, plan.row_key, strict=True))
        stage, dp_ranks, cp_ranks = fields["zero"], fields["dp"], fields["cp"]
        shard = zero_shard_ranks(shape, profile, stage, dp_ranks, cp_ranks, zero_shard)
        if shard:
            plan = PlanArrays.one_plan(**{**fields, "zero_shard": shard})
            notes.append(zero_shard_note(profile, stage, dp_ranks, cp_ranks, shard))
    if recompute_layers:
        if auto or recompute != "full":
            raise InputError("--recompute-layers (block recompute of k layers per model chunk) needs --recompute full, "
                             f"got --recompute-layers {recompute_layers} with --recompute {recompute}")
        plan = replace(plan, recompute_layers=np.array([recompute_layers], dtype=np.int64))
        check_single_plan(shape, plan, gpus, pipeline_extra_layers(profile), micro_batch_rules(profile),
                          expert_split(profile), pipeline_split_rule(profile))
    if auto:
        plan, note = auto_recompute(shape, cluster, plan, profile, lora, memory_margin)
        notes.append(note)
    notes += request_notes(shape, sys_spec.node.scale_up_domain, tp, seq_len)  # (reads the sequence length)
    notes += tp_crossing_notes(tp, cluster.fabric.placement_unit, sys_spec.node.scale_up_domain,
                               accelerator.device_word, cp)  # TP / CP groups across a domain edge (hW76)
    notes += placed_plan_notes(shape, profile, cluster, plan, pp, dtype, gpus, stack, zero, sharp)  # (kept)
    higher = higher_precisions(plan, accelerator)  # the same plan in each wider format, said where one is faster
    twins = tuple((d, dtype_twin(plan, d)) for d in higher) if higher else ()
    bands = constants[2] if constants[0] is profile else _stack_constants(profile)[1]
    return TrainingPoint(shape, profile, cluster, plan, tuple(notes), twins, bands)


def finish_training(point: TrainingPoint, values: Mapping[str, Any],
                    twin_values: Mapping[str, Mapping[str, Any]], lora: LoraSpec | None = None) -> TrainingEstimate:
    """The TrainingEstimate of a resolved point from its outputs `values` and its twins' (`evaluate_plans` keys,
    `twin_values` by dtype): the slower-precision note, the offloaded layers, the error band and the MFU flag;
    `lora`: a frozen base's fields (`frozen_base`; no pre-training MFU ceiling: another FLOP count)."""
    plan, profile, accelerator = point.plan, point.profile, point.cluster.accelerator
    slower = slower_precision_note(values, plan_dtype(plan), twin_values) if twin_values else None  # (`dtype_twin`)
    notes = [*point.notes, slower] if slower else list(point.notes)
    row = row_fields(values, plan, 0, accelerator.memory_bytes)
    if profile.cpu_offload_layers:  # the layers this plan offloads (0 where Megatron-Core would not)
        offloaded = offloaded_layers(profile, plan.one_row if plan.is_one else plan, float(point.shape.num_layers))
        row["config"] = {**row["config"], "offload_layers": int(np.ravel(offloaded)[0])}
    bands = point.bands  # (`band_stack`)
    convention = flop_convention_note(row["mfu"], row["hfu"], row["executed_flops_utilisation"])
    notes += [convention] if convention else []  # an MFU above 100 % said, not shown silently
    family = accelerator.catalog_name
    ceiling = mfu_ceiling(family, bands, row["config"]["dtype"]) if lora is None else None
    if lora is not None:
        row.update(lora_rank=lora.rank, lora_targets=lora.targets, mfu_flop_convention=FLOP_CONVENTION,
                   trainable_params_count=trainable_params(point.shape, point.plan.one_row, lora))
        notes += [lora_note(lora), *rank_notes(point.shape, lora)]  # (a rank above a projection's narrow side)
    # the ceiling's FLOP convention: the causal ratio read only for a figure counted with the causal half
    causal = (float(causal_flops_ratio(point.shape, row["config"]["seq_len"]))
              if ceiling is not None and ceiling.flop_convention == "causal_scores" else 1.0)
    notes += idle_batch_notes(row["config"], row["mfu"], ceiling, causal)  # a batch leaving GPUs idle, as search
    one = plan.one_row if plan.is_one else plan
    notes += host_bound_notes(row["step_time_s"], row["breakdown_s"]["host_exposed"], row["host_exposed_phases_s"],
                              row["cuda_graphs"], profile.name, ungraphed_reason(profile, one))  # (host-bound)
    row.update(error_band=training_band(family, bands, row["config"]["seq_len"]),
               model=point.shape.name, system=point.cluster.system.name, accelerator=accelerator.name,
               parameters=_total_params(point.shape),
               stack=profile.name, optimizer=profile.optimizer, notes=notes,
               dsa_stage="sparse" if point.shape.is_sparse_attention else None,  # (`dsa_warmup`: the other)
               **published_mfu_flag(row["mfu"], ceiling, causal_ratio=causal))
    return TrainingEstimate.model_validate(row)  # (`TrainingEstimate(**row)`'s validation, without the unpacking)


def estimate_training(model: str | TransformerShape, system: str | System | Cluster, gpus: int, tp: int = 1,
                      pp: int = 1, dp: int | None = None, cp: int = 1, ep: int = 1, vpp: int | None = None,
                      seq_len: int = 2048, global_batch: int = 512, micro_batch: int = 1,
                      recompute: str = "none", zero: int | None = None, dtype: str = "bf16",
                      attention: str = "flash", order: str | None = None,
                      sequence_parallel: bool = True, schedule: str | None = None,
                      stack: str | Stack | None = None, etp: int | None = None,
                      recompute_layers: int = 0, offload_layers: int = 0, sharp: bool = False,
                      zero_shard: int | None = None, lora_rank: int | None = None,
                      lora_targets: str | None = None, optimizer: str | None = None,
                      dsa_stage: str = "sparse", memory_margin: float | None = None) -> TrainingEstimate:
    """Estimate one training plan; model and system are preset names, file paths, loaded specs or a Cluster.

    `recompute`: none | selective | full, or "auto": the least recompute that fits leaving `memory_margin` of the
    memory free (else the least that fits; `auto_recompute`, stated in the notes). `memory_margin`: that share of
    the accelerator's memory (`train --memory-margin`; None: 5 %), at which `low_memory_headroom` is flagged too.
    `recompute_layers` k > 0 with full: block recompute of the first k layers of each model chunk.
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
    `zero_shard`: hybrid sharding (`train --zero-shard N`): ZeRO over N of the DP x CP ranks, replicated across the
    groups (`training.hybrid_shard`: the stacks that run it); None or DP x CP: over all of them.
    `lora_rank`: a frozen base with rank-R LoRA adapters on `lora_targets` (`train --lora-rank`, `frozen_base`).
    `optimizer`: adam | muon (`train --optimizer`, `training.optimizers`); None: the stack's (its model recipe's).
    `dsa_stage`: sparse | warmup (`train --dsa-stage`): a DeepSeek Sparse Attention model's training stage, the
    dense warm-up training its indexer alone (`training.dsa_warmup`); one line on a model without the indexer.

    The point is resolved by `resolve_training` and finished by `finish_training`, as the sweep's batched `train`
    does (`sweep.functions.train_batch`): one answer either way.
    """
    # DSA's dense warm-up (`training.dsa_warmup`): a stage the model cannot run is one line before any pricing
    shape = model if isinstance(model, TransformerShape) else load_model(model)  # (not text: one line, hK66)
    warmup = check_stage(shape, dsa_stage, lora_rank is not None)
    point = resolve_training(shape, system, gpus, tp, pp, dp, cp, ep, vpp, seq_len, global_batch, micro_batch,
                             recompute, zero, dtype, attention, order, sequence_parallel, schedule, stack, etp,
                             recompute_layers, offload_layers, sharp, zero_shard, lora_rank, lora_targets, optimizer,
                             memory_margin)
    shape, cluster, profile = point.shape, point.cluster, point.profile
    if warmup:
        estimate = warmup_estimate(point, finish_training(point, warmup_outputs(point), {}))
    else:
        lora = lora_of(shape, lora_rank, lora_targets)
        estimate = finish_training(point, _outputs(shape, cluster, point.plan, profile, lora),
                                   {d: _outputs(shape, cluster, twin, profile, lora) for d, twin in point.twins}, lora)
    if memory_margin is None:  # (the default margin's flag, as finished; at another, the flag `search
        return estimate  # --memory-margin` gives the plan, so a row's train_command reruns it: hC70)
    return estimate.model_copy(update=memory_headroom_flag(estimate.memory_per_gpu_bytes,
                                                           estimate.memory_capacity_bytes,
                                                           check_memory_margin(memory_margin)))


def _outputs(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack,
             lora: LoraSpec | None = None) -> Mapping[str, Any]:
    """A single estimate's outputs (`one_plan_outputs`: always, unless a caller's plan is not one)."""
    return (one_plan_outputs(shape, cluster, plan, profile, lora) if plan.is_one
            else {k: v[0] for k, v in evaluate_plans(shape, cluster, plan, profile).items()})


def _stack_constants(profile: Stack) -> tuple[str | None, str, LaidOut | None]:
    """(`recipe_note`, `band_stack`, `pipeline_split_rule`) of a stack, kept by its identity (frozen; the entry holds
    it, so its id is not reused while it is kept): they depend on nothing of the plan, and a single estimate asks for
    all three (the split rule's layouts parsed ~4 us an estimate before; hS73)."""
    kept = _STACK_CONSTANTS.get(profile)
    if kept is not None:
        return kept
    return _STACK_CONSTANTS.put(profile, None,
                                (recipe_note(profile), band_stack(profile), pipeline_split_rule(profile)))


_STACK_CONSTANTS: IdentityMemo[tuple[str | None, str, LaidOut | None]] = IdentityMemo(64)


def _total_params(shape: TransformerShape) -> int:
    """`shape.total_params()` as an int, kept by the model's identity (a constant of the model, not of the plan;
    the entry holds the model, so its id is not reused while it is kept)."""
    kept = _TOTAL_PARAMS.get(shape)
    if kept is not None:
        return kept
    return _TOTAL_PARAMS.put(shape, None, int(shape.total_params()))


_TOTAL_PARAMS: IdentityMemo[int] = IdentityMemo(256)
