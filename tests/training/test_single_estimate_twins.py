"""The float twins of a single estimate (issue 18, round 5) give what the array code gives, bit for bit.

Each twin stands in for general code on one plan's Python numbers: the derived columns of a `one_row` plan, the
first broken plan rule, a GEMM's forward and backward, the kept collective times, the host time no queued work
covers, and the traffic of one ZeRO stage. Each is held to the code it stands in for on inputs chosen where they
could differ (folded expert layouts, both rank orders, invalid plans, every ZeRO stage).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.hardware.gemm_seconds import gemm_fwd_bwd_seconds
from infraplan.hardware.kernels import gemm_time
from infraplan.network import collective_efficiency, collectives
from infraplan.network.collectives import collective_seconds, collective_time
from infraplan.training import one_plan_memo
from infraplan.training.enums import Dtype, RankOrder, Recompute, Schedule
from infraplan.training.host_time import host_exposed_floats, host_exposed_time
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import first_broken_rule, plan_violations
from infraplan.training.step_time import one_plan_step_time, step_time

DERIVED = ("gpus", "pp_stride", "dp_stride", "expert_tp", "folded", "ep_stride", "edp", "edp_stride", "micro_batches")


def _plans(rng: np.random.Generator, count: int) -> list[dict[str, int]]:
    """Random plans over every field the rules and the derived columns read (valid or not)."""
    return [dict(tp=int(rng.choice([1, 2, 3, 4, 8])), pp=int(rng.choice([1, 2, 4, 16])),
                 dp=int(rng.choice([1, 2, 3, 8, 16])), cp=int(rng.choice([1, 2])), ep=int(rng.choice([1, 2, 4, 8])),
                 etp=int(rng.choice([0, 0, 1, 2, 4])), vpp=int(rng.choice([1, 2, 3])),
                 micro_batch=int(rng.choice([1, 2])), global_batch=int(rng.choice([48, 64, 96, 256])),
                 seq_len=int(rng.choice([2048, 4097, 8192])),
                 recompute=int(rng.choice([int(r) for r in Recompute])), zero=int(rng.integers(0, 4)),
                 dtype=int(Dtype.BF16), attention=0, order=int(rng.choice([int(o) for o in RankOrder])),
                 sequence_parallel=int(rng.integers(0, 2)),
                 schedule=int(rng.choice([*(int(s) for s in Schedule), 99])),
                 recompute_layers=int(rng.choice([0, 0, 1, 9, -1])))
            for _ in range(count)]


def test_a_one_row_plans_derived_columns_are_the_arrays() -> None:
    for fields in _plans(np.random.default_rng(5), 400):
        one = PlanArrays.one_plan(**fields)  # type: ignore[arg-type]
        grid = PlanArrays.build(**{k: np.array([v, v]) for k, v in fields.items()})
        for name in DERIVED:
            got, want = getattr(one.one_row, name), getattr(grid, name)[0]
            assert type(got) is (bool if name == "folded" else int) and got == want, (name, fields)
        assert grid.one_row.__dict__ == {k: v for k, v in one.one_row.__dict__.items() if k in grid.one_row.__dict__}


@pytest.mark.parametrize("model", ["mixtral-8x7b", "llama3-70b", "deepseek-v3"])
@pytest.mark.parametrize("extra", [0, 2])
def test_the_first_broken_rule_is_the_rules_first(model: str, extra: int) -> None:
    shape = load_model(model)
    broken = 0
    for fields in _plans(np.random.default_rng(len(model) + extra), 500):
        row = PlanArrays.one_plan(**fields).one_row  # type: ignore[arg-type]
        want = next((why for bad, why in plan_violations(shape, row, extra) if bad), None)
        assert first_broken_rule(shape, row, extra) == want, fields
        broken += want is not None
    assert 0 < broken < 500  # valid and invalid plans both checked


def test_a_gemms_forward_and_backward_are_the_array_bits() -> None:
    rates = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    rng = np.random.default_rng(11)
    for m, n, k in zip(rng.choice([1.0, 7.0, 100.0, 129.0, 4096.0, 8192.0 * 3], 60),
                       rng.choice([1.0, 64.0, 1000.0, 16384.0], 60), rng.choice([0.0, 128.0, 5120.0, 53248.0], 60),
                       strict=True):
        fwd, bwd = gemm_fwd_bwd_seconds(rates, m, n, k, 1.0, rates.matmul_flops_per_s / 2.0)
        assert fwd == float(gemm_time(rates, m, n, k, 1.0, rates.matmul_flops_per_s / 2.0))
        assert bwd == float(gemm_time(rates, m, k, n, 1.0, rates.matmul_flops_per_s / 2.0)
                            + gemm_time(rates, k, n, m, 1.0, rates.matmul_flops_per_s / 2.0))


def test_kept_collective_times_are_the_formulas_and_forgotten_with_the_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    fabric = Cluster.resolve("meta-genai-roce-24k").fabric
    one_plan_memo.clear_one_plan_memo(pricings=False)
    assert not collectives._SECONDS
    for kind in ("all_gather", "reduce_scatter", "all_reduce", "all_to_all"):
        for size, n, stride in ((3e8, 8, 1), (3e8, 8.0, 1.0), (1.7e9, 128, 128), (32768.0, 8, 1), (5e8, 1, 64)):
            first = collective_seconds(fabric, kind, size, n, stride)  # priced, then kept
            assert collective_seconds(fabric, kind, size, n, stride) == first
            assert first == float(collective_time(fabric, kind, np.array([size, 1.0]), np.array([n, 2.0]),
                                                  np.array([stride, 1.0]))[0])
    assert collectives._SECONDS
    # a patched network step latency is part of the key: the kept value is not served
    before = collective_seconds(fabric, "reduce_scatter", 3e9, 128.0, 128.0)
    monkeypatch.setattr(collective_efficiency, "NCCL_NET_STEP_LATENCY_S", 1.0)
    assert collective_seconds(fabric, "reduce_scatter", 3e9, 128.0, 128.0) > before
    one_plan_memo.clear_one_plan_memo(pricings=False)  # the kept times are values of plans: forgotten with the rows
    assert not collectives._SECONDS


def test_host_exposed_floats_are_host_exposed_time() -> None:
    rng = np.random.default_rng(3)
    for hf, hb, gf, gb in rng.uniform(0.0, 2e-3, (200, 4)):
        for m, synced in itertools.product((1.0, 4.0), (True, False)):
            args = (float(hf), float(hb), float(gf), float(gb), m, synced, 26e-6)
            assert host_exposed_floats(*args) == host_exposed_time(*args)


@pytest.mark.parametrize(("model", "system", "fields"), [
    ("llama3-405b", "meta-genai-roce-24k", dict(tp=8, pp=16, dp=128, vpp=7, seq_len=8192, global_batch=2048)),
    ("mixtral-8x7b", "dgx-h100-superpod", dict(tp=2, pp=2, dp=8, ep=4, vpp=1, seq_len=4096, global_batch=128)),
])
def test_one_plan_traffic_of_its_zero_stage_gives_the_grids_step(model: str, system: str,
                                                                  fields: dict[str, int]) -> None:
    shape, cluster, stack = load_model(model), Cluster.resolve(system), resolve_stack(None, "training")
    base = dict(cp=1, ep=1, micro_batch=1, recompute=0, dtype=int(Dtype.BF16), attention=0,
                order=int(RankOrder.TP_CP_PP_DP), sequence_parallel=1) | fields
    grid = step_time(shape, cluster, PlanArrays.build(**base, zero=np.arange(4)), stack)
    one_plan_memo.clear_one_plan_memo()
    for zero in range(4):  # each stage's row prices its own DP collectives (memo rows keyed by the stage)
        one = one_plan_step_time(shape, cluster, PlanArrays.one_plan(**base, zero=zero, etp=None), stack)
        assert one == {k: float(v[zero]) for k, v in grid.items()}, zero


def test_a_one_row_plans_precision_is_the_tables_floats() -> None:
    pricing = one_plan_memo.cluster_pricing(Cluster.resolve("dgx-h100-superpod"), resolve_stack(None, "training"))
    for dtype in Dtype:
        one = PlanArrays.one_plan(tp=1, pp=1, dp=1, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=8,
                                  seq_len=2048, recompute=0, zero=1, dtype=int(dtype), attention=0, order=0,
                                  sequence_parallel=1)
        rate, width = pricing.precision_of(one.one_row)
        array_rate, array_width = pricing.precision_of(one)
        assert type(rate) is float and type(width) is float
        assert (rate, width) == (float(array_rate[0]), float(array_width[0])) or np.isnan(rate)


def test_layer_kinds_are_kept_by_the_models_identity() -> None:
    shape = load_model("deepseek-v3")
    kinds = shape.layer_kinds()
    assert shape.layer_kinds() is kinds  # a constant of the frozen model
    fresh = shape.model_copy(update={"num_layers": shape.num_layers + 1})
    assert fresh.layer_kinds() is not kinds and fresh.layer_kinds()[0][1] == kinds[0][1] + 1
    assert [(k.model_dump(), n) for k, n in kinds] == [(k.model_dump(), n) for k, n in
                                                       shape.model_copy().layer_kinds()]
