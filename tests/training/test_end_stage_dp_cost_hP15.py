"""The cost of pricing the end stages' own DP traffic (hP15, session 39): the short cuts give the full path's bits.

`dp_collectives_once` keys a grid's end-stage rows on the DP groups' raw sizes and strides where their ranges pack
into one int64 key (`_narrow_ranges`: a sort per column only where they do not; a dense model's expert groups are
read by no formula and left out), and a single estimate's end stage is priced in its own floats and bools
(`dp_exposure._one_plan_end_stage`), not through the element-wise masks of the array path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.training.conftest import DP_FORMS, assert_ends_priced_together_as_alone

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.scalar_path import FLOAT_OPS, NUMPY_OPS
from infraplan.training import dp_exposure
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans
from infraplan.training.step_traffic import (
    EndStageTraffic,
    _narrow_ranges,
    dp_collectives_once,
    end_stage_params,
)


def test_narrow_ranges_sort_only_the_groups_that_do_not_pack() -> None:
    """Columns whose ranges pack into one int64 key come back as they are (no sort); where they do not, the widest
    groups become their values' ranks, and the rows alike are the same rows (the partition of np.unique's rows)."""
    rng = np.random.default_rng(15)
    narrow = [rng.integers(1, 9, 500) * 1024, rng.integers(0, 4, 500)]
    counts = [rng.integers(0, 8, 500)]
    packed = _narrow_ranges(narrow, counts)
    assert all(a is b for a, b in zip(packed, [*narrow, *counts], strict=True))
    wide = [rng.integers(0, 3, 500) * 2**40 + 7, rng.integers(0, 3, 500) * 2**30, rng.integers(1, 4, 500)]
    ranked = _narrow_ranges(wide, counts)
    assert int(ranked[0].max()) <= 2 and ranked[2] is wide[2]
    _, want = np.unique(np.stack([*wide, *counts], axis=1), axis=0, return_inverse=True)
    _, got = np.unique(np.stack(ranked, axis=1), axis=0, return_inverse=True)
    assert np.array_equal(want.reshape(-1), got.reshape(-1))


@pytest.mark.parametrize(("model", "gpus"), [("llama3-405b", 131_072), ("deepseek-v3", 65_536)])
def test_wide_grid_end_stages_priced_together_are_each_priced_alone(model: str, gpus: int) -> None:
    """At 131,072 / 65,536 GPUs the DP groups' sizes and strides span ranges that do not all pack (the MoE model's
    expert groups too): each end stage's collectives from the one pass are `dp_collectives` of its own, bit for bit."""
    shape = load_model(model)
    h100 = Cluster.resolve("dgx-h100-superpod")
    cluster = Cluster(h100.system.model_copy(update={"total_accelerators": gpus}), h100.accelerator)
    rows = enumerate_plans(shape, gpus, 8192, 16384, ["bf16"], 8)
    plan = rows.take(np.flatnonzero(valid_mask(shape, rows) & (np.asarray(rows.pp) > 1))[:400])
    n = np.asarray(plan.tp).size
    assert_ends_priced_together_as_alone(shape, cluster.fabric, plan, np.where(np.arange(n) % 3 == 0, 7.0, 5.0),
                                         np.where(np.arange(n) % 2 == 0, 7.0, 3.0))


def test_one_plan_end_stage_is_the_array_path_bit_for_bit() -> None:
    """A single estimate's end stage (`end_stage_dp_forms` on FLOAT_OPS: `_one_plan_end_stage`, its floats and
    bools) gives the bits of the same plan as a one-row array (NUMPY_OPS' masks), over 400 random draws of windows,
    host time, exposures so far, layers (fewer, as many as and more than the traffic's), MTP modules and collectives
    that set or do not set the most (its own priced or not)."""
    shape = load_model("llama3-405b")
    one = PlanArrays.one_plan(tp=8, pp=16, dp=2, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64,
                              seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=0, sequence_parallel=0)
    rng = np.random.default_rng(1539)

    def priced(stages: list[tuple[Any, Any, Any, Any]], rows: Any = None) -> list[dict[str, Any]]:
        return [{f: params * (k + 1) * 4e-10 + layers * 0.01 for k, f in enumerate(DP_FORMS)}
                for params, _, layers, _ in stages]

    for _ in range(400):
        layers, mtp = float(rng.choice([6.0, 7.0, 8.0, 9.0])), float(rng.choice([0.0, 0.0, 1.0]))
        lt = {k: float(rng.uniform(0.0, 0.3)) for k in ("compute_fwd", "other_fwd", "tp_fwd", "compute_bwd",
                                                         "other_bwd", "tp_bwd")}
        traffic = {f: float(rng.uniform(0.0, 3.0)) for f in DP_FORMS}
        so_far = tuple(float(v) for v in rng.uniform(0.0, [4.0, 8.0, 20.0]))
        windows = tuple(float(v) for v in rng.uniform(0.0, 3.0, 2))
        host = [float(v) for v in rng.uniform(-0.5, 0.5, 3)]
        synced, mtp_all = bool(host[2] > 0.0), float(rng.choice([0.0, mtp]))
        so_far3 = (so_far[0], so_far[1], so_far[2])
        floats = dp_exposure.end_stage_dp_forms(
            traffic, lt, layers + mtp, host[0], host[1], synced, 0.9, 0.01, FLOAT_OPS, so_far3,
            (windows[0], windows[1]), True, (EndStageTraffic(shape, one.one_row, priced), layers, mtp, mtp_all, 8.0))

        def a(v: float) -> np.ndarray:
            return np.array([v])
        arrays = dp_exposure.end_stage_dp_forms(
            {k: a(v) for k, v in traffic.items()}, {k: a(v) for k, v in lt.items()}, a(layers + mtp), a(host[0]),
            a(host[1]), np.array([synced]), 0.9, a(0.01), NUMPY_OPS, (a(so_far[0]), a(so_far[1]), a(so_far[2])),
            (a(windows[0]), a(windows[1])), np.array([True]),
            (EndStageTraffic(shape, one, priced), a(layers), a(mtp), a(mtp_all), a(8.0)))
        for f, got in zip(floats, arrays, strict=True):
            assert a(f).tobytes() == np.asarray(got, dtype=np.float64).reshape(1).tobytes()


def test_end_stages_priced_on_the_plans_read_are_the_full_pass_bits() -> None:
    """`dp_collectives_once` with `rows`: the plans read get the full pass's bits, the others 0.0 (none read: all
    0.0); `EndStageTraffic` prices the expected end on its mask and again where asked for a plan outside it."""
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(256)
    rows = enumerate_plans(shape, 256, 4096, 512, ["bf16"], 8)
    plan = rows.take(np.flatnonzero(valid_mask(shape, rows) & (np.asarray(rows.pp) > 1))[:64])
    first, last = np.full((1, 64), 7.0), np.full((1, 64), 6.0)
    stages = [(*end_stage_params(shape, plan, first, 0.0), first, 0.0),
              (*end_stage_params(shape, plan, last, 1.0), last, 1.0)]
    full = dp_collectives_once(shape, cluster.fabric, plan, stages, 4.0)
    read = np.arange(64) % 3 == 0
    wide = np.broadcast_to(read, (4, 64))  # (a mask with an axis the stages do not have: any of its copies)
    for masks in ([wide, None], [None, read], [np.zeros(64, dtype=bool), read]):
        part = dp_collectives_once(shape, cluster.fabric, plan, stages, 4.0, masks)
        for mask, got, want in zip(masks, part, full, strict=True):
            on = np.ones(64, dtype=bool) if mask is None else np.broadcast_to(mask, (4, 64)).any(axis=0)
            for form in DP_FORMS:
                assert np.array_equal(got[form][0][on], want[form][0][on]), form
                assert not np.any(got[form][0][~on]), form
    asked: list[int] = []

    def price(stages: list[tuple[Any, Any, Any, Any]], rows: Any = None) -> list[dict[str, Any]]:
        asked.append(len(stages))
        return dp_collectives_once(shape, cluster.fabric, plan, stages, 4.0, rows)

    ends = EndStageTraffic(shape, plan, price)
    ends.expect(last, 1.0, read)
    assert np.array_equal(ends.collectives(first, 0.0, read)["allreduce"][0][read], full[0]["allreduce"][0][read])
    assert asked == [2] and ends.collectives(last, 1.0, read) is ends.collectives(last, 1.0, read)
    again = ends.collectives(last, 1.0, ~read)  # (plans outside the expected mask: priced again)
    assert asked == [2, 1] and np.array_equal(again["gather"][0][~read], full[1]["gather"][0][~read])
