"""LLM training performance: parallel plans, memory, step time, FLOPs accounting, estimates.

The package's exports load on first use (PEP 562), so `infraplan.training.enums` (the CLI's and the web's
choices) imports without numpy or the models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infraplan.training.estimate import estimate_training, evaluate_plans
    from infraplan.training.plan import PlanArrays

__all__ = ["PlanArrays", "estimate_training", "evaluate_plans"]


def __getattr__(name: str) -> Any:
    if name in ("estimate_training", "evaluate_plans"):
        from infraplan.training import estimate

        return getattr(estimate, name)
    if name == "PlanArrays":
        from infraplan.training.plan import PlanArrays

        return PlanArrays
    raise AttributeError(f"module 'infraplan.training' has no attribute {name!r}")
