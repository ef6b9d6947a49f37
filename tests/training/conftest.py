"""Fixtures shared by the training tests: searches that more than one module checks, computed once per process;
`assert_ends_priced_together_as_alone`, the end stages' one-pass DP pricing checked against each priced alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_recipes import recipe_key
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.training import search, step_assembly
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.optimizer_step import optimizer_seconds
from infraplan.training.results import PlanSearchResult
from infraplan.training.search import search_plans
from infraplan.training.step_traffic import dp_collectives, dp_collectives_once, end_stage_params

DEEPSEEK_V3_8192 = ("deepseek-v3", "gb200-nvl72", 8192, 4096, 15360)
"""The benchmark's large MoE space: 8.5 M plans, EP and DualPipe, 8,192 GB200 (with `UNEVEN_SPLIT`)."""
UNEVEN_SPLIT = {"pipeline_split_divisible": False}
"""The default stack taking any layer count (the searches below keep every PP for 61 layers, 8.5 M plans: the
default stack's even split keeps PP 1 and its recipe's layouts' PP x VP, 0.7 M, `training.pipeline_split_rule`)."""
TORCHTITAN_EVEN = load_stack("torchtitan").model_copy(
    update={"pipeline_split": "even", "pipeline_partition": None, "pipeline_partition_source": None,
            "unfused_elementwise": (), "recompute_modules": ("core_attn",)})
"""torchtitan as priced before hT47 (session 44): Megatron's even split, no layer counted for the embedding / loss,
with torch's schedules (ZB-H1, ZB-V) and micro-batch rules: the stack the tests of the even split's rank and chunk
kinds under torch's schedules were written on (torchtitan itself now cuts its units, `training.pipeline_partition`);
and its element-wise work and selective recompute as priced before hK52 (session 52): fused passes, the attention
core re-run (torchtitan itself now prices its eager passes and op-level AC, `ops.eager_passes`, which hide hA2's DP
exposure behind the longer backward and move hZ3's bubble)."""
META_LLAMA3_TIME = load_stack("meta-llama3").model_copy(update={"pipeline_partition": "time"})
"""meta-llama3 as priced before hZ47 (session 45): the time-balanced split (the whole-layer cut re-cut at the plan's
rates, `stage_split.balanced_heaviest_stage`), the stack the tests of that split were written on (meta-llama3 itself
now cuts the paper's fixed units, one layer off each end stage; no shipped stack cuts by time)."""


@pytest.fixture
def fresh_one_plan_memo() -> Iterator[None]:
    """The one-plan memo forgotten before and after a test: estimates priced under a patched toggle or window are
    not kept for other tests, nor theirs for it (a module opts in with
    `pytestmark = pytest.mark.usefixtures("fresh_one_plan_memo")`)."""
    clear_one_plan_memo()
    yield
    clear_one_plan_memo()


@pytest.fixture(scope="session")
def deepseek_v3_8192_top_10() -> tuple[PlanSearchResult, PlanSearchResult]:
    """(the search as it runs: branch and bound, cheap bounds, falling bar; pricing every plan), top 10 each.

    `test_search_bounds` and `test_stage_work_bound` both compare them (the exhaustive one is ~0.9 CPU s)."""
    stack = resolve_stack(None, "training", DEEPSEEK_V3_8192[0]).model_copy(update=UNEVEN_SPLIT)
    bounded = search_plans(*DEEPSEEK_V3_8192, top=10, stack=stack)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search, "BRANCH_AND_BOUND", False)
        every = search_plans(*DEEPSEEK_V3_8192, top=10, stack=stack)
    return bounded, every


def any_split(model: str, stack: str | None = None) -> Any:
    """`stack` (None: the default) with its recipe for `model`, splitting any layer count (`UNEVEN_SPLIT`): for the
    tests pricing a plan Megatron-Core's even split refuses (DeepSeek-V3's 61 layers on a PP x VP its recipe lays
    out none for, Llama 3.1 405B's 128 slots on PP16 x VP7), as `train` priced it before the rule (hR44, hR45)."""
    return resolve_stack(stack, "training", recipe_key(load_model(model))).model_copy(update=UNEVEN_SPLIT)


DP_FORMS = ("allreduce", "scatter", "gather", "scatter_layers", "gather_layers")
"""The DP collectives' forms `dp_collectives` prices (one per ZeRO stage's reading)."""


def assert_ends_priced_together_as_alone(shape: Any, fabric: Any, plan: Any, first: Any, last: Any) -> list[Any]:
    """`dp_collectives_once` on a grid's two end stages (the first with `first` layers and its table, the last with
    `last` layers, its head and any MTP module) equals `dp_collectives` of each end alone, bit for bit, in every form;
    returns the one pass's collectives (first, last)."""
    n = np.asarray(plan.tp).size
    stages = [(*end_stage_params(shape, plan, first, 0.0), first, 0.0),
              (*end_stage_params(shape, plan, last, 1.0), last, 1.0)]
    together = dp_collectives_once(shape, fabric, plan, stages, 4.0)
    for (params, experts, layers, _), priced in zip(stages, together, strict=True):
        alone = dp_collectives(shape, fabric, plan, params, experts, 4.0, None, layers)
        for form in DP_FORMS:
            assert np.array_equal(np.broadcast_to(alone[form], (n,)), priced[form]), form
    return list(together)


def dp_stage_grid(model: str, gpus: int, stack: Any, min_pp: int) -> tuple[Any, Any, Any, Any]:
    """(shape, cluster, stack, grid plan): 40 valid rows of a search grid (PP >= `min_pp`, DP > 1, spread over the
    enumeration) x 1F1B / interleaved / ZB-H1 / DualPipe x ZeRO 0, 1, 3, for the grid-vs-single DP-pricing tests of
    hD5 and hT40."""
    from infraplan.catalog import load_model
    from infraplan.catalog.stacks import resolve_stack
    from infraplan.cluster import Cluster
    from infraplan.training.enums import Schedule
    from infraplan.training.plan_grid import grid_plan
    from infraplan.training.plan_rules import valid_mask
    from infraplan.training.search import enumerate_plans

    shape, cluster = load_model(model), Cluster.resolve("dgx-h100-superpod").for_gpus(gpus).placed(gpus)
    profile = resolve_stack(stack, "training", shape.name)
    rows = enumerate_plans(shape, gpus, 4096, 512, ["bf16"], 8)
    valid = np.flatnonzero(valid_mask(shape, rows) & (np.asarray(rows.pp) >= min_pp) & (np.asarray(rows.dp) > 1))
    index = valid[np.linspace(0, valid.size - 1, 40).astype(int)]
    codes = [int(s) for s in (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED, Schedule.ZB_H1, Schedule.DUALPIPE)]
    vpp = np.tile(np.array([[1, 2, 1, 1]]), (index.size, 1))
    schedule = np.tile(np.array([codes]), (index.size, 1))
    return shape, cluster, profile, grid_plan(rows, index, vpp, schedule, np.array([0, 1, 3]))


def assert_grid_points_price_alone_alike(shape: Any, cluster: Any, profile: Any, plan: Any, out: dict[str, Any],
                                         key: str, differs: Any, seed: int) -> None:
    """The one-plan float path prices `key` and the step time as the array path did (`out`), bit for bit, at 12 of
    the points where `differs` (there must be some: where a stage's own pricing sets `key`) and at 8 random points
    of the grid (the grid-vs-single tests of hD5, hT40 and hO41)."""
    from infraplan.training.estimate import evaluate_plans
    from infraplan.training.plan import PlanArrays

    wide = np.broadcast_shapes(*(np.shape(getattr(plan, f)) for f in plan.__dataclass_fields__))
    flat = {k: np.broadcast_to(v, wide) for k, v in out.items() if k in (key, "step_time_s")}
    own = np.argwhere(np.broadcast_to(differs, wide))
    assert len(own) > 0
    rng = np.random.default_rng(seed)
    points = [*own[rng.permutation(len(own))[:12]], *zip(*(rng.integers(0, n, 8) for n in wide), strict=True)]
    for z, k, r in points:
        alone = PlanArrays(**{f: np.broadcast_to(getattr(plan, f), wide)[z, k, r][None]
                              for f in plan.__dataclass_fields__})
        one = evaluate_plans(shape, cluster, alone, profile)
        for name, values in flat.items():
            assert one[name][0] == values[z, k, r], (name, z, k, r)


def sampled_valid_plans(shape: Any, gpus: int, seq_len: int, global_batch: int, seed: int,
                        count: int) -> tuple[Any, Any, Any]:
    """(cluster, stack, plans): `count` valid plans drawn with `seed` from the search's bf16 grid of `shape` on
    `gpus` H100 of the SuperPOD, under the model's default training stack (the grid-vs-one-plan tests)."""
    from infraplan.cluster import Cluster
    from infraplan.training.plan_rules import valid_mask
    from infraplan.training.search import enumerate_plans

    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM training").for_gpus(gpus).placed(gpus)
    stack = resolve_stack(None, "training", recipe_key(shape))
    plans = enumerate_plans(shape, gpus, seq_len, global_batch, ["bf16"], 8)
    rows = np.random.default_rng(seed).choice(np.flatnonzero(valid_mask(shape, plans)), count, replace=False)
    return cluster, stack, plans.take(rows)


def assert_lora_grid_prices_as_one(shape: Any, cluster: Any, plans: Any, stack: Any, spec: Any) -> None:
    """The search grid priced with adapters `spec` equals the one-plan float path, step time and memory, bit for
    bit, plan by plan."""
    from infraplan.training.plan_grid import one_plans
    from infraplan.training.plan_outputs import one_plan_memory
    from infraplan.training.search_rows import frozen_memory_total
    from infraplan.training.step_time import balanced_split, one_plan_step_time

    grid = one_plan_step_time(shape, cluster, plans, stack, lora=spec)
    memory = frozen_memory_total(shape, plans, stack, balanced_split(shape, cluster, plans, stack), spec)
    for i, plan in enumerate(one_plans(plans)):
        one = one_plan_step_time(shape, cluster, plan, stack, lora=spec)
        assert {k: float(np.ravel(v)[i]) for k, v in grid.items()} == one
        assert float(memory[i]) == one_plan_memory(shape, cluster, plan, stack, spec)


class ZeroTerms(dict):  # type: ignore[type-arg]
    """Per-layer terms and traffic for `step_assembly.assemble_step` by hand: every one not given is 0 s (or 0 B)."""

    def __missing__(self, key: str) -> float:
        return 0.0


def counted_split_stack() -> Any:
    """megatron-core-0.8 on Megatron-Core's even split with the embedding and the loss each counted as a layer (the
    405B recipe's `account_for_*_in_pipeline_split`)."""
    from infraplan.catalog.stacks import load_stack

    return load_stack("megatron-core-0.8").model_copy(update={"account_for_embedding_in_pipeline_split": True,
                                                              "account_for_loss_in_pipeline_split": True})


@contextmanager
def optimizer_params_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The parameter counts `step_assembly` hands the optimizer step while the block runs (on a cleared one-plan
    memo, so the estimate is priced, not recalled)."""
    seen: list[float] = []

    def spied(params: float, *args: Any) -> Any:
        seen.append(params)
        return optimizer_seconds(params, *args)

    clear_one_plan_memo()
    with monkeypatch.context() as patched:
        patched.setattr(step_assembly, "optimizer_seconds", spied)
        yield seen


def overhead_bytes(shape: Any, plan: Any) -> Any:
    """`memory.memory_breakdown`'s overhead term of the plans, for hand counts of the memory: the runtime reserve
    and the plans' NCCL buffers (hY45; those counted by hand in test_communicator_buffers_hY45.py)."""
    from infraplan.training.communicator_buffers import communicator_buffer_bytes
    from infraplan.training.memory import RUNTIME_OVERHEAD_BYTES

    return RUNTIME_OVERHEAD_BYTES + communicator_buffer_bytes(plan.one_row if plan.is_one else plan, shape.is_moe)
