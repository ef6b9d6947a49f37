"""Work the estimate and the search no longer repeat (hP2, session 36), each with the same bits as before.

* `step_assembly.assemble_step` on a grid where no plan pairs (no DualPipe, no combined 1F1B): the paired terms are
  each row's own sums, not spread over the (vpp, schedule) axes; the components keep their shapes and values.
* `step_assembly.ordered_sum`: `sum()`'s additions in its order, in place once the total is its own array.
* `search._search_block`: a block whose every row has a fitting plan is priced on the grid it was checked on (one
  `grid_plan` per block, not a second one of the same rows).
* `LayerOps.gemm_kernels` / `collective_launches_fwd`: counted once per table.
* A single estimate without per-tensor amax reductions builds no amax collective records.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.ops import layer_records
from infraplan.ops.layer import Layout, layer_ops
from infraplan.training import search, step_assembly, step_time, tp_quantised_collectives
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_grid import grid_plan
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans, search_plans


def test_ordered_sum_is_sums_bits_and_adds_in_place() -> None:
    rng = np.random.default_rng(36)
    row, grid, zero = rng.random((1, 1, 7)), rng.random((1, 5, 7)), rng.random((3, 1, 7))
    terms: list[Any] = [np.array(-0.0), row, 0.25, grid, row, zero, -grid, zero]
    got, want = step_assembly.ordered_sum(terms), np.asarray(sum(terms))
    assert got.shape == want.shape == (3, 5, 7)
    assert np.array_equal(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
    assert step_assembly.ordered_sum([1.0, 2.5]) == 3.5
    # the inputs are never written (the total is an array of its own from the first term on)
    first = rng.random((2, 3))
    before = first.copy()
    step_assembly.ordered_sum([first, first, 1.0])
    assert np.array_equal(first, before)


def _grid(model: str, gpus: int, stack: str | None = None):  # type: ignore[no-untyped-def]
    shape, cluster = load_model(model), Cluster.resolve("dgx-h100-superpod").for_gpus(gpus).placed(gpus)
    profile = resolve_stack(stack, "training", shape.name)
    rows = enumerate_plans(shape, gpus, 4096, 512, ["bf16"], 8)
    index = np.flatnonzero(valid_mask(shape, rows))[:64]
    vpp = np.tile(np.array([[1, 1, 2]]), (index.size, 1))
    schedule = np.tile(np.array([[int(Schedule.ONE_F_ONE_B), int(Schedule.INTERLEAVED),
                                  int(Schedule.INTERLEAVED)]]), (index.size, 1))
    plan = grid_plan(rows, index, vpp, schedule, np.array([0, 1, 3]))
    return shape, cluster, profile, plan


def test_an_unpaired_grid_keeps_each_rows_paired_terms_unspread() -> None:
    shape, cluster, profile, plan = _grid("llama3-8b", 64)
    out = step_time.step_time(shape, cluster, plan, profile)
    # (the paired terms of a row: the same value at every (vpp, schedule) pair, a view that does not repeat it)
    for key in ("compute", "ep_comm"):
        assert out[key].shape == np.broadcast_shapes(np.shape(plan.schedule), np.shape(plan.tp))
        assert out[key].strides[1] == 0, key
    stage = step_time.step_time(shape, cluster, plan, profile, stage_only=True)  # (the search bound's floor)
    assert stage["compute"].shape == stage["ep_comm"].shape == out["compute"].shape
    # the bits of each plan priced alone
    flat = {k: np.broadcast_to(v, out["step_time_s"].shape) for k, v in out.items()}
    for z, k, r in ((0, 0, 0), (2, 1, 5), (1, 2, 17)):
        alone = PlanArrays(**{f: np.broadcast_to(getattr(plan, f), out["step_time_s"].shape)[z, k, r][None]
                              for f in plan.__dataclass_fields__})
        one = evaluate_plans(shape, cluster, alone, profile)
        for key in ("compute", "ep_comm", "pp_bubble", "dp_comm_exposed", "step_time_s"):
            assert one[key][0] == flat[key][z, k, r], (key, z, k, r)


def test_a_paired_grid_still_picks_the_paired_terms() -> None:
    shape, cluster, profile, plan = _grid("llama3-8b", 64)
    paired = replace(plan, schedule=np.where(plan.schedule == int(Schedule.ONE_F_ONE_B), int(Schedule.DUALPIPE),
                                             plan.schedule))
    out = step_time.step_time(shape, cluster, paired, profile)
    assert out["compute"].strides[1] != 0  # where() over the pairs: DualPipe's column differs


def test_a_block_whose_rows_all_fit_is_priced_on_its_checked_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(1)
        return grid_plan(*args, **kwargs)

    monkeypatch.setattr(search, "grid_plan", counting)
    original = search._search_block
    kept: list[bool] = []

    def block(*args, **kwargs):  # type: ignore[no-untyped-def]
        before = len(built)
        used, done = original(*args, **kwargs)
        kept.append(len(built) - before == 1)
        return used, done

    monkeypatch.setattr(search, "_search_block", block)
    clear_one_plan_memo()
    result = search_plans("gpt3-175b", "dgx-h100-superpod", 4096, 2048, 2048)  # (`benchmarks/search_speed.py`)
    assert result.best is not None and kept and all(kept)  # (every row has a fitting plan: one grid per block)


def test_layer_table_counts_its_kernels_once(monkeypatch: pytest.MonkeyPatch) -> None:
    shape = load_model("llama3-70b")
    ops = layer_ops(shape, Layout(tokens=4096.0, tp=4, cp=1, sequence_parallel=True, seq_len=4096))
    first = (ops.gemm_kernels(), ops.collective_launches_fwd(True), ops.collective_launches_fwd(False))
    calls: list[int] = []
    real = layer_records.Gemm.kernels

    def counted(self):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(self)

    monkeypatch.setattr(layer_records.Gemm, "kernels", counted)
    assert ops.gemm_kernels() == first[0] and calls == []
    assert ops.collective_launches_fwd(True) == first[1]
    assert np.array_equal(ops.collective_launches_fwd(False), first[2])
    assert first[1] == 4.0  # SP: all-gather + reduce-scatter, twice each (TP 4)


def test_no_amax_records_without_per_tensor_scales(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[float] = []
    real = tp_quantised_collectives.Collective  # type: ignore[attr-defined]

    def record(kind, role, size, *args, **kwargs):  # type: ignore[no-untyped-def]
        if size == tp_quantised_collectives.AMAX_BYTES:
            built.append(size)
        return real(kind, role, size, *args, **kwargs)

    monkeypatch.setattr(tp_quantised_collectives, "Collective", record)
    clear_one_plan_memo()
    bf16 = estimate_training("llama3-8b", "dgx-h100-superpod", 16, tp=4, seq_len=4096, global_batch=64, dtype="bf16")
    assert bf16.breakdown_s.tp_comm > 0.0 and built == []
    clear_one_plan_memo()
    estimate_training("llama3-8b", "dgx-h100-superpod", 16, tp=4, seq_len=4096, global_batch=64, dtype="fp8")
    assert built  # fp8 current scaling on sequence shards: the amax all-reduces are priced
