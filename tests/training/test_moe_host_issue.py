"""Dropless MoE layers under CUDA graphs issue their MoE block eagerly after one host sync per layer forward
(`Stack.moe_cuda_graph`, `training.host_time.dropless_moe_host`, `training.step_assembly`)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.gpt_oss_experts import FC2_BIAS_KERNELS_PER_EXPERT, MAIN_GRAD_ADD_KERNELS_PER_EXPERT
from infraplan.training import host_time
from infraplan.training import step_time as st
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.host_time import (
    CPP_GEMM_LAUNCH_S,
    CUDA_GRAPH_LAUNCH_S,
    EXPERT_BIAS_GRAD_CALLS,
    EXPERT_DUMMY_WGRAD_CALLS,
)
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

D = 26e-6
DROPLESS = load_stack("nemo-26.04")
GRAPHED = DROPLESS.model_copy(update={"moe_cuda_graph": "graphed"})


def _gpt_oss_terms(ep: np.ndarray, stack: object) -> dict[str, np.ndarray]:
    """Layer terms of GPT-OSS 120B, TP1, one 4,096-token micro-batch, bf16, on B200s, at each EP."""
    shape, cluster = load_model("gpt-oss-120b"), Cluster.resolve("dgx-b200").for_gpus(64)
    n = len(ep)
    plan = PlanArrays.build(tp=np.ones(n, dtype=np.int64), pp=np.ones(n, dtype=np.int64), dp=np.full(n, 64), cp=1,
                            ep=ep, vpp=1, micro_batch=np.ones(n, dtype=np.int64),
                            global_batch=np.full(n, 1280), seq_len=np.full(n, 4096), recompute=Recompute.NONE,
                            zero=1, dtype=Dtype.BF16, attention=Attention.FLASH, order=RankOrder.TP_CP_DP_PP)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    return st.layer_times(shape, rates, cluster.fabric, plan, (rates.matmul_flops_per_s, 2.0), D,
                          stack)  # type: ignore[arg-type]


def test_the_eager_block_grows_with_the_local_experts_python_bias_loop_and_cpp_gemm_launches() -> None:
    t = _gpt_oss_terms(np.array([8, 64]), DROPLESS)  # 16 and 2 local experts of 128
    # forward: the fc2 bias loop runs 2 kernels per local expert in Python; TE GroupedLinear one cuBLAS GEMM per
    # local expert from C++ for fc1 and fc2; the rest of the block does not depend on the expert count
    per_expert = FC2_BIAS_KERNELS_PER_EXPERT[0] * D + 2.0 * CPP_GEMM_LAUNCH_S
    assert t["moe_host_fwd"][0] - t["moe_host_fwd"][1] == pytest.approx(14 * per_expert)
    # backward: 4 bias-loop kernels per expert, the DDP hook's main-grad add of its 2 biases, dgrad + wgrad per
    # expert and GEMM, each weight's dummy wgrad and each bias gradient's buffer (bf16); plus the graph launch
    calls = FC2_BIAS_KERNELS_PER_EXPERT[1] + MAIN_GRAD_ADD_KERNELS_PER_EXPERT + EXPERT_DUMMY_WGRAD_CALLS \
        + EXPERT_BIAS_GRAD_CALLS
    per_expert_bwd = calls * D + 4.0 * CPP_GEMM_LAUNCH_S
    assert t["host_bwd"][0] - t["host_bwd"][1] == pytest.approx(14 * per_expert_bwd)
    # 16 local experts: ~1.4 ms of eager issue per layer forward at 26 us a call, over 50 Python calls
    assert 50 * D < t["moe_host_fwd"][0] < 2e-3
    assert np.all(t["moe_host_sync"] == 1.0) and np.all(t["moe_gpu_fwd"] > 0.0)
    assert np.all(t["host_fwd"] == CUDA_GRAPH_LAUNCH_S)  # attention + router: their graph


def test_a_drop_pad_graphed_moe_layer_and_a_dense_layer_keep_one_graph_launch() -> None:
    t = _gpt_oss_terms(np.array([8]), GRAPHED)
    assert t["moe_host_sync"][0] == 0.0 and t["moe_host_fwd"][0] == 0.0
    assert t["host_fwd"][0] == t["host_bwd"][0] == CUDA_GRAPH_LAUNCH_S
    est = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=1, pp=1, seq_len=4096, global_batch=16,
                            micro_batch=1, stack=DROPLESS, dtype="bf16")
    clear_one_plan_memo()
    same = estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=1, pp=1, seq_len=4096, global_batch=16,
                             micro_batch=1, stack=GRAPHED, dtype="bf16")
    assert est.step_time_s == same.step_time_s  # dense: the setting changes nothing


def _gpt_oss_step(stack: object) -> float:
    clear_one_plan_memo()
    return estimate_training("gpt-oss-120b", "dgx-b200", 64, tp=1, pp=1, ep=8, seq_len=4096, global_batch=1280,
                             micro_batch=4, stack=stack, dtype="bf16").step_time_s  # type: ignore[arg-type]


def test_gpu_bound_blocks_cost_one_dispatch_per_layer_and_a_slow_host_exposes_the_excess(
        monkeypatch: pytest.MonkeyPatch) -> None:
    layers, micro_batches = 36, 5  # H022: GBS 1280 / (MBS 4 x DP 64)
    # the block's own GPU work (all-to-alls, expert GEMMs) covers its eager issue: one dispatch after each sync,
    # and the backward's bank no longer crosses micro-batches
    delta = _gpt_oss_step(DROPLESS) - _gpt_oss_step(GRAPHED)
    assert 0.0 < delta < 3.0 * layers * micro_batches * D
    # a host 50x slower per C++ launch: the block's issue outruns its GPU work, the excess is exposed per layer
    monkeypatch.setattr(host_time, "CPP_GEMM_LAUNCH_S", 50.0 * CPP_GEMM_LAUNCH_S)
    slow = _gpt_oss_terms(np.array([8]), DROPLESS)  # MBS 1 here: the step's own terms below
    assert slow["moe_host_fwd"][0] > 16 * 2 * 50.0 * CPP_GEMM_LAUNCH_S
    clear_one_plan_memo()
    t4 = _terms_mbs4(DROPLESS)
    excess = t4["moe_host_fwd"] - t4["moe_gpu_fwd"] - t4["ep_fwd"]
    assert excess > 0.0
    slow_delta = _gpt_oss_step(DROPLESS) - _gpt_oss_step(GRAPHED)
    # (less a little: the longer host-bound backward widens the window that hides the DP reduction)
    assert slow_delta >= 0.9 * layers * micro_batches * excess


def _terms_mbs4(stack: object) -> dict[str, float]:
    shape, cluster = load_model("gpt-oss-120b"), Cluster.resolve("dgx-b200").for_gpus(64)
    plan = PlanArrays.build(tp=np.array([1]), pp=np.array([1]), dp=np.array([64]), cp=1, ep=np.array([8]), vpp=1,
                            micro_batch=np.array([4]), global_batch=np.array([1280]), seq_len=np.array([4096]),
                            recompute=Recompute.NONE, zero=1, dtype=Dtype.BF16, attention=Attention.FLASH,
                            order=RankOrder.TP_CP_DP_PP)
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    t = st.layer_times(shape, rates, cluster.fabric, plan, (rates.matmul_flops_per_s, 2.0), D,
                       stack)  # type: ignore[arg-type]
    return {k: float(np.asarray(v).reshape(-1)[0]) for k, v in t.items()}


@pytest.mark.parametrize(("model", "gpus", "dtypes"), [("gpt-oss-120b", 64, ["bf16", "fp8"]),
                                                       ("deepseek-v3", 256, ["fp8"])])
def test_one_plan_on_floats_equals_the_array_path(model: str, gpus: int, dtypes: list[str]) -> None:
    assert_one_plans_equal_the_grid(model, "dgx-h100-superpod", gpus, dtypes, DROPLESS, seed=5, sample=12)


def assert_one_plans_equal_the_grid(model: str, system: str, gpus: int, dtypes: list[str], stack: object, seed: int,
                                    sample: int, max_vpp: int = 16) -> None:
    """A seeded sample of the EP plans, every recompute mode: each plan priced alone (the float path, memo emptied)
    equals its row of the grid, bit for bit. `max_vpp` narrows the space the sample is drawn from."""
    shape, cluster = load_model(model), Cluster.resolve(system).for_gpus(gpus)
    plans = enumerate_plans(shape, gpus, 4096, 1024, dtypes, 8, max_vpp)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0])
    plans = plans.take(np.nonzero(plans.ep > 1)[0])
    rng = np.random.default_rng(seed)
    plans = plans.take(np.sort(rng.choice(len(plans), size=min(sample, len(plans)), replace=False)))
    assert len(plans) >= 6
    modes = np.array([int(Recompute.NONE), int(Recompute.SELECTIVE), int(Recompute.FULL)])
    plans = dataclasses.replace(plans, recompute=modes[np.arange(len(plans)) % 3].astype(np.int64))
    grid = evaluate_plans(shape, cluster, plans, stack)  # type: ignore[arg-type]
    for i in range(len(plans)):
        clear_one_plan_memo()
        alone = evaluate_plans(shape, cluster, plans.take([i]), stack)  # type: ignore[arg-type]
        for key, value in alone.items():
            assert value[0] == grid[key][i] or (np.isnan(value[0]) and np.isnan(grid[key][i])), (key, plans.row(i))
