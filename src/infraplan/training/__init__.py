"""LLM training performance: parallel plans, memory, step time, FLOPs accounting, estimates."""

from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.plan import PlanArrays

__all__ = ["PlanArrays", "estimate_training", "evaluate_plans"]
