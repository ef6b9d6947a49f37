"""The search's memory total and heap reuse (issue 18): `memory.memory_total` gives `plan_memory`'s total bit for bit
on (ZeRO, pairs, rows) grids, DualPipe's two parameter copies and block recompute included; the ops tables' fast
frozen records keep dataclass semantics; a repeated search serves its grids from the kept heap."""

from __future__ import annotations

import dataclasses
import resource
import sys

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.ops.layer import AttentionCore, Collective, Elementwise, Gemm, Layout
from infraplan.scalar_path import fast_frozen_init
from infraplan.training import search
from infraplan.training.enums import Dtype, Recompute, Schedule
from infraplan.training.estimate import plan_memory
from infraplan.training.memory import memory_total, recomputed_stage_layers
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import grid_plan
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

CLUSTER = Cluster.resolve("dgx-h100-superpod")


def _grid(model: str, schedules: tuple[Schedule, ...], block_layers: int = 0) -> tuple[object, PlanArrays]:
    """Valid rows of a small search space times (vpp, schedule) pairs (the given schedules) and ZeRO 0-3."""
    shape = load_model(model)
    plans = enumerate_plans(shape, 256, 4096, 512, [Dtype.BF16, Dtype.FP8], 8)
    rows = plans.take(np.flatnonzero(valid_mask(shape, plans) & (plans.vpp == 1) & (plans.zero == 0)
                                     & (plans.schedule == int(Schedule.ONE_F_ONE_B)))[:400])
    if block_layers:
        rows = dataclasses.replace(rows, recompute=np.full(len(rows), int(Recompute.FULL)),
                                   recompute_layers=np.where(np.arange(len(rows)) % 2 == 0, block_layers, 0))
    pairs = [(v, int(s)) for s in schedules for v in (1, 2, 4)]
    vpp = np.array([[v for v, _ in pairs]] * len(rows))
    schedule = np.array([[s for _, s in pairs]] * len(rows))
    return shape, grid_plan(rows, np.arange(len(rows)), vpp, schedule, np.arange(4))


@pytest.mark.parametrize(("model", "schedules", "block_layers"), [
    ("gpt3-175b", (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED), 0),
    ("deepseek-v3", (Schedule.ONE_F_ONE_B, Schedule.DUALPIPE), 0),  # two parameter copies beside one
    ("llama3-70b", (Schedule.DUALPIPE,), 0),  # only DualPipe: one copies value
    ("llama3-70b", (Schedule.ONE_F_ONE_B, Schedule.DUALPIPE), 2),  # block recompute on half the rows
])
def test_memory_total_is_plan_memory_total_bit_for_bit(model: str, schedules: tuple[Schedule, ...],
                                                       block_layers: int) -> None:
    shape, plan = _grid(model, schedules, block_layers)
    stack = resolve_stack(None, "training")
    expected = plan_memory(shape, CLUSTER, plan, stack)["memory_per_gpu_bytes"]  # type: ignore[arg-type]
    got = memory_total(shape, plan, stack)  # type: ignore[arg-type]
    assert got.shape == expected.shape == (4, 3 * len(schedules), plan.tp.shape[-1])
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))
    assert len(np.unique(expected)) > 100  # the grid really varies


def test_recomputed_layers_without_block_recompute_keep_their_values() -> None:
    shape, plan = _grid("llama3-70b", (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED))
    plan = dataclasses.replace(plan, recompute=np.where(np.arange(plan.tp.shape[-1]) % 3 == 0, int(Recompute.FULL),
                                                        int(Recompute.NONE))[None, None, :])
    rows_only = recomputed_stage_layers(shape, plan)  # type: ignore[arg-type]
    blocked = recomputed_stage_layers(shape, dataclasses.replace(  # type: ignore[arg-type]
        plan, recompute_layers=np.full(plan.tp.shape, 10**6)))  # block depth beyond every stage: all layers
    assert np.array_equal(np.broadcast_to(rows_only, blocked.shape), blocked)
    assert rows_only.max() > 0 and rows_only.min() == 0


def test_fast_frozen_records_keep_dataclass_semantics() -> None:
    gemm = Gemm("qkv", 1.0, 2.0, 3.0)
    assert (gemm.count, gemm.grouped, gemm.share) == (1.0, False, 1.0)  # defaults
    assert gemm == Gemm("qkv", 1.0, 2.0, 3.0) and hash(gemm) == hash(Gemm(role="qkv", m=1.0, n=2.0, k=3.0))
    assert dataclasses.replace(gemm, k=5.0) == Gemm("qkv", 1.0, 2.0, 5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        gemm.m = 4.0  # type: ignore[misc]
    record = Collective("all_gather", "tp", 8.0, 4, 1, count=2.0)
    assert (record.mask, record.count, record.stride) == (True, 2.0, 1)
    with pytest.raises(TypeError):
        Gemm("qkv", 1.0, 2.0)  # type: ignore[call-arg]  # a required field missing

    @dataclasses.dataclass(frozen=True)
    class WithPostInit:
        x: int

        def __post_init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="needs the dataclass's own __init__"):
        fast_frozen_init(WithPostInit)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's dict layouts and attribute specialiser")
def test_fast_frozen_records_hold_their_own_dict_table() -> None:
    """Each record's __dict__ is a combined table (hE session 53), not a split one sharing the class's keys: a
    split dict's size leaves the shared keys out and a combined dict's equals its copy's. 3.11's specialised
    attribute read (LOAD_ATTR_WITH_HINT) reads a combined table only: a split one misses it on every read (~250
    instructions more a read). Filled through `self.__dict__` (before), every record here failed this."""
    records = (Gemm("qkv", 1.0, 2.0, 3.0), Collective("all_gather", "tp", 8.0, 4, 1, count=2.0),
               Elementwise("norm", 1.0, 2.0), AttentionCore(1.0, 2.0, 3.0, 4.0, 1), Layout(8192.0, tp=8))
    for record in records:
        table = record.__dict__
        assert sys.getsizeof(table) == sys.getsizeof(dict(table)), type(record).__name__


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc thresholds")
def test_repeated_search_reuses_its_heap() -> None:
    args = ("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048)
    search.search_plans(*args)  # warm: catalog loads, pricing, the heap grown to the search's peak
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    search.search_plans(*args)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    assert faults < 1500  # ~5,700 page faults (its ~23 MB of grid temporaries) when the heap is trimmed between
