"""Training plan outputs: the array evaluator the search uses (`evaluate_plans`) and its one-plan float path.

`evaluate_plans` is the one implementation: step time (`training.step_time`), rates, MFU / HFU and memory per GPU
by term for every plan as arrays (MFU / HFU in `training.flops.MODEL_FLOP_CONVENTION`, beside the executed
FLOPs' utilisation); a single estimate's plan (`PlanArrays.is_one`) goes through the same formulas on
its Python numbers (`one_plan_outputs`), kept in the one-plan memo. Moved from training/estimate.py (hP13, session
38), which re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.ops.precision import RECIPES
from infraplan.training.cuda_graph_rule import graphed
from infraplan.training.enums import Dtype
from infraplan.training.flops import (
    executed_flops_per_step,
    forward_flops_per_token_layer,
    hardware_flops_per_step,
    model_flops_per_step,
)
from infraplan.training.frozen_base import LoraSpec, frozen_model_flops_per_step
from infraplan.training.frozen_traffic import frozen_memory
from infraplan.training.memory import memory_breakdown
from infraplan.training.one_plan_memo import PLAN_FIELDS, cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.stack_limits import rank_order
from infraplan.training.step_time import balanced_split, one_plan_step_time, step_time

MEMORY_TERMS = ("weights", "gradients", "optimizer", "activations", "overhead")
_MEMORY_KEYS = tuple((k, f"mem_{k}") for k in MEMORY_TERMS)  # (term, its `evaluate_plans` key)


def memory_sum(memory: Mapping[str, Any]) -> Any:
    """The memory terms summed in `MEMORY_TERMS` order: the same float sum for one plan's Python numbers or a grid's
    arrays (`plan_memory`, and the LoRA and DSA warm-up searches' totals)."""
    total = memory[MEMORY_TERMS[0]]
    for k in MEMORY_TERMS[1:]:
        total = total + memory[k]
    return total


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
                stack: Stack | None = None, lora: LoraSpec | None = None) -> dict[str, np.ndarray]:
    """Memory per GPU by term (`mem_*`), its total and whether it fits; element-wise in the plan fields.
    `stack`: its selective-recompute modules and fp8 activation cache (None: the default training stack); a balanced
    split's stages as the step time splits them (`step_time.balanced_split`). `lora`: a frozen base's
    (`frozen_traffic.frozen_memory`, as `_evaluate_one` prices it: `--recompute auto` under --lora-rank)."""
    # its rank order where it names none (`enums.STACK_ORDER`): the stack's (None: the default training stack's)
    plan = plan.with_expert_layout(None, rank_order(stack or resolve_stack(None, "training")))
    split = None if stack is None else balanced_split(shape, cluster, plan, stack)
    memory = memory_breakdown(shape, plan, stack, split)
    if lora is not None:  # the adapters' gradients and optimizer states alone
        memory = frozen_memory(memory, shape, plan, lora)
    out = {f"mem_{k}": memory[k] for k in MEMORY_TERMS}
    total = memory_sum(memory)  # in order: the same float sum for one plan or a grid of them
    out["memory_per_gpu_bytes"] = total
    out["fits"] = total <= cluster.accelerator.memory_bytes
    return out


def one_plan_memory(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, stack: Stack,
                    lora: LoraSpec | None = None) -> float:
    """`plan_memory`'s memory per GPU of one plan (`PlanArrays.is_one`), on its Python numbers: `_evaluate_one`'s
    terms and float sum, the bits of its row (tests/training/test_one_plan_float_path.py), without the step time.
    `lora`: a frozen base's (`frozen_traffic.frozen_memory`)."""
    memory = memory_breakdown(shape, plan.one_row, stack, balanced_split(shape, cluster, plan, stack))
    if lora is not None:
        memory = frozen_memory(memory, shape, plan.one_row, lora)
    total = 0.0
    for i, (k, _) in enumerate(_MEMORY_KEYS):  # in order: `plan_memory`'s float sum
        term = float(memory[k])
        total = term if i == 0 else total + term
    return total


def evaluate_plans(shape: TransformerShape, cluster: Cluster,
                   plan: PlanArrays, stack: str | Stack | None = None) -> dict[str, np.ndarray]:
    """Every output metric for every plan, as arrays, under one software stack (None: the default).

    One plan (`PlanArrays.is_one`) is priced on Python floats and looked up in the cluster and stack's one-plan
    memo first (`one_plan_outputs`), so sweeps and the scenario planner repeating plans pay a lookup.
    """
    profile = resolve_stack(stack, "training", recipe_key(shape))
    plan = plan.with_expert_layout(None, rank_order(profile))  # its rank order: the stack's where none (hN53)
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
                     profile: Stack, lora: LoraSpec | None = None) -> dict[str, float | bool]:
    """`evaluate_plans` of a single estimate's plan (`PlanArrays.is_one`) as Python floats (`fits` a bool): the
    same formulas on its plain numbers, the bits of its row in a grid (tests/training/test_one_plan_float_path.py),
    kept in the one-plan memo (`training.one_plan_memo`). `lora`: a frozen base's (`frozen_base`; not kept)."""
    if lora is not None:
        return _evaluate_one(shape, cluster, plan, profile, lora)
    return cluster_pricing(cluster, profile).memoised(
        "plan", shape, PLAN_FIELDS, lambda p: _evaluate_one(shape, cluster, p, profile))(plan)


def _evaluate_one(shape: TransformerShape, cluster: Cluster, plan: PlanArrays,
                  profile: Stack, lora: LoraSpec | None = None) -> dict[str, float | bool]:
    """`one_plan_outputs` without the memo: `_evaluate`'s formulas on the plan's Python numbers."""
    out: dict[str, float | bool] = one_plan_step_time(shape, cluster, plan, profile, lora=lora)  # (fresh floats)
    p = plan.one_row
    gpus = float(p.gpus)
    t = out["step_time_s"]
    peak = _peak_floats(cluster)[p.dtype]
    out["tokens_per_s"] = float(p.global_batch * p.seq_len) / t
    out["tokens_per_s_per_gpu"] = out["tokens_per_s"] / gpus
    forward = forward_flops_per_token_layer(shape, p.seq_len)  # (for both counts)
    model_flops = model_flops_per_step(shape, p, forward)
    if lora is not None:  # Megatron-Bridge's LoRA count (`frozen_base.FLOP_CONVENTION`)
        model_flops = frozen_model_flops_per_step(shape, p, forward[0], float(forward[1]))
    out["model_tflops_per_gpu"] = float(model_flops / (t * gpus) / 1e12)  # `model_tflops_per_gpu`
    out["mfu"] = out["model_tflops_per_gpu"] * 1e12 / peak
    out["hfu"] = float(hardware_flops_per_step(shape, p, model_flops, forward) / (t * gpus) / peak)
    out["executed_flops_utilisation"] = float(executed_flops_per_step(shape, p, profile) / (t * gpus) / peak)
    memory = memory_breakdown(shape, p, profile, balanced_split(shape, cluster, plan, profile))
    if lora is not None:  # the adapters' gradients and optimizer states alone
        memory = frozen_memory(memory, shape, p, lora)
    total = 0.0
    for i, (k, key) in enumerate(_MEMORY_KEYS):  # in order: `plan_memory`'s float sum
        out[key] = term = float(memory[k])
        total = term if i == 0 else total + term
    out["memory_per_gpu_bytes"] = total
    out["fits"] = total <= cluster.accelerator.memory_bytes
    out["cuda_graphs"] = bool(graphed(profile, p))  # (the plan's CUDA graphs: `cuda_graph_rule`, hT70)
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
    rates["executed_flops_utilisation"] = executed_flops_per_step(shape, plan, profile) / (t * gpus) / peak
    out.update({k: np.asarray(v) for k, v in rates.items()})
    out.update(plan_memory(shape, cluster, plan, profile))
    out["cuda_graphs"] = np.broadcast_to(graphed(profile, plan), np.shape(t)).copy()
    return out
