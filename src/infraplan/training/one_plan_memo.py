"""What the training estimate derives from a cluster and a software stack alone, and the one-plan memo.

Issue 18 (a single estimate in microseconds, so sweeps and the scenario planner can call it freely): a single
`estimate_training` call used to rebuild the stack's kernel rates and GEMM-rate table and price every term of its
plan, though most of that repeats between calls. `cluster_pricing(cluster, stack)` keeps, per cluster and stack
(by identity: both are frozen and held by the entry, so their ids are not reused while it is kept):
* the stack's `KernelRates` (its matmul and attention efficiency multipliers and its attention kernel's rate,
  `training.attention_core.STACK_ATTENTION_KERNEL`, applied) and the GEMM FLOP/s and
  operand bytes by `Dtype` code (`ops.precision` recipes; fp8 with the stack's scaling-recipe multiplier);
* the one-plan memo: for one-element plans, the per-layer terms of a `LAYER_KEYS` row (`layer_terms.per_layer_terms`),
  the traffic of a `COMM_KEYS` row (`step_traffic.pipeline_and_dp_traffic`; a single estimate's row without the DP
  collectives, which it prices for its own ZeRO stage alone, is a kind of its own) and a whole plan's outputs
  (`estimate.one_plan_outputs`), by the row's key values and the model. The terms are the same function of those
  fields for one plan or a grid (tests/training/test_axes.py), so a kept row has the bits a fresh pricing gives;
  plans that share a row (a sweep over global batch or DP) price it once. One plan's terms are kept as Python
  floats (immutable: no caller can change a kept value; `evaluate_plans` hands out fresh arrays of them); the memo
  is bounded over all clusters and stacks (`ONE_PLAN_MEMO_ROWS`, least recently used dropped), safe to share
  between threads, and `clear_one_plan_memo` forgets it (tests that patch the physics), with the kept times of
  the messages its rows priced (`network.collectives.collective_seconds`).
A search prices grids (never memoised here: its blocks share rows through `training.row_memo`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import forget_collective_seconds, forget_float_values
from infraplan.ops.params import forget_plan_shape_counts
from infraplan.ops.precision import RECIPES, scaling_rate_ratio
from infraplan.training import attention_core
from infraplan.training.enums import Dtype
from infraplan.training.plan import PLAN_FIELDS as PLAN_FIELDS  # (the one tuple: defined there)
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_notes import forget_placed_plan_notes
from infraplan.training.plan_rules import forget_checked_plans
from infraplan.training.row_memo import RowMemo

Terms = dict[str, Any]  # arrays over plans; one plan's terms are Python floats
# rows and plans the one-plan memo keeps, over all clusters and stacks (a layer row holds ~40 floats in a dict,
# ~3 kB: at most ~12 MB)
ONE_PLAN_MEMO_ROWS = 4096
_DTYPE_LABELS = Dtype.labels()  # by code
_PRICINGS_KEPT = 64  # clusters x stacks whose `ClusterPricing` is kept
# (kind, pricing id, model id, key values) -> (model, pricing, terms); the entry holds the model and the pricing,
# so their ids are not reused while it is kept. The lock keeps a lookup's move-to-end and an insert's eviction
# whole when threads (a web server's workers) share the memo.
_MEMO: OrderedDict[tuple[object, ...], tuple[TransformerShape, ClusterPricing, Terms]] = OrderedDict()
_LOCK = threading.Lock()


class ClusterPricing:
    """The stack's kernel rates, the GEMM rate and operand bytes by `Dtype` code, and the one-plan memo of one
    cluster and stack (see the module docstring)."""

    def __init__(self, cluster: Cluster, profile: Stack) -> None:
        accelerator = cluster.accelerator
        kernel = profile.attention_kernel if attention_core.STACK_ATTENTION_KERNEL else None
        self.rates = KernelRates.for_dtype(accelerator, "bf16", profile.matmul_efficiency_multiplier,
                                           profile.attention_efficiency_multiplier, kernel)

        def gemm_rate(label: str) -> float:
            """The recipe's GEMM rate (`ops.precision`); fp8 also takes the stack's scaling-recipe multiplier."""
            recipe = RECIPES[label]
            if label == "bf16" or not recipe.supported(accelerator):  # never priced: plans are checked first
                return self.rates.matmul_flops_per_s
            rate = recipe.gemm_flops_per_s(accelerator) * profile.matmul_efficiency_multiplier
            scaling = profile.fp8.gemm_rate_multiplier * scaling_rate_ratio(accelerator, profile.fp8.recipe)
            return rate * (scaling if label == "fp8" else 1.0)

        self.gemm_rates = np.array([gemm_rate(label) for label in _DTYPE_LABELS])
        self.operand_bytes = np.array([RECIPES[label].operand_bytes for label in _DTYPE_LABELS])
        # the same by code as Python floats, for a `one_row` plan's int code (no numpy scalar indexing)
        self._precision_floats = tuple(zip(self.gemm_rates.tolist(), self.operand_bytes.tolist(), strict=True))

    def precision_of(self, p: PlanArrays) -> tuple[np.ndarray, np.ndarray]:
        """(GEMM FLOP/s, operand bytes) of each plan's precision recipe (a `one_row` plan's: Python floats)."""
        if type(p.dtype) is int:  # type: ignore[comparison-overlap]  # a `one_row` plan's code
            return self._precision_floats[p.dtype]
        return self.gemm_rates[p.dtype], self.operand_bytes[p.dtype]

    def memoised(self, kind: str, shape: TransformerShape, keys: tuple[str, ...],
                 compute: Callable[[PlanArrays], Terms]) -> Callable[[PlanArrays], Terms]:
        """`compute`, looked up in the one-plan memo when it prices one row (outside a search's `RowMemo`)."""
        pick_keys = _key_getter(keys)  # the key fields of a row, as a tuple
        prefix: tuple[object, ...] = (kind, id(self), id(shape))

        def run(rows: PlanArrays) -> Terms:
            # (`is_one`: every field of shape (1,), so one row; a `one_row` itself is not `is_one`)
            if not rows.is_one or RowMemo.active() is not None:
                return compute(rows)
            # every field: the plan's own key (`PlanArrays.row_key`, kept with it); else its `one_row`'s key fields
            key = prefix + (rows.row_key if keys is PLAN_FIELDS else pick_keys(rows.one_row))
            # (a dict lookup is atomic: the lock is taken to move a hit to the end, and to insert below)
            if _MEMO.get(key) is not None:
                with _LOCK:
                    kept = _MEMO.get(key)
                    if kept is not None and kept[0] is shape and kept[1] is self:
                        _MEMO.move_to_end(key)
                        return dict(kept[2])
            terms = compute(rows)  # one row's terms: Python floats (immutable, so safe to share with later calls)
            with _LOCK:
                _MEMO[key] = (shape, self, terms)
                while len(_MEMO) > ONE_PLAN_MEMO_ROWS:
                    _MEMO.popitem(last=False)
            return dict(terms)

        return run


_KEY_GETTERS: dict[tuple[str, ...], Callable[[PlanArrays], tuple[object, ...]]] = {}


def _key_getter(keys: tuple[str, ...]) -> Callable[[PlanArrays], tuple[object, ...]]:
    """The key fields of a row as a tuple (one getter per key tuple: the memo's key tuples are constants)."""
    getter = _KEY_GETTERS.get(keys)
    if getter is None:
        pick = attrgetter(*keys)
        getter = pick if len(keys) > 1 else (lambda row: (pick(row),))  # attrgetter of one name: the value
        _KEY_GETTERS[keys] = getter
    return getter


_PRICINGS: OrderedDict[tuple[int, int], tuple[Cluster, Stack, ClusterPricing]] = OrderedDict()
# the pricing asked for last, (cluster, stack, pricing): an estimate asks for it a few times (one tuple, so a
# thread reads a whole entry; `clear_one_plan_memo` resets it with the kept pricings)
_LAST_PRICING: tuple[Cluster | None, Stack | None, ClusterPricing | None] = (None, None, None)


def cluster_pricing(cluster: Cluster, profile: Stack) -> ClusterPricing:
    """The `ClusterPricing` of a cluster and stack, kept by identity (both are frozen; the entry holds them, so
    their ids are not reused while it is kept)."""
    global _LAST_PRICING
    last = _LAST_PRICING
    if last[0] is cluster and last[1] is profile and last[2] is not None:
        return last[2]
    key = (id(cluster), id(profile))
    with _LOCK:
        kept = _PRICINGS.get(key)
        if kept is not None and kept[0] is cluster and kept[1] is profile:
            _PRICINGS.move_to_end(key)
            _LAST_PRICING = kept
            return kept[2]
    pricing = ClusterPricing(cluster, profile)
    with _LOCK:
        _PRICINGS[key] = (cluster, profile, pricing)
        while len(_PRICINGS) > _PRICINGS_KEPT:
            _PRICINGS.popitem(last=False)
        _LAST_PRICING = (cluster, profile, pricing)
    return pricing


def kept_rows() -> int:
    """Rows and plans the one-plan memo holds now."""
    return len(_MEMO)


def clear_one_plan_memo(pricings: bool = True) -> None:
    """Forget every memoised row and plan verdict (`plan_rules.check_single_plan`) and, with `pricings`, every kept
    `ClusterPricing`: for tests that patch the physics between estimates (everything), and benchmarks of a plan
    never seen on a cluster and stack seen before (`pricings=False`: what a new plan of a sweep costs)."""
    global _LAST_PRICING
    with _LOCK:
        if pricings:
            _PRICINGS.clear()
            _LAST_PRICING = (None, None, None)
            forget_float_values()  # the float collectives' kept links and tables (`network.collectives`)
            forget_plan_shape_counts()  # one plan's parameter counts by model and axes (`ops.params`)
            forget_placed_plan_notes()  # a plan's notes but the sequence's, by cluster and stack (`plan_notes`)
        _MEMO.clear()
        forget_collective_seconds()  # the kept times of priced messages (`network.collectives.collective_seconds`)
    forget_checked_plans()
