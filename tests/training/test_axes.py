"""The plan axes are declared once; the step-time cache keys derived from them miss no field that matters.

For every PlanArrays field, perturb it on a few base plans and watch the two cached computations of
`step_time` (per-layer + LM-head times, `layer_terms`; pipeline p2p + data-parallel traffic): a field that changes
one of them must be in its key set, or plans differing only in that field would silently share cached rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster.cluster import Cluster
from infraplan.training import axes, layer_terms, step_time, step_traffic
from infraplan.training.enums import Attention, Dtype, LabelledEnum, RankOrder, Recompute, Schedule
from infraplan.training.estimate import evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

CLUSTER = Cluster.resolve("dgx-h100-superpod")
BASES = [
    ("llama3-8b", dict(tp=2, pp=2, dp=4, cp=1, ep=1, vpp=2, micro_batch=1, global_batch=64, seq_len=4096,
                       recompute=Recompute.NONE, zero=1, dtype=Dtype.BF16, attention=Attention.FLASH,
                       order=RankOrder.TP_CP_PP_DP, sequence_parallel=1)),
    ("mixtral-8x7b", dict(tp=2, pp=2, dp=4, cp=2, ep=2, vpp=1, micro_batch=2, global_batch=64, seq_len=4096,
                          recompute=Recompute.SELECTIVE, zero=3, dtype=Dtype.FP8, attention=Attention.UNFUSED,
                          order=RankOrder.TP_CP_DP_PP, sequence_parallel=0)),
]
ENUM_FIELDS: dict[str, type[LabelledEnum]] = {"recompute": Recompute, "dtype": Dtype, "attention": Attention,
                                              "order": RankOrder, "schedule": Schedule}


def _perturbations(field: str, value: int) -> list[int]:
    if field in ENUM_FIELDS:
        return [int(m) for m in ENUM_FIELDS[field] if m != value]
    if field == "sequence_parallel":
        return [1 - value]
    if field == "zero":
        return [z for z in (0, 1, 2, 3) if z != value]
    return [value * 2, value + 1]


def _cached_outputs(shape_name: str, plan: PlanArrays, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What step_time's two cached computations return for `plan`, computed without any sharing."""
    seen: dict[str, dict[str, np.ndarray]] = {}

    def spy(p: PlanArrays, keys: tuple[str, ...], compute: Callable[[PlanArrays], dict[str, np.ndarray]],
            *_owners_and_keep: object):  # the memo's owners and `keep` (hP20): a spy shares nothing
        out = compute(p)
        seen["layer" if keys == axes.LAYER_KEYS else "comm"] = out
        return out

    clear_one_plan_memo()  # a plan seen before would be looked up whole, past the spy
    with monkeypatch.context() as m:
        m.setattr(layer_terms, "_computed_once", spy)  # the layer terms
        m.setattr(step_traffic, "computed_once", spy)  # the communication terms
        evaluate_plans(load_model(shape_name), CLUSTER, plan)
    assert set(seen) == {"layer", "comm"}
    return seen


def _differs(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return any(not np.array_equal(np.asarray(a[k]), np.asarray(b[k]), equal_nan=True) for k in a)


def fields_changing_cached_times(monkeypatch: pytest.MonkeyPatch) -> tuple[set[str], set[str]]:
    layer, comm = set(), set()
    for shape_name, columns in BASES:
        base = PlanArrays.build(**columns)
        ref = _cached_outputs(shape_name, base, monkeypatch)
        for f in dataclasses.fields(PlanArrays):
            for value in _perturbations(f.name, int(getattr(base, f.name)[0])):
                plan = dataclasses.replace(base, **{f.name: np.array([value], dtype=np.int64)})
                out = _cached_outputs(shape_name, plan, monkeypatch)
                if _differs(ref["layer"], out["layer"]):
                    layer.add(f.name)
                if _differs(ref["comm"], out["comm"]):
                    comm.add(f.name)
    return layer, comm


def test_every_field_that_changes_cached_times_is_in_the_cache_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    layer, comm = fields_changing_cached_times(monkeypatch)
    # the probe sees what it must (so the subset checks below can fail) ...
    assert {"tp", "cp", "ep", "micro_batch", "seq_len", "dtype", "recompute", "attention",
            "sequence_parallel"} <= layer
    assert {"tp", "cp", "pp", "dp", "micro_batch"} <= comm
    # ... and the derived keys hold every field it sees
    assert layer <= set(layer_terms.LAYER_KEYS), layer - set(layer_terms.LAYER_KEYS)
    assert comm <= set(step_time.COMM_KEYS), comm - set(step_time.COMM_KEYS)


def test_cache_keys_are_derived_from_the_declared_axes() -> None:
    assert layer_terms.LAYER_KEYS == axes.LAYER_KEYS == tuple(a.field for a in axes.AXES if a.layer)
    assert step_time.COMM_KEYS == axes.COMM_KEYS == tuple(a.field for a in axes.AXES if a.comm)
    assert sorted(a.field for a in axes.AXES) == sorted(f.name for f in dataclasses.fields(PlanArrays))


def test_batched_step_time_equals_one_plan_at_a_time() -> None:
    """The caches are exact: a batch of plans differing in one field each equals evaluating each alone."""
    shape = load_model("mixtral-8x7b")
    plans = enumerate_plans(shape, 32, 4096, 64, ["bf16", "fp8"], max_tp=8)
    plans = plans.take(valid_mask(shape, plans))
    rng = np.random.default_rng(0)
    pick = plans.take(rng.choice(len(plans), size=60, replace=False))
    batch = evaluate_plans(shape, CLUSTER, pick)
    for i in range(len(pick)):
        alone = evaluate_plans(shape, CLUSTER, pick.take(slice(i, i + 1)))
        assert alone["step_time_s"][0] == pytest.approx(batch["step_time_s"][i], rel=1e-12)
        assert alone["memory_per_gpu_bytes"][0] == pytest.approx(batch["memory_per_gpu_bytes"][i], rel=1e-12)


def test_search_grid_covers_every_axis_value_it_declares() -> None:
    shape = load_model("llama3-8b")
    plans = enumerate_plans(shape, 16, 4096, 64, ["bf16", "fp8"], max_tp=8)
    assert set(np.unique(plans.schedule)) == set(Schedule)
    assert set(np.unique(plans.schedule[plans.vpp > 1])) <= {Schedule.INTERLEAVED, Schedule.ZB_V}
    assert (plans.schedule[plans.vpp > 2] == Schedule.INTERLEAVED).all()  # ZB-V has exactly 2 chunks per rank
    assert set(np.unique(plans.schedule[plans.vpp == 1])) == {Schedule.ONE_F_ONE_B, Schedule.ZB_H1, Schedule.DUALPIPE}
    assert set(np.unique(plans.dtype)) == {Dtype.BF16, Dtype.FP8}
    assert set(np.unique(plans.recompute)) == set(Recompute)
    only = enumerate_plans(shape, 16, 4096, 64, ["bf16"], max_tp=8, schedules=["1f1b"])
    assert (only.vpp == 1).all() and (only.schedule == Schedule.ONE_F_ONE_B).all()
