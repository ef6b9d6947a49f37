"""The shortcuts of a single estimate's float path give what the general code gives (issue 18, single estimate).

Each shortcut below (inline max/min, a one-plan builder, values kept on a plan's row or by a model's identity,
the last pricing, the last message efficiency, the float collective formulas, the GEMM's wide-M tile) is held to
the code it stands in for, on inputs chosen where they could differ.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.hardware.kernels import gemm_time
from infraplan.network import collective_efficiency
from infraplan.network.collectives import collective_seconds, collective_time, send_recv_seconds, send_recv_time
from infraplan.ops import params as ops_params
from infraplan.scalar_path import FLOAT_OPS, larger, smaller
from infraplan.training import one_plan_memo
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.flops import hardware_flops_per_step, model_flops_per_step
from infraplan.training.memory import local_expert_params, local_layer_params, local_params, memory_breakdown
from infraplan.training.plan import PLAN_FIELDS, PlanArrays

_SPECIAL = [0.0, -0.0, 1.0, -1.0, 2.5, math.inf, -math.inf, math.nan, 3, 0, True]


@pytest.mark.parametrize("a", _SPECIAL)
@pytest.mark.parametrize("b", _SPECIAL)
def test_float_max_and_min_are_the_builtins(a: float, b: float) -> None:
    for ours, builtin in ((FLOAT_OPS.maximum, max), (FLOAT_OPS.minimum, min), (larger, max), (smaller, min)):
        got, want = ours(a, b), builtin(a, b)
        # the same object: NaN stays NaN, -0.0 keeps its sign, an int stays an int
        assert got is want or (type(got) is type(want) and got == want
                               and math.copysign(1, got) == math.copysign(1, want))


def _plans() -> list[dict[str, object]]:
    return [
        dict(tp=8, pp=16, dp=128, cp=1, ep=1, etp=None, vpp=7, micro_batch=1, global_batch=2048, seq_len=8192,
             recompute=Recompute.NONE, zero=3, dtype=Dtype.BF16, attention=Attention.FLASH,
             order=RankOrder.TP_CP_PP_DP, sequence_parallel=1, schedule=None),
        dict(tp=2, pp=4, dp=16, cp=2, ep=8, etp=1, vpp=1, micro_batch=2, global_batch=512, seq_len=4096,
             recompute=Recompute.FULL, zero=1, dtype=Dtype.FP8, attention=Attention.UNFUSED,
             order=RankOrder.TP_CP_DP_PP, sequence_parallel=0, schedule=None),
        dict(tp=1, pp=2, dp=4, cp=1, ep=1, etp=None, vpp=2, micro_batch=1, global_batch=64, seq_len=2048,
             recompute=Recompute.SELECTIVE, zero=0, dtype=Dtype.BF16, attention=Attention.FLASH,
             order=RankOrder.TP_CP_PP_DP, sequence_parallel=1, schedule=4),
    ]


@pytest.mark.parametrize("fields", _plans())
def test_one_plan_builds_what_build_builds(fields: dict[str, object]) -> None:
    fast, general = PlanArrays.one_plan(**fields), PlanArrays.build(**fields)  # type: ignore[arg-type]
    for name in PLAN_FIELDS:
        a, b = getattr(fast, name), getattr(general, name)
        assert a.shape == b.shape == (1,) and a.dtype == b.dtype and a[0] == b[0], name
        assert getattr(fast.one_row, name) == getattr(general.one_row, name)
        assert type(getattr(fast.one_row, name)) is int
    assert fast.is_one and fast.row_key == general.row_key == tuple(int(getattr(general, n)[0]) for n in PLAN_FIELDS)
    assert fast.row(0) == general.row(0) == PlanArrays.build(**{k: [v, v] for k, v in fields.items()
                                                               if v is not None}).row(1) | {}  # type: ignore[arg-type]
    # derived columns are computed once and kept: the same object on the next read
    assert fast.one_row.ep_stride is fast.one_row.ep_stride and fast.one_row.edp == int(general.edp[0])


def test_one_plan_takes_other_number_types_through_build() -> None:
    fields = {**_plans()[0], "tp": np.int64(8), "seq_len": 8192.0}
    plan = PlanArrays.one_plan(**fields)  # type: ignore[arg-type]
    assert plan.is_one and plan.row(0)["tp"] == 8 and plan.row(0)["seq_len"] == 8192


def test_values_kept_on_a_row_are_per_model_and_equal_the_array_path() -> None:
    dense, moe = load_model("llama3-70b"), load_model("mixtral-8x7b")
    fields = {**_plans()[1], "ep": 8}
    plan = PlanArrays.build(**fields)  # type: ignore[arg-type]
    row = plan.one_row
    for shape in (dense, moe, dense):  # a row asked for two models gets each model's value
        for ours, plain in ((local_params, ops_params.local_params),
                            (local_expert_params, ops_params.local_expert_params)):
            want = plain(shape, np.array([2]), np.array([4]), np.array([8]), np.array([1]))
            assert ours(shape, row) == float(np.ravel(want)[0]) == float(np.ravel(ours(shape, plan))[0])
        assert local_layer_params(shape, row) == float(np.ravel(local_layer_params(shape, plan))[0])
        assert memory_breakdown(shape, row)["weights"] == float(memory_breakdown(shape, plan)["weights"][0])
        mf = model_flops_per_step(shape, row)
        assert hardware_flops_per_step(shape, row, mf) == float(hardware_flops_per_step(shape, plan)[0])


def test_the_last_pricing_is_forgotten_with_the_pricings() -> None:
    cluster, stack = Cluster.resolve("dgx-h100-superpod"), resolve_stack(None, "training")
    first = one_plan_memo.cluster_pricing(cluster, stack)
    assert one_plan_memo.cluster_pricing(cluster, stack) is first
    one_plan_memo.clear_one_plan_memo(pricings=False)
    assert one_plan_memo.cluster_pricing(cluster, stack) is first
    one_plan_memo.clear_one_plan_memo()
    assert one_plan_memo.cluster_pricing(cluster, stack) is not first
    other = one_plan_memo.cluster_pricing(cluster, resolve_stack("megatron-lm-2022", "training"))
    assert other is not first and one_plan_memo.cluster_pricing(cluster, stack) is not other


def test_kept_message_efficiency_is_by_fabric_and_group() -> None:
    a = Cluster.resolve("dgx-h100-superpod").fabric
    b = Cluster.resolve("meta-genai-roce-24k").fabric
    for fabric, size, n, stride in [(a, 3e8, 64.0, 8.0), (b, 3e8, 64.0, 8.0), (b, 3e8, 64.0, 1.0),
                                    (b, 5e8, 64.0, 1.0), (b, 5e8, 64.0, 1.0), (a, 5e8, 8.0, 1.0)]:
        for all_to_all in (False, True, False):
            kept = collective_efficiency._message_efficiency_one(fabric, size, n, stride, all_to_all)
            assert kept == float(collective_efficiency.message_efficiency(fabric, np.array([size, 1.0]),
                                                                          np.array([n, 2.0]), np.array([stride, 1.0]),
                                                                          all_to_all)[0])


def test_log2_is_numpys_at_powers_of_two_and_elsewhere() -> None:
    rng = np.random.default_rng(18)
    values = np.concatenate([2.0 ** np.arange(-20, 60), rng.uniform(1.0, 1e12, 500), 2.0 ** np.arange(1, 40) + 1.0])
    assert [collective_efficiency._log2(float(v)) for v in values] == np.log2(values).tolist()


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "meta-genai-roce-24k"])
def test_float_collective_formulas_give_the_array_bits(system: str) -> None:
    fabric = Cluster.resolve(system).fabric
    rng = np.random.default_rng(7)
    sizes = np.concatenate([2.0 ** rng.integers(10, 36, 40), rng.uniform(1.0, 3e10, 40)])
    groups = rng.choice([1.0, 2.0, 3.0, 8.0, 16.0, 64.0, 128.0, 1024.0], sizes.size)
    strides = rng.choice([1.0, 2.0, 8.0, 64.0, 128.0], sizes.size)
    for kind in ("all_reduce", "reduce_scatter", "all_gather", "all_to_all"):
        times = collective_time(fabric, kind, sizes, groups, strides)
        assert [collective_seconds(fabric, kind, s, g, d) for s, g, d in zip(sizes, groups, strides, strict=True)] \
            == times.tolist(), kind
    p2p = send_recv_time(fabric, sizes, strides)
    assert [send_recv_seconds(fabric, s, d) for s, d in zip(sizes, strides, strict=True)] == p2p.tolist()


@pytest.mark.parametrize("tile_m", [16, 64, 128, 192, 256])
def test_wide_gemms_take_the_widest_tile_without_the_logarithm(tile_m: int) -> None:
    base = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").accelerator, "bf16")
    rates = KernelRates(**{**base.__dict__, "tile_m": tile_m})
    m = np.array([tile_m - 1.0, tile_m - 0.5, float(tile_m), tile_m + 0.5, tile_m + 1.0, 2.0 * tile_m + 1, 1e6, 0.0,
                  0.5, 1.0, 17.0, tile_m / 2, tile_m / 2 + 1.0, 0.75 * tile_m, tile_m / 4 + 0.5])
    array = gemm_time(rates, m, 4096.0, 8192.0, 2.0)
    assert [gemm_seconds(rates, x, 4096.0, 8192.0, 2.0, rates.matmul_flops_per_s) for x in m] == array.tolist()


def test_repeated_estimates_of_one_plan_are_identical() -> None:
    one_plan_memo.clear_one_plan_memo()
    args = dict(tp=8, pp=16, vpp=8, seq_len=8192, global_batch=2048, zero=3)
    first = estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **args).to_json()  # type: ignore[arg-type]
    one_plan_memo.clear_one_plan_memo(pricings=False)
    assert estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **args).to_json() == first  # type: ignore[arg-type]
    assert estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **args).to_json() == first  # type: ignore[arg-type]


def test_clearing_the_memo_forgets_the_float_collective_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from infraplan.network import collectives

    fabric = Cluster.resolve("meta-genai-roce-24k").fabric
    before = collective_seconds(fabric, "reduce_scatter", 3e9, 128.0, 128.0)
    assert collectives._LINKS and collectives._GROUPS
    # a patched network step latency reaches the float path (read from its module on each call)
    monkeypatch.setattr(collective_efficiency, "NCCL_NET_STEP_LATENCY_S", 1.0)
    assert collective_seconds(fabric, "reduce_scatter", 3e9, 128.0, 128.0) > before
    one_plan_memo.clear_one_plan_memo()
    assert not collectives._LINKS and not collectives._GROUPS and collective_efficiency._LAST_EFFICIENCY.empty
    assert not collective_efficiency._FLOAT_TABLES
