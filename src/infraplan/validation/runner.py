"""Run the published training cases through the model and report the error.

Each case names a model, a system, a plan (or `plan_source: search`, when the source publishes none:
the model's own best plan under the published GPUs, batch and dtype, ranked by the search guard with the case's
own measurement left out of the published-MFU ceilings), the published metric and its convention. A model-FLOP
metric (`model_tflops_per_gpu`, `mfu`) is counted in `training.flops.MODEL_FLOP_CONVENTION` (full s x s scores)
unless the case states `flop_convention: causal_scores` (the source counts the causal half of the scores: the
metric and the MFU are then the model's times `causal_flops_ratio`, the same run in the source's count, as the
search guard compares published figures). One set of catalog parameters serves every case; there are no per-case
factors.
A case whose published rate counts in-run evaluations (MLPerf Training: run_start to run_stop) states them,
`evaluation: {interval_samples, eval_samples}`: an evaluation of eval_samples sequences, forward only at the case's
plan (`training.evaluation`), after every ceil(interval_samples / global batch) steps, and the predicted rate is
the training steps' times their share of that wall clock (`IN_RUN_EVALUATION`; hM, session 55).
The gate: mean absolute error <= 10 % and every case <= 20 %, over the cases without a `known_gap`.

`plan_ranking` checks plan ordering on 1,440 measured single-node A100 iteration times (vTrain data):
Spearman rank correlation of predicted and measured step time.
"""

from __future__ import annotations

import copy
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from infraplan.catalog import load_model
from infraplan.catalog.error_bands import Residual
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster import Cluster
from infraplan.serving.loop_stepping import kept_cost_tables
from infraplan.training.ep_choice import EVERY_EP
from infraplan.training.estimate import estimate_training
from infraplan.training.evaluation import evaluation_s, plan_point, with_evaluation_rate
from infraplan.training.flops import causal_flops_ratio
from infraplan.training.results import PlanMetrics
from infraplan.training.search import search_plans
from infraplan.validation.results import (
    Gate,
    PlanRanking,
    TrainingCase,
    TrainingSummary,
    ValidationReport,
    ValidationSection,
    ValidationSet,
)

# price a case's stated in-run evaluations (`evaluation:`) in its predicted rate; False: the training steps alone
IN_RUN_EVALUATION = True
GATE_MEAN_ERROR = 0.10
GATE_MAX_ERROR = 0.20


def load_cases() -> list[dict[str, Any]]:
    """The training cases (each call gets its own copy of the file parsed once per process)."""
    return copy.deepcopy(_parsed_cases())


@cache
def _parsed_cases() -> list[dict[str, Any]]:
    text = (resources.files("infraplan.validation") / "cases" / "training.yaml").read_text()
    return safe_load_yaml(text)["cases"]


CONVENTION_METRICS = ("model_tflops_per_gpu", "mfu")  # the metrics a case's `flop_convention` re-counts


def case_flop_ratio(case: dict[str, Any]) -> float:
    """The case's model FLOPs over the model's convention (`MODEL_FLOP_CONVENTION`): 1 unless the case states
    `flop_convention: causal_scores` (then `causal_flops_ratio` of its model and sequence)."""
    convention = case.get("flop_convention", "full_scores")
    if convention == "full_scores":
        return 1.0
    if convention != "causal_scores" or case["metric"] not in CONVENTION_METRICS:
        raise ValueError(f"validation case {case['id']}: flop_convention {convention!r} on metric {case['metric']!r}"
                         f" (full_scores | causal_scores, on {' | '.join(CONVENTION_METRICS)})")
    return float(causal_flops_ratio(load_model(case["model"]), case["plan"]["seq_len"]))


def _metric(case: dict[str, Any], result: PlanMetrics) -> float:
    metric = case["metric"]
    if metric == "hardware_tflops_per_gpu":
        peak = Cluster.resolve(case["system"]).accelerator.peak(result.config.dtype)
        return result.hfu * peak / 1e12
    return float(getattr(result, metric)) * case_flop_ratio(case)


def run_case(case: dict[str, Any]) -> TrainingCase:
    plan = dict(case["plan"])
    result: PlanMetrics | None
    if case["plan_source"] == "search":
        found = search_plans(case["model"], case["system"], case["gpus"], plan["seq_len"], plan["global_batch"],
                             dtype=plan.get("dtype", "auto"), top=1, stack=case.get("stack"),
                             leave_out=(case["id"],),  # its own measurement is not its MFU ceiling
                             ep_mask=EVERY_EP,  # (the best alone is read: no EP line, `training.ep_choice`,
                             compare_dtypes=False)  # nor the other precisions' best)
        result, stack = found.best, found.stack
        if result is None:
            raise ValueError(f"validation case {case['id']}: no plan fits ({found.reason})")
    else:
        # a case that states no interleave ran Megatron's default: no interleaving (virtual_pipeline_model_parallel_size
        # None, Megatron-LM megatron/training/arguments.py), so vpp 1, not the interleave `train` would choose
        plan.setdefault("vpp", 1)
        estimate = estimate_training(case["model"], case["system"], case["gpus"], **plan, stack=case.get("stack"))
        result, stack = estimate, estimate.stack
    predicted = _metric(case, result)
    if IN_RUN_EVALUATION and "evaluation" in case:  # the run's wall clock evaluates too (every metric is a rate)
        predicted *= _training_share(case, result)
    return TrainingCase(
        id=case["id"], metric=case["metric"], published=case["published"], predicted=predicted,
        error=predicted / case["published"] - 1.0, predicted_mfu=result.mfu * case_flop_ratio(case),
        plan_source=case["plan_source"],
        plan=result.config, stack=stack, gated="known_gap" not in case, known_gap=case.get("known_gap"),
        source=case["source"],
    )


def _training_share(case: dict[str, Any], result: PlanMetrics) -> float:
    """The share of the case's wall clock that trains: its steps against its evaluations
    (`evaluation.with_evaluation_rate`), at the plan it was priced on (a searched case's found plan)."""
    evaluation, c = case["evaluation"], result.config
    point = plan_point(case["model"], case["system"], c, stack=case.get("stack"))
    return with_evaluation_rate(result.step_time_s, c.global_batch,
                                evaluation_s(point, evaluation["eval_samples"]), evaluation["interval_samples"])


def plan_ranking() -> PlanRanking:
    """Spearman correlation between predicted and measured step times on the vTrain A100 data, run as vTrain
    ran it (full recompute, unfused attention, 800 Gb/s per node: `validation.sets.vtrain_predictions`)."""
    from infraplan.validation.sets import vtrain_predictions

    predicted, measured, _ = vtrain_predictions()
    rows = predicted
    predicted_a, measured_a = np.array(predicted), np.array(measured)
    ratio = predicted_a / measured_a
    return PlanRanking(
        cases=len(rows), spearman=float(spearmanr(predicted_a, measured_a).statistic),
        median_predicted_over_measured=float(np.median(ratio)),
        mean_abs_error=float(np.mean(np.abs(ratio - 1.0))),
    )


# Other layers' validation: (section, module, function); each returns {"cases": [...], "summary": {...}}
SECTIONS = (
    ("network", "infraplan.validation.network", "run_network_validation"),
    ("inference", "infraplan.validation.inference", "run_inference_validation"),
    ("inference frontier (MLPerf v5.1)", "infraplan.validation.inference_frontier",
     "run_frontier_inference_validation"),
    ("serving hopper (closed loop)", "infraplan.validation.serving_hopper_report", "run_serving_hopper_validation"),
    ("custom silicon", "infraplan.validation.silicon", "run_silicon_validation"),
    ("recsys MLPerf DLRM-v2 (8x H200)", "infraplan.validation.recsys_mlperf", "run_recsys_mlperf_validation"),
    ("facility", "infraplan.validation.facility", "run_facility_validation"),
)


@kept_cost_tables()  # the serving sections and sets rerun engines on the same costs (`serving.loop_stepping`)
def run_sections() -> dict[str, ValidationSection]:
    """Every other layer's published cases (facility, network, inference, custom silicon); a case whose layer
    names no software stack has `stack` null (`results.SectionCase.stack`)."""
    import importlib

    sections = {name: getattr(importlib.import_module(module), function)() for name, module, function in SECTIONS}
    return {name: ValidationSection.model_validate(
                {**section, "cases": [{"stack": None, **case} for case in section["cases"]]})
            for name, section in sections.items()}


@kept_cost_tables()
def validation_sets(rows: list[TrainingCase]) -> list[tuple[ValidationSet, list[Residual]]]:
    """Every validation set scored against its constant baseline, with its residuals (`validation.sets`)."""
    from infraplan.validation import sets
    from infraplan.validation.inference_frontier import frontier_inference_set

    return [sets.training_case_set(rows, load_cases()), sets.vtrain_set(), sets.frontier_set(),
            *sets.extra_sets(), frontier_inference_set()]


@cache
def case_rows() -> tuple[TrainingCase, ...]:
    """Every training case's row, computed once per process (the report and the error bands share it)."""
    return tuple(run_case(case) for case in load_cases())


@cache
def scored_sets() -> tuple[tuple[ValidationSet, list[Residual]], ...]:
    """Every validation set scored on `case_rows`, once per process: the report's `sets` and the residuals of
    the error bands (`validation.bands`); `bands.write_error_bands` clears both caches with the report's."""
    return tuple(validation_sets(list(case_rows())))


@cache
def run_validation(include_ranking: bool = True, include_sections: bool = True) -> ValidationReport:
    """Every published case through the model; cached per process (the report is frozen and depends only on
    the packaged catalog; `bands.write_error_bands` clears it after rewriting the error bands)."""
    rows = list(case_rows())
    gated = [abs(r.error) for r in rows if r.gated]
    every = [abs(r.error) for r in rows]
    mean, worst = float(np.mean(gated)), float(np.max(gated))
    summary = TrainingSummary(
        gated_cases=len(gated), mean_abs_error=mean, max_abs_error=worst, all_cases=len(every),
        mean_abs_error_all=float(np.mean(every)), max_abs_error_all=float(np.max(every)),
        gate=Gate(mean=GATE_MEAN_ERROR, max=GATE_MAX_ERROR),
        passes_gate=mean <= GATE_MEAN_ERROR and worst <= GATE_MAX_ERROR,
    )
    extra: dict[str, Any] = {}  # left out of the JSON when not asked for
    if include_ranking:
        extra["plan_ranking"] = plan_ranking()
        extra["sets"] = [found for found, _ in scored_sets()]
    if include_sections:
        extra["sections"] = run_sections()
    return ValidationReport(cases=rows, summary=summary, **extra)
