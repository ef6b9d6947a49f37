"""Block-scaled fp8 routed experts and the EP-local routing copies (`serving.routed_experts` module docstring).

Measured points: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0),
systems/data/{h100_sxm,h200_sxm}/moe/trtllm/1.3.0rc20/moe_perf.parquet, TensorRT-LLM fused MoE, fp8_block,
balanced routing: one MoE layer's latency in ms (as copied into the catalog files' `source:`).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.loader import load_accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.serving import routed_experts
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.host_overhead import inference_layout

MEASURED_MS = [  # (accelerator, model, MoE TP, MoE EP, tokens, ms)
    ("h100-sxm", "deepseek-v3", 8, 1, 16384, 10.674),
    ("h100-sxm", "deepseek-v3", 1, 8, 16384, 2.805),
    ("h100-sxm", "qwen3-235b-a22b", 4, 1, 16384, 6.649),
    ("h100-sxm", "qwen3-235b-a22b", 1, 4, 16384, 2.789),
    ("h100-sxm", "qwen3-235b-a22b", 1, 8, 16384, 1.455),
    ("h200", "deepseek-v3", 8, 1, 16384, 9.661),
    ("h200", "deepseek-v3", 1, 8, 16384, 2.499),
    ("h200", "qwen3-235b-a22b", 4, 1, 16384, 6.036),
    ("h200", "qwen3-235b-a22b", 1, 4, 16384, 2.539),
    ("h200", "qwen3-235b-a22b", 1, 8, 16384, 1.338),
]


def _moe_layer_ms(accelerator: str, model: str, moe_tp: int, moe_ep: int, tokens: int, stack: str) -> float:
    """The routed experts' two grouped GEMMs and the routing of one layer, EP inside a TP group of TP x EP GPUs."""
    acc, shape = load_accelerator(accelerator), load_model(model)
    rates, prec = KernelRates.for_dtype(acc, "bf16"), serving_precision(acc, "fp8")
    m = np.array([float(tokens)])
    depth = routed_experts.fp8_block_depth(acc, stack, "fp8", shape.model_type)
    ops = layer_ops(shape, inference_layout(moe_tp * moe_ep, moe_ep, 1, m))
    gemms = sum(float(routed_experts.layer_gemm_time(rates, g, prec.bytes_per_element(g.m, g.n, g.k), prec.rate,
                                                     shape.num_experts / moe_ep, 0, depth)[0])
                for g in ops.gemms if g.role in routed_experts.EXPERT_GEMMS)
    return 1e3 * (gemms + float(routed_experts.moe_routing_time(shape, rates, m, 1.0 / moe_ep)[0]))


@pytest.mark.parametrize(("accelerator", "model", "tp", "ep", "tokens", "measured_ms"), MEASURED_MS)
def test_trtllm_block_fp8_moe_layer_matches_the_measured_table(accelerator: str, model: str, tp: int, ep: int,
                                                               tokens: int, measured_ms: float) -> None:
    """Within 20 % of the measured layer at MoE TP and at EP alike (the TP8 layer is 3.8x the EP8 one)."""
    assert _moe_layer_ms(accelerator, model, tp, ep, tokens, "trtllm-0.x") == pytest.approx(measured_ms, rel=0.2)


def test_without_the_tile_cost_moe_tp_layers_were_several_times_too_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routed_experts, "FP8_BLOCK_TILE_COST", False)
    assert _moe_layer_ms("h100-sxm", "deepseek-v3", 8, 1, 16384, "trtllm-0.x") < 0.4 * 10.674


@pytest.mark.parametrize(("accelerator", "stack", "dtype", "model", "expected"), [
    ("h100-sxm", "trtllm-0.x", "fp8", "deepseek-v3", 3800.0),
    ("h200", "trtllm-0.x", "fp8", "qwen3-235b-a22b", 3300.0),
    ("h200", "trtllm-0.x", "fp8", "kimi-k2", 3300.0),
    ("h200", "trtllm-0.x", "fp8", "mixtral-8x7b", 0.0),  # Mixtral's fp8 is per-tensor
    ("h200", "trtllm-0.x", "bf16", "deepseek-v3", 0.0),  # bf16 / int4 / fp4 experts: no block scales
    ("h200", "sglang-0.x", "fp8", "deepseek-v3", 0.0),  # SGLang's / vLLM's Triton MoE do not follow the kernel
    ("h200", "vllm-0.x", "fp8", "deepseek-v3", 0.0),
    ("b200", "trtllm-0.x", "fp8", "deepseek-v3", 0.0),  # no sourced figure off Hopper
])
def test_block_depth_needs_a_block_fp8_model_a_measured_accelerator_and_the_stack(
        accelerator: str, stack: str, dtype: str, model: str, expected: float) -> None:
    depth = routed_experts.fp8_block_depth(load_accelerator(accelerator), stack, dtype, load_model(model).model_type)
    assert depth == expected


@pytest.mark.parametrize(("tp", "measured_ms"), [(8, 1.351), (2, 4.055)])
def test_per_tensor_fp8_mixtral_keeps_the_plain_rate(tp: int, measured_ms: float) -> None:
    """AIConfigurator 0.12.0 h200_sxm/moe/trtllm/1.3.0rc10/moe_perf.parquet, moe_dtype fp8 (per-tensor), Mixtral
    8x7B's experts, balanced, 16,384 tokens, MoE TP8 / TP2: the model without a tile cost is within 25 %."""
    assert _moe_layer_ms("h200", "mixtral-8x7b", tp, 1, 16384, "trtllm-0.x") == pytest.approx(measured_ms, rel=0.25)


def test_block_depth_slows_shallow_expert_gemms_by_k_plus_depth_over_k(monkeypatch: pytest.MonkeyPatch) -> None:
    """A compute-bound expert GEMM of depth K runs at the rate x K / (K + D): DeepSeek-V3's MoE-TP8 up GEMM
    (K = 7168) (7168 + 3300) / 7168 = 1.46x slower; its down GEMM (K = 2048 / 8 = 256), bound by its bytes without
    the tile cost, becomes compute-bound at 13.9x its compute time: over 10x slower (the per-local-expert cost of
    the same kernel off: `test_block_fp8_moe_costs_each_local_expert`)."""
    monkeypatch.setattr(routed_experts, "FP8_BLOCK_EXPERT_S", 0.0)
    acc, shape = load_accelerator("h200"), load_model("deepseek-v3")
    rates, prec = KernelRates.for_dtype(acc, "bf16"), serving_precision(acc, "fp8")
    ops = layer_ops(shape, inference_layout(8, 1, 1, np.array([16384.0])))
    ratio = {}
    for g in ops.gemms:
        if g.role in routed_experts.EXPERT_GEMMS:
            width = prec.bytes_per_element(g.m, g.n, g.k)
            plain = routed_experts.layer_gemm_time(rates, g, width, prec.rate, shape.num_experts, 0, 0.0)[0]
            block = routed_experts.layer_gemm_time(rates, g, width, prec.rate, shape.num_experts, 0, 3300.0)[0]
            ratio[g.role] = block / plain
    assert ratio["expert_up"] == pytest.approx((7168 + 3300) / 7168, rel=0.01)
    assert 10.0 < ratio["expert_down"] < (256 + 3300) / 256


def test_routing_moves_only_the_local_experts_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    rates = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")
    shape, m = load_model("deepseek-v3"), np.array([1.0, 16384.0])
    whole, local = (routed_experts.moe_routing_time(shape, rates, m, f) for f in (1.0, 1.0 / 8))
    assert local[0] == pytest.approx(whole[0], rel=0.01)  # one token: launch-bound either way
    h, k, e = shape.hidden_size, shape.experts_per_token, shape.num_experts
    per_token = 2.0 * e + 16.0 * k + 2.0 * h * 2.0  # bf16 logits, top-k weights / ids, activations in / out
    expected = (per_token + 2.0 * h * 2.0 * k / 8) / (per_token + 2.0 * h * 2.0 * k)
    kernels = routed_experts.MOE_ROUTING_KERNELS * rates.kernel_overhead_s * 58 / 61
    assert (local[1] - kernels) / (whole[1] - kernels) == pytest.approx(expected, rel=0.02)
    monkeypatch.setattr(routed_experts, "LOCAL_ROUTED_COPIES", False)
    assert routed_experts.moe_routing_time(shape, rates, m, 1.0 / 8)[1] == pytest.approx(whole[1], rel=1e-12)


def test_only_the_trtllm_fp8_prefill_body_moves(moe_body, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """DeepSeek-V3 fp8 at TP8 (no EP) on an H200: the TensorRT-LLM body of an 8192-token prefill grows with the tile
    cost; SGLang's does not; a one-token decode step barely moves (weight-bound; the per-local-expert cost off)."""
    monkeypatch.setattr(routed_experts, "FP8_BLOCK_EXPERT_S", 0.0)
    moe_body.switch = "FP8_BLOCK_TILE_COST"

    def body(stack: str, on: bool) -> np.ndarray:
        return moe_body("deepseek-v3", stack, on, 8, "fp8")  # type: ignore[no-any-return]

    trt_on, trt_off = body("trtllm-0.x", True), body("trtllm-0.x", False)
    assert trt_on[8192] > 1.3 * trt_off[8192]
    assert trt_on[1] == pytest.approx(trt_off[1], rel=0.05)
    assert np.array_equal(body("sglang-0.x", True), body("sglang-0.x", False))


def test_block_fp8_moe_costs_each_local_expert(monkeypatch: pytest.MonkeyPatch) -> None:
    """At 1 token the same tables cost ~0.2 us per local expert (`routed_experts.FP8_BLOCK_EXPERT_S`): DeepSeek-V3
    on H200 measures 115 us at MoE TP8 (256 local experts) and 40 us at EP8 (32), 2.9x; the model per routed layer
    96 / 48 us (45 / 42 without the cost: TP8 -61 %, the ratio 1.07)."""
    routed = 58 / 61  # `_moe_layer_ms` is the mean layer's; DeepSeek-V3 routes 58 of its 61 layers
    got = {lay: _moe_layer_ms("h200", "deepseek-v3", *lay, 1, "trtllm-0.x") / routed for lay in ((8, 1), (1, 8))}
    assert got[8, 1] == pytest.approx(0.115, rel=0.2) and got[1, 8] == pytest.approx(0.040, rel=0.25)
    assert got[8, 1] / got[1, 8] > 1.8
    monkeypatch.setattr(routed_experts, "FP8_BLOCK_EXPERT_S", 0.0)
    assert _moe_layer_ms("h200", "deepseek-v3", 8, 1, 1, "trtllm-0.x") / routed < 0.5 * 0.115
