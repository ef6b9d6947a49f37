"""Host work per local expert in Transformer Engine's GroupedLinear, and the dropless MoE sync in eager stacks
(`training.host_time.expert_host_work`, `add_dropless_moe_terms`)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from test_moe_host_issue import _gpt_oss_terms, assert_one_plans_equal_the_grid  # shared with the graphed tests

from infraplan.catalog.stacks import load_stack
from infraplan.ops.gpt_oss_experts import FC2_BIAS_KERNELS_PER_EXPERT, MAIN_GRAD_ADD_KERNELS_PER_EXPERT
from infraplan.ops.layer import Gemm
from infraplan.training.enums import Dtype
from infraplan.training.estimate import estimate_training
from infraplan.training.host_time import (
    CPP_GEMM_LAUNCH_S,
    EXPERT_BIAS_GRAD_CALLS,
    EXPERT_DUMMY_WGRAD_CALLS,
    expert_host_work,
    expert_quantize_launches,
)
from infraplan.training.one_plan_memo import clear_one_plan_memo

D = 26e-6
NEMO = load_stack("nemo-26.04")
EAGER = NEMO.model_copy(update={"cuda_graphs": False})
EAGER_DROP_PAD = EAGER.model_copy(update={"moe_cuda_graph": "graphed"})


def _experts(local: float, share: float) -> Any:
    """An op table holding only the fc1 / fc2 expert GEMMs (all `expert_host_work` reads)."""
    return SimpleNamespace(gemms=[Gemm("expert_up", 1024.0, 4096.0, 7168.0, local, True, share),
                                  Gemm("expert_down", 1024.0, 7168.0, 2048.0, local, True, share)])


def test_quantize_launches_per_expert_operand_follow_the_recipe() -> None:
    bf16, fp8, mx, nv = int(Dtype.BF16), int(Dtype.FP8), int(Dtype.MXFP8), int(Dtype.NVFP4)
    assert expert_quantize_launches(bf16, "current") == 0.0
    assert expert_quantize_launches(mx, "current") == expert_quantize_launches(nv, "delayed") == 1.0
    # fp8: current scaling runs amax, scale and cast per expert; blockwise one cast; delayed one fused multi-cast
    assert [expert_quantize_launches(fp8, r) for r in ("current", "blockwise", "delayed")] == [3.0, 1.0, 0.0]
    grid = expert_quantize_launches(np.array([bf16, fp8, mx]), "current")
    assert np.array_equal(grid, [0.0, 3.0, 1.0])


def test_per_expert_launches_and_calls_of_mxfp8_and_bf16_experts() -> None:
    local, share = 32.0, 58.0 / 61.0  # DeepSeek-V3 at EP8: 32 local experts in 58 of 61 layers
    n = local * share
    # MXFP8, no biases: fc1 / fc2 fprop + the cast of each input forward; dgrad + wgrad + the cast of each output
    # gradient backward; one dummy wgrad per weight
    assert expert_host_work(_experts(local, share), 1.0, False) == pytest.approx((0.0, 2.0 * n, 4.0 * n, 6.0 * n))
    # bf16 with biases (GPT-OSS): no casts; a bias-gradient buffer per expert and GEMM beside the dummy wgrads
    assert expert_host_work(_experts(16.0, 1.0), 0.0, True) == pytest.approx((0.0, 64.0, 32.0, 64.0))
    # MXFP8 with biases: the output gradients are cast by bgrad_quantize, one Python call per expert and GEMM
    assert expert_host_work(_experts(2.0, 1.0), 1.0, True) == pytest.approx((0.0, 8.0, 8.0, 8.0))
    dense = SimpleNamespace(gemms=[Gemm("qkv", 1.0, 1.0, 1.0)])
    assert expert_host_work(dense, 1.0, False) == (0.0, 0.0, 0.0, 0.0)  # type: ignore[arg-type]


def test_eager_layers_carry_the_local_experts_host_work_and_sync_once_per_moe_forward() -> None:
    t = _gpt_oss_terms(np.array([8, 64]), EAGER)  # 16 and 2 local experts of 128
    # forward: the bias loop's 2 eager kernels per expert (the op table) and fc1 / fc2's cuBLAS launch per expert
    per_expert = FC2_BIAS_KERNELS_PER_EXPERT[0] * D + 2.0 * CPP_GEMM_LAUNCH_S
    assert t["host_fwd"][0] - t["host_fwd"][1] == pytest.approx(14 * per_expert)
    calls = (FC2_BIAS_KERNELS_PER_EXPERT[1] + MAIN_GRAD_ADD_KERNELS_PER_EXPERT + EXPERT_DUMMY_WGRAD_CALLS
             + EXPERT_BIAS_GRAD_CALLS)
    assert t["host_bwd"][0] - t["host_bwd"][1] == pytest.approx(14 * (calls * D + 4.0 * CPP_GEMM_LAUNCH_S))
    # the sync per MoE layer forward, no separate eager block: the whole layer's issue is the interval
    assert np.all(t["moe_host_sync"] == 1.0) and np.all(t["moe_host_fwd"] == 0.0) and np.all(t["moe_gpu_fwd"] == 0.0)
    drop_pad = _gpt_oss_terms(np.array([8]), EAGER_DROP_PAD)
    assert drop_pad["moe_host_sync"][0] == 0.0 and drop_pad["host_fwd"][0] == t["host_fwd"][0]


def _step(stack: object, part: str = "", **kw: Any) -> float:
    clear_one_plan_memo()
    args: dict[str, Any] = {"tp": 1, "pp": 1, "ep": 8, "seq_len": 4096, "global_batch": 1280, "micro_batch": 4,
                            "dtype": "bf16"} | kw
    result = estimate_training("gpt-oss-120b", "dgx-b200", 64, stack=stack, **args)  # type: ignore[arg-type]
    return getattr(result.breakdown_s, part) if part else result.step_time_s


def test_an_eager_sync_costs_a_dispatch_per_moe_layer_when_the_gpu_covers_the_issue() -> None:
    layers, micro_batches = 36, 5  # H022: GBS 1280 / (MBS 4 x DP 64); its host issue is below its GPU work
    # (the exposed host time is its own component since hK58, out of `other`)
    delta = _step(EAGER, "host_exposed") - _step(EAGER_DROP_PAD, "host_exposed")
    # the first launch after each MoE layer's sync, and each micro-batch's phases their own intervals
    assert layers * micro_batches * D <= delta < 3.0 * layers * micro_batches * D
    # the DP parameter gather runs on while the GPU waits for those launches in the forward (its window, hX1)
    hidden = _step(EAGER_DROP_PAD, "dp_comm_exposed") - _step(EAGER, "dp_comm_exposed")
    assert 0.0 < hidden <= layers * D * (1 + 1e-9)
    assert _step(EAGER) - _step(EAGER_DROP_PAD) == pytest.approx(delta - hidden, rel=1e-9)


# DeepSeek-V3's sample is drawn from the plans of up to 4 virtual stages (730 k valid EP plans, still every schedule,
# TP, CP, EP, ETP, ZeRO stage and micro-batch): all 16 made 1.6 M, 0.8 GB and ~1.3 CPU s to enumerate for 8 plans
@pytest.mark.parametrize(("model", "gpus", "dtypes", "max_vpp"), [("gpt-oss-120b", 64, ["bf16", "mxfp8"], 16),
                                                                  ("deepseek-v3", 256, ["fp8", "mxfp8"], 4)])
def test_eager_one_plan_on_floats_equals_the_array_path(model: str, gpus: int, dtypes: list[str], max_vpp: int) -> None:
    assert_one_plans_equal_the_grid(model, "dgx-b200", gpus, dtypes, EAGER, seed=7, sample=8, max_vpp=max_vpp)
