"""The search's cheap per-row bound (`step_time.stage_work_bound_s`) and the shortcuts around it are exact: the bound
never exceeds a row's floor (so the branch and bound still prices every plan that can reach the top K), the search's
rows are distinct in the layer keys (so `_computed_once` may skip the check), and pricing only the plans with a bf16
GEMM share in bf16 gives the bits of pricing them all."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.cluster import Cluster
from infraplan.training import axes, ep_choice, search, search_bounds
from infraplan.training.axes import LAYER_KEYS, SearchSpace
from infraplan.training.enums import Dtype, Schedule
from infraplan.training.layer_time import layer_times_but_ep
from infraplan.training.one_plan_memo import cluster_pricing
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import take_rows
from infraplan.training.plan_rules import valid_mask
from infraplan.training.results import PlanSearchResult
from infraplan.training.row_grid import enumerate_rows
from infraplan.training.search import search_plans
from infraplan.training.search_bounds import step_time_floor_s
from infraplan.training.step_time import stage_work_bound_s

# (model, system, GPUs, sequence, global batch, stack): MoE with EP, a dense model; even and balanced splits; eager
# stacks whose host issue time outruns the GPU on small layers (the bound's head term)
CASES = [("mixtral-8x7b", "dgx-h100-superpod", 64, 4096, 128, "megatron-core-0.8"),
         ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128, "meta-llama3"),
         ("megatron-1.7b", "dgx-a100-superpod", 64, 2048, 512, "megatron-lm-2022"),
         ("deepseek-v3", "gb200-nvl72", 1024, 4096, 2048, "deepspeed")]


def _rows(model: str, system: str, gpus: int, seq: int, batch: int) -> tuple[object, Cluster, PlanArrays]:
    shape, cluster = load_model(model), Cluster.resolve(system).for_gpus(gpus)
    dtypes = tuple(d for d in Dtype if cluster.accelerator.supports(d.label))
    grid = enumerate_rows(SearchSpace(shape, gpus, seq, batch, dtypes, cluster.system.node.scale_up_domain))
    rows = grid.rows
    return shape, cluster, take_rows(rows, np.flatnonzero(valid_mask(shape, rows)))


@pytest.mark.parametrize(("model", "system", "gpus", "seq", "batch", "stack"), CASES)
def test_cheap_bound_is_below_every_row_floor(model: str, system: str, gpus: int, seq: int, batch: int,
                                              stack: str) -> None:
    shape, cluster, rows = _rows(model, system, gpus, seq, batch)
    profile = load_stack(stack)
    bound = stage_work_bound_s(shape, cluster, rows, profile)  # type: ignore[arg-type]
    floor = step_time_floor_s(shape, cluster, rows, profile)  # type: ignore[arg-type]
    assert len(rows) > 100 and np.all(bound <= floor)
    assert np.median(bound / floor) > 0.4  # a bound that prunes, not a vacuous one


def test_bound_holds_where_host_time_outruns_the_gpu() -> None:
    """A slow host (1 ms per kernel launch): layers and the LM head are host-bound, the split balances on that
    pace, and the bound still lies below each floor."""
    shape, cluster, rows = _rows("megatron-1.7b", "dgx-a100-superpod", 64, 2048, 512)
    node = cluster.system.node.model_copy(update={"host_kernel_dispatch_s": 1e-3})
    slow = Cluster(cluster.system.model_copy(update={"node": node}), cluster.accelerator)
    assert slow.fabric.host_kernel_dispatch_s == 1e-3
    for stack in ("megatron-lm-2022", "deepspeed"):  # even and balanced splits
        profile = load_stack(stack)
        bound = stage_work_bound_s(shape, slow, rows, profile)  # type: ignore[arg-type]
        floor = step_time_floor_s(shape, slow, rows, profile)  # type: ignore[arg-type]
        fast = step_time_floor_s(shape, cluster, rows, profile)  # type: ignore[arg-type]
        assert np.mean(floor > 2.0 * fast) > 0.9  # the host sets the pace of most rows
        assert np.all(bound <= floor) and np.any(bound > 0.0)


@pytest.mark.parametrize(("model", "system", "gpus", "seq", "batch"),
                         [("deepseek-v3", "gb200-nvl72", 8192, 4096, 15360), ("gpt3-175b", "dgx-h100-superpod",
                                                                              4096, 2048, 2048),
                          ("mixtral-8x7b", "dgx-h100-superpod", 512, 4096, 1024)])
def test_search_rows_are_distinct_in_the_layer_keys(model: str, system: str, gpus: int, seq: int, batch: int) -> None:
    """`row_memo.computed_once` skips the distinct-row check for a search's rows: they must differ in LAYER_KEYS."""
    _, _, rows = _rows(model, system, gpus, seq, batch)
    columns = np.stack([getattr(rows, k) for k in LAYER_KEYS], axis=1)
    assert np.unique(columns, axis=0).shape[0] == len(rows)


def test_bf16_share_priced_on_its_plans_only_equals_pricing_all() -> None:
    """NVFP4 keeps a share of the GEMMs in bf16: pricing that share on the NVFP4 rows only (1-D rows) gives the bits of
    pricing it on every row (a grid, the path for any shape)."""
    shape, cluster, rows = _rows("deepseek-v3", "gb200-nvl72", 1024, 4096, 2048)
    assert len(set(rows.dtype.tolist())) > 2  # bf16, fp8 and nvfp4 rows mixed
    profile = resolve_stack(None, "training")
    pricing = cluster_pricing(cluster, profile)
    host = cluster.fabric.host_kernel_dispatch_s
    flat, _ = layer_times_but_ep(shape, pricing.rates, cluster.fabric, rows, pricing.precision_of(rows), host,
                                 profile)
    grid = PlanArrays(**{f.name: np.asarray(getattr(rows, f.name))[None, :] for f in fields(rows)})
    rate, width = pricing.precision_of(grid)
    full, _ = layer_times_but_ep(shape, pricing.rates, cluster.fabric, grid, (rate, width), host, profile)
    assert flat.keys() == full.keys()
    n = len(rows)
    for key, value in flat.items():
        assert np.array_equal(np.broadcast_to(value, (n,)), np.ravel(np.broadcast_to(full[key], (1, n)))), key


def test_deepseek_v3_top_10_and_counts_equal_pricing_every_plan(
        deepseek_v3_8192_top_10: tuple[PlanSearchResult, PlanSearchResult]) -> None:
    """The benchmark's DeepSeek-V3 space (8,192 GB200, EP): the cheap bounds, the floors of the rows they admit and
    the falling bar return the exhaustive search's top 10 (bitwise) and counts (the searches: a shared fixture)."""
    bounded, every = deepseek_v3_8192_top_10
    assert (bounded.evaluated_count, bounded.feasible_count) == (every.evaluated_count, every.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in every.top]


@pytest.mark.parametrize("args", [("mixtral-8x7b", "dgx-h100-superpod", 32, 4096, 64),
                                  ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128)])
@pytest.mark.parametrize("top", [1, 7])
def test_rows_left_with_their_cheap_bound_cannot_change_the_answer(monkeypatch: pytest.MonkeyPatch,
                                                                  args: tuple[str, str, int, int, int],
                                                                  top: int) -> None:
    """Few rows floored first, many small blocks and batches: some rows keep only their cheap bound (never floored),
    and the answer, scores and counts are still those of pricing every plan."""
    seen: list[np.ndarray] = []
    original = search_bounds.bound_and_price

    def spy(*a: object) -> list[search_bounds.BoundBlock]:
        blocks = original(*a)  # type: ignore[arg-type]
        seen.append(np.concatenate([b.floored for b in blocks]))
        return blocks

    monkeypatch.setattr(search, "bound_and_price", spy)
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(search, "BOUND_ROWS", 401)  # 22 and 8 bound blocks (101 rows: 84 and 30, 2.6x the CPU)
    monkeypatch.setattr(search_bounds, "FIRST_FLOOR_ROWS", 7)
    monkeypatch.setattr(ep_choice, "SECOND_SEARCH", False)  # hU59's "why this EP" search of the other EP kind
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)
    bounded = search_plans(*args, top=top, compare_dtypes=False)
    (floored,) = seen
    assert 0 < floored.sum() < floored.size
    monkeypatch.undo()  # the reference prices every plan in the default (one) block: 10x cheaper than 101-row ones
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    every = search_plans(*args, top=top, compare_dtypes=False)
    assert (bounded.evaluated_count, bounded.feasible_count) == (every.evaluated_count, every.feasible_count)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in every.top]


@pytest.mark.parametrize("schedules", [(), (int(Schedule.ONE_F_ONE_B), int(Schedule.DUALPIPE))])
def test_schedule_pairs_equal_the_candidates_per_virtual_stage_count(schedules: tuple[int, ...]) -> None:
    """`axes._schedule_pairs` (one vectorised rule check per schedule) lists the (vpp, schedule) pairs of
    `axes._schedule` called once per vpp, in the same order."""
    shape = load_model("deepseek-v3")
    space = SearchSpace(shape, 1024, 4096, 2048, (Dtype.BF16,), 8, 16, schedules)
    for pp in (1, 2, 4, 8, 16, 61):
        chosen = {"tp": 1, "cp": 1, "pp": pp, "dp": 1024 // pp}
        vpps = list(axes._vpp(space, chosen))
        loop = [(v, int(code)) for v in vpps for code in axes._schedule(space, {**chosen, "vpp": v})]
        assert axes._schedule_pairs(space, chosen, vpps) == loop and loop
