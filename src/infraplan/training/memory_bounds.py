"""Memory bounds of the plan search's rows (branch and bound, `training.search_bounds`), per ZeRO stage.

A search row (`row_grid.RowGrid`) stands for every (virtual stages, schedule) pair of its PP and every ZeRO stage. The
memory per GPU (`memory.memory_breakdown`): weights + gradients + optimizer depend on the ZeRO stage and on the schedule
only through its parameter copies c (DualPipe 2, else 1), each term non-decreasing in c and at most c times its value at
c = 1; activations depend on the (vpp, schedule) pair and not on ZeRO. So the row's smallest state bytes at c = 1 plus
its smallest activations bound every plan of a ZeRO stage from below, and its state bytes times the largest c plus the
largest activations from above. Bounds per (ZeRO stage, row), not per row: ZeRO 0 over the accelerator's memory while
ZeRO 3 fits would make most rows straddle it. (ZeRO stage, row) pairs entirely over or entirely within the memory need
no per-plan memory, only a count. The memory is the heaviest of the pipeline stage kinds (first, middle, last; on a
balanced split each on the step time's layers, the same for every plan of a row: `step_time.balanced_split`, hO42);
`memory.memory_bound_terms` bounds them all. The memory per GPU does not read the rank order (`MEMORY_FREE_KEYS`; a
balanced split's rows: through their split only), enumerated last: rows repeating the row before them but in the order
share its bounds, per-plan memory and counts (`memory_rows`; 45 % fewer memory evaluations there). Where a (ZeRO stage,
row) straddles, its plans of one parameter copy are bounded above by the states at c = 1 plus the largest activations;
where that fits, only its plans of more copies (DualPipe) are priced one by one (DeepSeek-V3 on 8,192 GB200: 43k
per-plan memories instead of 700k). Each bound is widened by `ROUNDING_MARGIN` (relative) over the float rounding of the
few additions it reorders, so the search's answer, scores and counts are bitwise those of pricing every plan
(tests/training/test_search_bounds.py).
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training.communicator_buffers import communicator_buffer_bytes
from infraplan.training.estimate import plan_memory
from infraplan.training.memory import RUNTIME_OVERHEAD_BYTES, memory_bound_terms
from infraplan.training.plan import PlanArrays

__all__ = ["MEMORY_FREE_KEYS", "ROUNDING_MARGIN", "memory_bounds_bytes", "memory_rows", "priced_fits"]

# relative widening of each bound: a sum of <= 9 float64 terms is off its exact value by < 1e-14 relative
ROUNDING_MARGIN = 1e-9
# plan fields the memory per GPU does not read (`memory.memory_breakdown`; tests/training/test_search_bounds.py)
MEMORY_FREE_KEYS = ("order",)


def memory_bounds_bytes(shape: TransformerShape, rows: PlanArrays, least: tuple[np.ndarray, np.ndarray],
                        most: tuple[np.ndarray, np.ndarray], most_copies: np.ndarray,
                        zero: np.ndarray, stack: Stack | None = None,
                        split: tuple[Any, ...] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (ZeRO stage, row), shape (Z, B): (lower, upper) bounds on the memory per GPU of the row's valid plans at
    that ZeRO stage, and an upper bound on those of its plans holding one parameter copy (bytes).

    `rows` 1-D (B rows at 1F1B); `least` and `most`: each row's (vpp, schedule) pair holding the fewest and the
    most micro-batches in flight among its valid pairs; `most_copies` the most parameter copies among them; `zero`
    the ZeRO stages. Activations are in-flight micro-batches x stored bytes + one rebuilt layer + logits, only the
    first factor depending on the pair; block recompute (depth > 0) makes the stored bytes depend on vpp too, so
    such rows get no bounds (0, inf). `split`: the rows' balanced split (`step_time.balanced_split`, (B,) each; the
    same for every plan of a row: it reads none of the fields the row stands for), whose stages the memory prices.
    """
    profile = stack or resolve_stack(None, "training")
    # the stage kinds' bounds (`memory.memory_bound_terms`): states (Z, B) at one parameter copy, activations (2, B)
    states = memory_bound_terms(shape, replace(rows, zero=zero[:, None]), profile, "states", split)
    ends = memory_bound_terms(shape, replace(rows, vpp=np.stack([least[0], most[0]]),
                                             schedule=np.stack([least[1], most[1]])), profile, "activations", split)
    held, held_high = states["state_low"], states["state_high"]
    low_act = np.broadcast_to(ends["activations_low"], (2, len(rows)))[0]
    high_act = np.broadcast_to(ends["activations_high"], (2, len(rows)))[1]
    overhead = RUNTIME_OVERHEAD_BYTES + communicator_buffer_bytes(rows, shape.is_moe)  # (the row's: exact)
    low = (held + low_act + overhead) * (1.0 - ROUNDING_MARGIN)
    one = (held_high + high_act + overhead) * (1.0 + ROUNDING_MARGIN)
    high = (most_copies * held_high + high_act + overhead) * (1.0 + ROUNDING_MARGIN)
    block = rows.recompute_layers > 0
    return (np.asarray(np.where(block, 0.0, low), dtype=np.float64),
            np.asarray(np.where(block, np.inf, high), dtype=np.float64),
            np.asarray(np.where(block, np.inf, one), dtype=np.float64))


def memory_rows(rows: PlanArrays, split: tuple[Any, ...] | None = None) -> np.ndarray:
    """(B,) bool: rows that differ from the row before them in a field other than `MEMORY_FREE_KEYS` (the others
    repeat it in every field the memory reads, so they share its memory), or in their balanced split (`split`, (B,)
    each: the rank order moves an EP all-to-all's time, so the split)."""
    first = np.ones(len(rows), dtype=bool)
    if len(rows) > 1:
        same = np.ones(len(rows) - 1, dtype=bool)
        for column in split or ():
            column = np.broadcast_to(column, (len(rows),))
            same &= column[1:] == column[:-1]
        for f in fields(rows):
            column = getattr(rows, f.name)
            if f.name not in MEMORY_FREE_KEYS and column.strides[0]:  # (a one-value view repeats itself)
                same &= column[1:] == column[:-1]
        first[1:] = ~same
    return first


def priced_fits(shape: TransformerShape, cluster: Cluster, profile: Stack, rows: PlanArrays, zero: np.ndarray,
                 pairs: tuple[np.ndarray, np.ndarray], usable: np.ndarray, priced: np.ndarray) -> np.ndarray:
    """(K, S): which valid plans fit, for S rows at ZeRO stages `zero` with their (vpp, schedule) pairs `pairs`
    ((K, S) each): the `priced` ones by their memory per GPU (`plan_memory`), the other `usable` ones fit (their
    bound settled it). Only the priced pairs are evaluated: each row's first, padded to the most of any row."""
    fits = np.asarray(usable & ~priced, dtype=bool)
    width = int(priced.sum(axis=0).max()) if priced.size else 0
    if width:
        # (W, S): each row's priced pairs, then padding (one each, the common case: no sort)
        where = priced.argmax(axis=0)[None] if width == 1 else np.argsort(~priced, axis=0, kind="stable")[:width]
        columns = {f.name: getattr(rows, f.name)[None] for f in fields(rows)}
        columns.update(vpp=np.take_along_axis(pairs[0], where, axis=0),
                       schedule=np.take_along_axis(pairs[1], where, axis=0), zero=zero[None])
        memory = plan_memory(shape, cluster, PlanArrays(**columns), profile)["memory_per_gpu_bytes"]
        inside = np.take_along_axis(priced, where, axis=0)
        fits[where[inside], np.broadcast_to(np.arange(where.shape[1]), where.shape)[inside]] = \
            memory[inside] <= cluster.accelerator.memory_bytes
    return fits
