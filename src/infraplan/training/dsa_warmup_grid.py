"""`search --dsa-stage warmup`: DeepSeek Sparse Attention's dense warm-up step (`training.dsa_warmup`, `train
--dsa-stage warmup`) priced on a search's grid, and its best plans on `train`'s own float path.

The grid's step time is `dsa_warmup.warmup_step_terms` on the plan arrays (the dense model's forward-only pass,
`step_time.one_plan_step_time(..., forward_only=...)` on a grid, plus the indexer's forward, KL target and backward on
every layer, its gradient all-reduce over DP x CP and the stack's optimizer on it alone, AdamW or Muon, and at ZeRO 3
the frozen weights' forward gathers); the memory `dsa_warmup.warmup_memory_terms`
(the weights as held, the indexer's share of the trained state, one layer's activations). Like a LoRA search
(`search_rows`) it prices every row of the grid, without the branch and bound (`search_bounds`) or the rows' cheap
bound (`row_bound`): their floors are a full training step's (every backward and gradient), above a warm-up step, so
they would drop rows that can hold the best warm-up plan. The best rows are `train --dsa-stage warmup`'s outputs one
plan at a time (`dsa_warmup.warmup_outputs`), so a row equals `train` of its command (its `--dsa-stage warmup`
included), and carry the warm-up's MFU count (`dsa_warmup.WARMUP_FLOP_CONVENTION`). No published-MFU guard: every
published figure is a pre-training step's MFU, none a warm-up's (as a LoRA search, `search_guard.frozen_guard`).
The grid tries no recompute alone (`WARMUP_RECOMPUTE`): the three modes price one warm-up step and one memory, so
the rows would differ only in --recompute (hL62).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.cluster import Cluster
from infraplan.training.dsa_warmup import (
    WARMUP_FLOP_CONVENTION,
    warmup_memory,
    warmup_memory_terms,
    warmup_outputs,
    warmup_step_terms,
)
from infraplan.training.enums import Recompute
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import one_plans
from infraplan.training.plan_outputs import memory_sum
from infraplan.training.results import PlanMetrics

WARMUP_RECOMPUTE: tuple[int, ...] = (int(Recompute.NONE),)
"""The recompute modes a warm-up search's grid tries (`axes.SearchSpace.recompute`): none alone. The frozen model's
forward-only step recomputes nothing (`step_time.one_plan_step_time(..., forward_only=)`), and the warm-up holds one
layer's forward working set without recompute plus its indexer's inputs (`dsa_warmup.warmup_memory_terms`), so
selective and full price the same step and memory as none (tests/training/test_dsa_warmup_search_hL62.py checks
it on a grid): one row per distinct plan, the least recompute kept, not three tied rows."""
WARMUP_RECOMPUTE_NOTE = ("DSA warm-up search: every plan with --recompute none (a forward-only step recomputes "
                         "nothing; selective and full price the same step and memory, so they are not listed again)")


class _Point(NamedTuple):
    """What `dsa_warmup`'s one-plan functions read of a resolved `estimate.TrainingPoint`."""

    shape: TransformerShape
    cluster: Cluster
    plan: PlanArrays
    profile: Stack


def warmup_memory_total(shape: TransformerShape, plan: PlanArrays, profile: Stack,
                        split: tuple[Any, ...] | None) -> np.ndarray:
    """A search grid's warm-up memory per GPU (`dsa_warmup.warmup_memory_terms`), summed in `plan_memory`'s order.
    `split`: the step time's balanced split (`step_time.balanced_split`)."""
    memory = warmup_memory_terms(shape, plan, profile, split)
    return np.asarray(memory_sum(memory), dtype=np.float64)


def warmup_step_time(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> np.ndarray:
    """A search grid's warm-up step times (`dsa_warmup.warmup_step_terms` on arrays)."""
    return np.asarray(warmup_step_terms(shape, cluster, plan, profile)["step_time_s"], dtype=np.float64)


def one_warmup_memory(shape: TransformerShape, cluster: Cluster, plan: PlanArrays, profile: Stack) -> float:
    """One plan's warm-up memory per GPU as `train --dsa-stage warmup` sums it (`warmup_outputs`)."""
    return float(memory_sum(warmup_memory(_Point(shape, cluster, plan, profile))))


def warmup_outputs_of(shape: TransformerShape, cluster: Cluster, plans: PlanArrays,
                      profile: Stack) -> dict[str, np.ndarray]:
    """`evaluate_plans` keys of a warm-up search's best plans, each on `train --dsa-stage warmup`'s float path
    (`dsa_warmup.warmup_outputs`): a row is `train` of its command."""
    each = [warmup_outputs(_Point(shape, cluster, plan, profile)) for plan in one_plans(plans)]
    return {k: np.array([values[k] for values in each]) for k in each[0]}


def warmup_row(row: PlanMetrics) -> PlanMetrics:
    """A warm-up search's row in the warm-up's MFU count (`dsa_warmup.WARMUP_FLOP_CONVENTION`)."""
    return row.model_copy(update={"mfu_flop_convention": WARMUP_FLOP_CONVENTION})

