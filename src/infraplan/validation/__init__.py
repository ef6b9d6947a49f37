"""Validation against published measurements: the cases (data), the runner and the error report."""

from infraplan.validation.runner import (
    GATE_MAX_ERROR,
    GATE_MEAN_ERROR,
    load_cases,
    plan_ranking,
    run_validation,
)

__all__ = ["GATE_MAX_ERROR", "GATE_MEAN_ERROR", "load_cases", "plan_ranking", "run_validation"]
