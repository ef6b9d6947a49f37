"""A single estimate's plan on Python floats end to end (issue 18): `estimate_training` reads the one-plan outputs
(`estimate.one_plan_outputs`) without building arrays, the collective float entries give the array path's bits,
the plan rules of one plan give the verdicts of the array rules, and a group of one rank costs no collective time.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collectives import collective_seconds, collective_time, send_recv_seconds, send_recv_time
from infraplan.training.enums import Dtype, Recompute, Schedule
from infraplan.training.estimate import (
    MEMORY_TERMS,
    estimate_training,
    evaluate_plans,
    one_plan_outputs,
    resolve_plan,
)
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import plan_violations
from infraplan.training.schedules import schedule_violations
from infraplan.training.step_time import COMPONENTS


@pytest.mark.parametrize(("model", "system", "gpus", "plan"), [
    ("llama3-405b", "meta-genai-roce-24k", 16384,
     dict(tp=8, pp=16, vpp=4, seq_len=8192, global_batch=2048, zero=3)),  # (VPP 7: 112 of 128 chunks, refused)
    ("llama3-70b", "dgx-h100-superpod", 256,
     dict(tp=4, pp=4, cp=2, vpp=2, seq_len=8192, global_batch=512, recompute="selective", dtype="fp8")),
    ("mixtral-8x7b", "dgx-h100-superpod", 128,
     dict(tp=2, pp=2, ep=8, seq_len=4096, global_batch=512, recompute="full", recompute_layers=1)),
])
def test_estimate_training_reports_the_bits_of_its_row_in_a_grid(model: str, system: str, gpus: int,
                                                                 plan: dict[str, object]) -> None:
    clear_one_plan_memo()
    estimate = estimate_training(model, system, gpus, **plan)  # type: ignore[arg-type]
    shape, cluster = load_model(model), Cluster.resolve(system).for_gpus(gpus)
    config = estimate.config
    one = resolve_plan(shape, cluster, gpus, config.tp, config.pp, None, config.cp, config.ep, config.vpp,
                       config.seq_len, config.global_batch, config.micro_batch, config.recompute, config.zero,
                       config.dtype, order=config.order)
    one = PlanArrays(**{**{name: getattr(one, name) for name in one.__dataclass_fields__},
                        "recompute_layers": np.array([config.recompute_layers])})
    twice = PlanArrays(**{name: np.concatenate([getattr(one, name)] * 2) for name in one.__dataclass_fields__})
    grid = evaluate_plans(shape, cluster, twice)  # the array path: no one-plan floats, no memo
    assert estimate.step_time_s == grid["step_time_s"][1] and estimate.mfu == grid["mfu"][1]
    assert estimate.memory_per_gpu_bytes == grid["memory_per_gpu_bytes"][1] and estimate.fits == grid["fits"][1]
    assert all(getattr(estimate.breakdown_s, k) == grid[k][1] for k in COMPONENTS)
    assert all(getattr(estimate.memory_breakdown_bytes, k) == grid[f"mem_{k}"][1] for k in MEMORY_TERMS)
    # the one-plan outputs are plain Python numbers, and evaluate_plans hands out fresh one-element arrays of them
    outputs = one_plan_outputs(shape, cluster, one, resolve_stack(estimate.stack, "training"))
    flags = ("fits", "cuda_graphs")  # (booleans: whether the plan fits, whether its stack graphs it: hT70)
    assert all(type(v) is float for k, v in outputs.items() if k not in flags)
    assert all(type(outputs[k]) is bool for k in flags)
    arrays = evaluate_plans(shape, cluster, one)
    assert arrays.keys() == grid.keys() and all(arrays[k].shape == (1,) for k in arrays)
    assert arrays["fits"].dtype == np.bool_ and arrays["step_time_s"][0] == grid["step_time_s"][0]


def test_one_plan_schedule_rules_give_the_array_verdicts_and_reasons() -> None:
    codes = [int(s) for s in Schedule] + [99]  # and a code no schedule has
    cases = list(itertools.product(codes, range(1, 7), range(1, 4), range(1, 14)))
    schedule, pp, vpp, batches = (np.array(c, dtype=np.int64) for c in zip(*cases, strict=True))
    grid = schedule_violations(schedule, pp, vpp, batches)
    for i, (code, p, v, m) in enumerate(cases):
        alone = schedule_violations(code, p, v, m)
        assert [why for _, why in alone] == [why for _, why in grid]
        assert [bool(bad) for bad, _ in alone] == [bool(bad[i]) for bad, _ in grid], cases[i]
    assert any(bool(bad) for bad, _ in schedule_violations(99, 2, 1, 4))


def test_one_plan_rules_give_the_first_array_verdict() -> None:
    shape = load_model("mixtral-8x7b")
    cases = list(itertools.product((1, 2, 3), (1, 2, 4), (1, 3, 16), (1, 2, 8), (1, 2), (0, 2)))
    for tp, pp, dp, ep, vpp, recompute in cases:
        plan = PlanArrays.build(tp=tp, pp=pp, dp=dp, cp=1, ep=ep, vpp=vpp, micro_batch=1, global_batch=96,
                                seq_len=4096, recompute=recompute, zero=1, dtype=int(Dtype.BF16))
        assert plan.is_one and plan.one_row.tp == tp and plan.one_row.recompute == recompute
        alone = [why for bad, why in plan_violations(shape, plan.one_row) if bad]
        grid = [why for bad, why in plan_violations(shape, plan.take(np.zeros(2, dtype=np.int64))) if bad[0]]
        assert alone == grid, (tp, pp, dp, ep, vpp, recompute)
    with pytest.raises(InputError, match="expert parallel must divide"):
        estimate_training("mixtral-8x7b", "dgx-h100-superpod", 48, tp=2, ep=3, seq_len=4096, global_batch=96)


def test_a_group_of_one_rank_costs_no_collective_time() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    for kind in ("all_gather", "reduce_scatter", "all_reduce", "all_to_all"):
        assert float(collective_time(fabric, kind, 1e9, 1, 8)) == 0.0
        assert float(collective_time(fabric, kind, 1e9, 2, 8)) > 0.0
    # context parallel 1 prices no CP traffic; 2 does
    base = dict(tp=4, pp=1, seq_len=8192, global_batch=64, recompute=Recompute.NONE.label)
    assert estimate_training("llama3-8b", "dgx-h100-superpod", 64, cp=1, **base).breakdown_s.cp_comm == 0.0  # type: ignore[arg-type]
    assert estimate_training("llama3-8b", "dgx-h100-superpod", 64, cp=2, **base).breakdown_s.cp_comm > 0.0  # type: ignore[arg-type]


@pytest.mark.parametrize("system", ["meta-genai-roce-24k", "gb200-nvl72-superpod", "dgx-a100-superpod"])
def test_collective_float_entries_give_the_array_bits(system: str) -> None:
    fabric = Cluster.resolve(system).fabric
    rng = np.random.default_rng(18)
    size = np.concatenate([rng.uniform(0.0, 4e9, 150), 2.0 ** rng.integers(10, 34, 50)])
    n = rng.choice([1.0, 2.0, 3.0, 8.0, 16.0, 72.0, 128.0, 1024.0, 8192.0], size.size)
    stride = rng.choice([1.0, 2.0, 8.0, 64.0, 128.0, 1024.0], size.size)
    for kind in ("all_gather", "reduce_scatter", "all_reduce", "all_to_all"):
        grid = collective_time(fabric, kind, size, n, stride)
        for i in range(size.size):
            seconds = collective_seconds(fabric, kind, float(size[i]), float(n[i]), float(stride[i]))
            assert type(seconds) is float and seconds == grid[i], (kind, size[i], n[i], stride[i])
    p2p = send_recv_time(fabric, size, stride)
    assert all(send_recv_seconds(fabric, float(size[i]), int(stride[i])) == p2p[i] for i in range(size.size))
