"""Typed result of `infraplan validate` (`validation.runner.run_validation`): every model against published cases.

Field names are the JSON `--json` has always printed. Errors are fractions (predicted / published - 1). The
training table has one row shape (`TrainingCase`); the other layers' sections (network, inference, custom
silicon, facility) share `SectionCase`, whose layer-specific fields appear only where that layer sets them.
Every case names the software stack it ran (`stack`, issue 12 item 2; hT, session 62): a shipped profile of
catalog/stacks by name, or a stack file of the validation sets by its name (`validation/data/stacks/*.yaml`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infraplan.results import Result, SparseResult
from infraplan.training.results import PlanConfig


class TrainingCase(Result):
    """One published training case: the metric, published and predicted, and the plan used."""

    id: str = Field(description="case id")
    metric: str = Field(description="metric compared (model_tflops_per_gpu, hardware_tflops_per_gpu, mfu, ...)")
    published: float = Field(description="published value, in the metric's unit")
    predicted: float = Field(description="predicted value, in the metric's unit")
    error: float = Field(description="predicted / published - 1 (fraction)")
    predicted_mfu: float = Field(description="model FLOPs utilisation of the predicted run (fraction)")
    plan_source: str = Field(description="assumed (published plan) | search (our best plan)")
    plan: PlanConfig = Field(description="the plan evaluated")
    stack: str = Field(description="software-stack profile the case ran (catalog/stacks; the case file's `stack`)")
    gated: bool = Field(description="counts toward the gate (no known gap)")
    known_gap: str | None = Field(description="why the case is not gated")
    source: str = Field(description="where the published value comes from")


class Gate(Result):
    """The gate on |error| (fractions)."""

    mean: float = Field(description="largest allowed mean |error| (fraction)")
    max: float = Field(description="largest allowed |error| of one case (fraction)")


class TrainingSummary(Result):
    """Mean and max |error| of the training cases, gated and all."""

    gated_cases: int = Field(description="gated cases (count)")
    mean_abs_error: float = Field(description="mean |error| of gated cases (fraction)")
    max_abs_error: float = Field(description="max |error| of gated cases (fraction)")
    all_cases: int = Field(description="cases (count)")
    mean_abs_error_all: float = Field(description="mean |error| of every case (fraction)")
    max_abs_error_all: float = Field(description="max |error| of every case (fraction)")
    gate: Gate = Field(description="the gate")
    passes_gate: bool = Field(description="the gated errors are within the gate")


class PlanRanking(Result):
    """Predicted vs measured step times of the vTrain single-node A100 plans."""

    cases: int = Field(description="plans compared (count)")
    spearman: float = Field(description="Spearman rank correlation")
    median_predicted_over_measured: float = Field(description="median predicted / measured step time (ratio)")
    mean_abs_error: float = Field(description="mean |predicted / measured - 1| (fraction)")


class ValidationSet(SparseResult):
    """One validation set: the model's |error| next to the best constant baseline fitted to the set itself."""

    name: str = Field(description="set name")
    kind: str = Field(description="training | serving")
    cases: int = Field(description="cases run (count)")
    mean_abs_error: float = Field(description="model: mean |predicted / published - 1| (fraction)")
    max_abs_error: float = Field(description="model: max |predicted / published - 1| (fraction)")
    baseline: str = Field(description="the constant baseline: constant MFU (training), fitted-efficiency roofline")
    baseline_constant: float = Field(description="the fitted constant (MFU, or its inverse for times; unitless)")
    baseline_mean_abs_error: float = Field(description="baseline: mean |error| on the set (fraction)")
    baseline_max_abs_error: float = Field(description="baseline: max |error| on the set (fraction)")
    gate_mean_abs_error: float = Field(description="largest allowed model mean |error| (fraction)")
    beats_baseline: bool = Field(description="model mean |error| < baseline mean |error|")
    passes_gate: bool = Field(description="within the gate and better than the baseline (and the set's own gates)")
    awaiting: list[str] = Field(description="rows of the source the model cannot express yet, and why")
    median_predicted_over_measured: float | None = Field(None, description="vTrain: median ratio (unitless)")
    spearman: float | None = Field(None, description="vTrain: Spearman rank correlation")


class SectionCase(SparseResult):
    """One published case of another layer; fields other than the common ones depend on the layer."""

    id: str = Field(description="case id")
    kind: str | None = Field(None, description="custom silicon: ratio | direction")
    metric: str | None = Field(None, description="metric compared, with its unit")
    scenario: str | None = Field(None, description="inference: offline | server")
    published: float | str | None = Field(None, description="published value (text for a direction case)")
    published_value: float | None = Field(None, description="custom silicon: the published ratio")
    predicted: float | None = Field(None, description="predicted value, in the metric's unit")
    error: float | None = Field(None, description="predicted / published - 1 (fraction)")
    deployment: dict[str, Any] | None = Field(None, description="inference: the deployment simulated")
    detail: dict[str, Any] | None = Field(None, description="case-specific intermediate values")
    source: str | None = Field(None, description="where the published value comes from")
    tolerance: float | None = Field(None, description="allowed |error| (fraction)")
    bound: str | None = Field(None, description="facility: which side of the published value must hold")
    pass_range: list[float | None] | None = Field(None, description="custom silicon: [low, high) of a direction case")
    gated: bool | None = Field(None, description="counts toward the gate")
    known_gap: str | None = Field(None, description="why the case is not gated")
    assumed: str | None = Field(None, description="inference: what the case assumes")
    passed: bool | None = Field(None, description="custom silicon: within tolerance / range")
    passes: bool | None = Field(None, description="facility: within tolerance")
    bottleneck_tier: str | None = Field(None, description="network: the tier that bounds the collective")
    stack: str | None = Field(description=(
        "software stack the case ran: serving and inference cases the serving-stack profile (a catalog/stacks name, "
        "or a `.yaml` file of validation/data/stacks/); a case that aggregates rows (serving hopper: one per "
        "campaign) the stack its rows ran, \"mixed: A, B\" where they differ; recsys MLPerf the engine its rows "
        "name (tensorrt-10.8); null where the layer models no software stack (network, custom silicon, facility)"))


class ValidationSection(SparseResult):
    """One layer's published cases and its summary (fields of the summary depend on the layer)."""

    cases: list[SectionCase] = Field(description="case rows")
    summary: dict[str, Any] = Field(description="mean/max |error| (fractions), counts and gate of the layer")
    phase_times: dict[str, Any] | None = Field(None, description="inference: prefill/decode phase-time check")


class ValidationReport(SparseResult):
    """`infraplan validate`: the training cases, their summary, the plan ranking and the other layers."""

    cases: list[TrainingCase] = Field(description="training case rows")
    summary: TrainingSummary = Field(description="training summary and gate")
    plan_ranking: PlanRanking | None = Field(None, description="plan-ranking check (vTrain)")
    sets: list[ValidationSet] | None = Field(None, description="each validation set vs its constant baseline")
    sections: dict[str, ValidationSection] | None = Field(None, description="other layers by name")
