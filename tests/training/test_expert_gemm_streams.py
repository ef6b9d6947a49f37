"""Per-expert GEMMs over Transformer Engine's concurrent compute streams (`MoeRouting.expert_gemm_streams`,
`training.layer_kernels.stream_batched_fwd_bwd`): each run of `streams` consecutive experts' GEMMs shares its
waves, the runs one after another."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.ops.precision import recipe
from infraplan.training.enums import Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_kernels import TE_COMPUTE_STREAMS, gemm_fwd_bwd, stream_batched_fwd_bwd
from infraplan.training.plan import PlanArrays
from infraplan.training.step_time import layer_times, step_time

NEMO = load_stack("nemo-26.04")


def _with(**moe: object) -> object:
    return NEMO.model_copy(update={"moe": NEMO.moe.model_copy(update=moe)})


STREAMS = _with(expert_gemm_streams=4)
GROUPED = _with(expert_gemm="grouped")


def _rates() -> tuple[KernelRates, tuple[float, float]]:
    cluster = Cluster.resolve("dgx-b200").for_gpus(8)
    mx = recipe("mxfp8")
    return (KernelRates.for_dtype(cluster.accelerator, "mxfp8"),
            (mx.gemm_flops_per_s(cluster.accelerator), mx.operand_bytes))


def test_te_issues_on_four_streams_and_the_stack_default_is_one_after_another() -> None:
    assert TE_COMPUTE_STREAMS == 4.0  # libtransformer_engine.so 2.14: get_num_compute_streams returns 4
    assert NEMO.moe.expert_gemm_streams == 1


@pytest.mark.parametrize("count", [1.0, 3.0, 4.0, 6.0, 8.0, 32.0])
def test_runs_of_four_share_their_waves_the_rest_as_one_partial_run(count: float) -> None:
    rates, precision = _rates()
    m, n, k, share = 1024.0, 4096.0, 7168.0, 0.95
    fwd, bwd = stream_batched_fwd_bwd(rates, precision, m, n, k, count, share, one=True, grad_bytes=4.0)
    full, rest = count // 4.0, count % 4.0
    run = gemm_fwd_bwd(rates, precision, m, n, k, 4.0, True, 1.0, True, 4.0)
    tail = gemm_fwd_bwd(rates, precision, m, n, k, rest, True, 1.0, True, 4.0)
    assert fwd == pytest.approx(share * (full * run[0] + tail[0]), rel=1e-12)
    assert bwd == pytest.approx(share * (full * run[1] + tail[1]), rel=1e-12)
    # between one grouped kernel over every expert and each expert's GEMM alone
    alone = gemm_fwd_bwd(rates, precision, m, n, k, count * share, False, share, True, 4.0)
    grouped = gemm_fwd_bwd(rates, precision, m, n, k, count, True, share, True, 4.0)
    assert grouped[0] <= fwd * (1 + 1e-12) and fwd <= alone[0] * (1 + 1e-12)
    assert grouped[1] <= bwd * (1 + 1e-12) and bwd <= alone[1] * (1 + 1e-12)


def test_four_streams_recover_the_wave_tails_of_deepseek_v3_experts_at_ep8() -> None:
    # H017's layout: 32 local experts of 1,024 tokens: four streams price below one-by-one, above one kernel
    shape = load_model("deepseek-v3")
    cluster = Cluster.resolve("dgx-b200").for_gpus(8)
    rates, precision = _rates()
    plan = PlanArrays.one_plan(tp=1, pp=1, dp=8, cp=1, ep=8, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=4096, recompute=int(Recompute.NONE), zero=1, dtype=int(Dtype.MXFP8),
                               attention=0, order=int(RankOrder.TP_CP_DP_PP), sequence_parallel=1).one_row
    times = {name: layer_times(shape, rates, cluster.fabric, plan, precision, 0.0, s)  # type: ignore[arg-type]
             for name, s in (("alone", NEMO), ("streams", STREAMS), ("grouped", GROUPED))}
    for phase in ("compute_fwd", "compute_bwd"):
        assert float(times["grouped"][phase]) < float(times["streams"][phase]) < float(times["alone"][phase])
    # only the experts' GEMMs move
    assert times["streams"]["other_fwd"] == times["alone"]["other_fwd"]


def test_the_array_path_prices_the_streams_as_the_single_estimate_does() -> None:
    shape = load_model("qwen3-30b-a3b")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(32)
    grid = PlanArrays.build(tp=np.array([1, 1]), pp=np.array([2, 2]), dp=np.array([16, 16]), cp=np.array([1, 1]),
                            ep=np.array([16, 8]), vpp=np.array([1, 1]), micro_batch=np.array([1, 1]),
                            global_batch=np.array([64, 64]), seq_len=np.array([4096, 4096]),
                            recompute=np.array([int(Recompute.NONE)] * 2), zero=np.array([1, 1]),
                            dtype=np.array([int(Dtype.FP8)] * 2), attention=np.array([0, 0]),
                            order=np.array([int(RankOrder.TP_CP_DP_PP)] * 2), sequence_parallel=np.array([1, 1]))
    arrays = step_time(shape, cluster, grid, STREAMS)["step_time_s"]  # type: ignore[arg-type]
    for i, ep in enumerate((16, 8)):
        single = estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 32, tp=1, pp=2, cp=1, vpp=1, seq_len=4096,
                                   global_batch=64, micro_batch=1, recompute="none", zero=1, dtype="fp8", ep=ep,
                                   order="tp-cp-dp-pp", stack=STREAMS)  # type: ignore[arg-type]
        alone = estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", 32, tp=1, pp=2, cp=1, vpp=1, seq_len=4096,
                                  global_batch=64, micro_batch=1, recompute="none", zero=1, dtype="fp8", ep=ep,
                                  order="tp-cp-dp-pp", stack=NEMO)
        assert single.step_time_s == pytest.approx(float(arrays[i]), rel=1e-9)
        assert single.step_time_s < alone.step_time_s  # 8 / 16 local experts: two / four runs of four
