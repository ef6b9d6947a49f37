"""Per-row bounds for the plan search's branch and bound: step-time floors and memory bounds of a row's plans.

A search row (`axes.RowGrid`) stands for every (virtual stages, schedule) pair of its PP and every ZeRO stage. The
bounds run the single estimate's own model code on the rows alone (or on rows x one broadcast axis) and hold for
every plan of the row, so the search can skip the grid for rows they settle:
* Step time: `step_time.step_time` adds, per step, the micro-batches' stage work (compute, TP/CP/EP collectives,
  element-wise work and exposed host time: set by the row's layer keys and micro-batch count only) and four terms
  that the broadcast axes change and that are never negative (pipeline bubble, p2p chain, exposed DP traffic,
  optimizer). The stage work alone, priced on the row at vpp 1, 1F1B, ZeRO 0, is a floor for every plan of the
  row; a row whose floor exceeds the K-th best step time found cannot place a plan in the top K (Land & Doig 1960,
  branch and bound).
* Memory (`memory.memory_breakdown`): weights + gradients + optimizer depend on the ZeRO stage and on the schedule
  only through its parameter copies c (DualPipe 2, else 1), each term non-decreasing in c and at most c times its
  value at c = 1; activations depend on the (vpp, schedule) pair and not on ZeRO. So the row's smallest state
  bytes at c = 1 plus its smallest activations bound every plan from below, and the largest state bytes times the
  largest c plus the largest activations from above: rows entirely over or entirely within the accelerator's
  memory need no per-plan memory, only a count.
Each bound is widened by `ROUNDING_MARGIN` (relative) over the float rounding of the few additions it reorders, so
the search's answer, scores and counts are bitwise those of pricing every plan (tests/training/test_search_bounds.py).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.memory import RUNTIME_OVERHEAD_BYTES, memory_breakdown
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import step_time

# relative widening of each bound: a sum of <= 9 float64 terms is off its exact value by < 1e-14 relative
ROUNDING_MARGIN = 1e-9
# step-time components that the broadcast axes (vpp, schedule, ZeRO) do not change (`step_time.COMPONENTS`)
STAGE_COMPONENTS = ("compute", "tp_comm", "cp_comm", "ep_comm", "other")


def step_time_floor_s(shape: TransformerShape, cluster: Cluster, rows: PlanArrays, stack: Stack) -> np.ndarray:
    """Per row (1-D rows at vpp 1, 1F1B, ZeRO 0): a lower bound on the step time of each of its plans (seconds)."""
    out = step_time(shape, cluster, rows, stack)
    floor = np.sum([out[k] for k in STAGE_COMPONENTS], axis=0)
    return np.asarray(floor * (1.0 - ROUNDING_MARGIN), dtype=np.float64)


def memory_bounds_bytes(shape: TransformerShape, rows: PlanArrays, least: tuple[np.ndarray, np.ndarray],
                        most: tuple[np.ndarray, np.ndarray], most_copies: np.ndarray,
                        zero: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row: (lower, upper) bounds on the memory per GPU of its valid plans (bytes).

    `rows` 1-D (B rows at 1F1B); `least` and `most`: each row's (vpp, schedule) pair holding the fewest and the
    most micro-batches in flight among its valid pairs; `most_copies` the most parameter copies among them; `zero`
    the ZeRO stages. Activations are in-flight micro-batches x stored bytes + one rebuilt layer + logits, only the
    first factor depending on the pair; block recompute (depth > 0) makes the stored bytes depend on vpp too, so
    such rows get no bounds (0, inf).
    """
    states = memory_breakdown(shape, replace(rows, zero=zero[:, None]))  # (Z, B), one parameter copy
    held = states["weights"] + states["gradients"] + states["optimizer"]
    ends = memory_breakdown(shape, replace(rows, vpp=np.stack([least[0], most[0]]),
                                           schedule=np.stack([least[1], most[1]])))  # (2, B), ZeRO 0
    activations = np.broadcast_to(ends["activations"], (2, len(rows)))
    low = (held.min(axis=0) + activations[0] + RUNTIME_OVERHEAD_BYTES) * (1.0 - ROUNDING_MARGIN)
    high = (most_copies * held.max(axis=0) + activations[1] + RUNTIME_OVERHEAD_BYTES) * (1.0 + ROUNDING_MARGIN)
    block = rows.recompute_layers > 0
    return (np.asarray(np.where(block, 0.0, low), dtype=np.float64),
            np.asarray(np.where(block, np.inf, high), dtype=np.float64))
