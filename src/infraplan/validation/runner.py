"""Run the published training cases through the model and report the error.

Each case names a model, a system, a plan (or `plan_source: search`, when the source publishes none:
the model's own best plan under the published GPUs, batch and dtype), the published metric and its
convention. One set of catalog parameters serves every case; there are no per-case factors.
The gate: mean absolute error <= 10 % and every case <= 20 %, over the cases without a `known_gap`.

`plan_ranking` checks plan ordering on 1,440 measured single-node A100 iteration times (vTrain data):
Spearman rank correlation of predicted and measured step time.
"""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import numpy as np
import yaml
from scipy.stats import spearmanr

from infraplan.catalog import shape_from_hf_config
from infraplan.cluster import Cluster
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays
from infraplan.training.results import PlanMetrics
from infraplan.training.search import search_plans
from infraplan.validation.results import (
    Gate,
    PlanRanking,
    TrainingCase,
    TrainingSummary,
    ValidationReport,
    ValidationSection,
)

GATE_MEAN_ERROR = 0.10
GATE_MAX_ERROR = 0.20


def load_cases() -> list[dict[str, Any]]:
    text = (resources.files("infraplan.validation") / "cases" / "training.yaml").read_text()
    return yaml.safe_load(text)["cases"]


def _metric(case: dict[str, Any], result: PlanMetrics) -> float:
    metric = case["metric"]
    if metric == "hardware_tflops_per_gpu":
        peak = Cluster.resolve(case["system"]).accelerator.peak(result.config.dtype)
        return result.hfu * peak / 1e12
    return float(getattr(result, metric))


def run_case(case: dict[str, Any]) -> TrainingCase:
    plan = dict(case["plan"])
    result: PlanMetrics | None
    if case["plan_source"] == "search":
        found = search_plans(case["model"], case["system"], case["gpus"], plan["seq_len"], plan["global_batch"],
                             dtype=plan.get("dtype", "auto"), top=1)
        result = found.best
        if result is None:
            raise ValueError(f"validation case {case['id']}: no plan fits ({found.reason})")
    else:
        result = estimate_training(case["model"], case["system"], case["gpus"], **plan)
    predicted = _metric(case, result)
    return TrainingCase(
        id=case["id"], metric=case["metric"], published=case["published"], predicted=predicted,
        error=predicted / case["published"] - 1.0, plan_source=case["plan_source"],
        plan=result.config, gated="known_gap" not in case, known_gap=case.get("known_gap"),
        source=case["source"],
    )


def plan_ranking() -> PlanRanking:
    """Spearman correlation between predicted and measured step times on the vTrain A100 data."""
    text = (resources.files("infraplan.validation") / "data" / "vtrain_single_node.csv").read_text("utf-8-sig")
    rows = [[float(x) for x in r] for r in list(csv.reader(text.splitlines()))[1:]]
    cluster = Cluster.resolve("dgx-a100-superpod")
    predicted: list[float] = []
    measured: list[float] = []
    by_shape: dict[tuple[int, int, int], list[int]] = {}
    for i, r in enumerate(rows):
        by_shape.setdefault((int(r[3]), int(r[4]), int(r[5])), []).append(i)
    for (hidden, heads, layers), idx in by_shape.items():
        shape = shape_from_hf_config({"model_type": "gpt2", "n_embd": hidden, "n_head": heads, "n_layer": layers,
                                      "vocab_size": 51200, "n_positions": 2048}, f"vtrain-h{hidden}")
        sel = np.array([rows[i] for i in idx])
        plans = PlanArrays.build(tp=sel[:, 7], pp=sel[:, 9], dp=sel[:, 8], cp=1, ep=1, vpp=1,
                                 micro_batch=sel[:, 2], global_batch=sel[:, 1], seq_len=sel[:, 6],
                                 recompute=Recompute.NONE, zero=0, dtype=Dtype.BF16, attention=Attention.UNFUSED,
                                 order=RankOrder.TP_CP_DP_PP)
        predicted.extend(evaluate_plans(shape, cluster, plans)["step_time_s"])
        measured.extend(sel[:, 10] / 1e3)
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
    ("custom silicon", "infraplan.validation.silicon", "run_silicon_validation"),
    ("facility", "infraplan.validation.facility", "run_facility_validation"),
)


def run_sections() -> dict[str, ValidationSection]:
    """Every other layer's published cases (facility, network, inference, custom silicon)."""
    import importlib

    return {name: ValidationSection.model_validate(getattr(importlib.import_module(module), function)())
            for name, module, function in SECTIONS}


def run_validation(include_ranking: bool = True, include_sections: bool = True) -> ValidationReport:
    rows = [run_case(case) for case in load_cases()]
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
    if include_sections:
        extra["sections"] = run_sections()
    return ValidationReport(cases=rows, summary=summary, **extra)
