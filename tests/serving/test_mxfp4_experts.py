"""GPT-OSS's MXFP4 experts through TensorRT-LLM's W4A16 fused MoE (`serving.routed_experts` module docstring,
"MXFP4 experts").

Measured points: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0),
systems/data/{h100_sxm,h200_sxm}/moe/trtllm/1.3.0rc20/moe_perf.parquet, TensorRT-LLM fused MoE, moe_dtype
w4a16_mxfp4, GPT-OSS-120B's experts (hidden 2880, 128 experts, top-4), balanced routing, MoE TP 1: one MoE layer's
latency in ms (as summarised in the catalog files' `source:`).
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

MEASURED_MS = [  # (accelerator, MoE EP, tokens, ms)
    ("h200", 1, 16384, 8.609),
    ("h200", 2, 16384, 4.851),
    ("h200", 4, 16384, 2.984),
    ("h200", 8, 16384, 2.051),
    ("h200", 16, 16384, 1.580),
    ("h200", 8, 1, 0.073),
    ("h200", 16, 4, 0.072),
    ("h100-sxm", 8, 16384, 2.066),
    ("h100-sxm", 16, 16384, 1.594),
    ("h100-sxm", 2, 1, 0.077),
]


def _moe_layer_ms(accelerator: str, ep: int, tokens: int, stack: str = "trtllm-0.x") -> float:
    """GPT-OSS-120B's routed experts, routing and MXFP4 token cost of one layer at W4A16, EP over EP GPUs."""
    acc, shape = load_accelerator(accelerator), load_model("gpt-oss-120b")
    rates, prec = KernelRates.for_dtype(acc, "bf16"), serving_precision(acc, "int4")
    m = np.array([float(tokens)])
    ops = layer_ops(shape, inference_layout(ep, ep, 1, m))
    gemms = sum(float(routed_experts.layer_gemm_time(rates, g, prec.bytes_per_element(g.m, g.n, g.k), prec.rate,
                                                     shape.num_experts / ep)[0])
                for g in ops.gemms if g.role in routed_experts.EXPERT_GEMMS)
    routing = float(routed_experts.moe_routing_time(shape, rates, m, 1.0 / ep)[0])
    token_cost = float(routed_experts.mxfp4_moe_token_time(shape, acc, stack, "int4", m)[0])
    return 1e3 * (gemms + routing + token_cost)


@pytest.mark.parametrize(("accelerator", "ep", "tokens", "measured_ms"), MEASURED_MS)
def test_trtllm_mxfp4_moe_layer_matches_the_measured_table(accelerator: str, ep: int, tokens: int,
                                                           measured_ms: float) -> None:
    """Within 10 % of the measured layer from EP1 to EP16 and from one token to 16,384."""
    assert _moe_layer_ms(accelerator, ep, tokens) == pytest.approx(measured_ms, rel=0.1)


def test_without_the_token_cost_wide_ep_layers_were_far_too_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """EP8 at 16,384 tokens: the EP-split GEMM alone is about half the measured 2.051 ms; one token about half."""
    monkeypatch.setattr(routed_experts, "MXFP4_TOKEN_COST", False)
    assert _moe_layer_ms("h200", 8, 16384) < 0.6 * 2.051
    assert _moe_layer_ms("h200", 8, 1) < 0.6 * 0.073


def test_the_token_cost_does_not_shrink_with_ep() -> None:
    """a(T) + b(T) / EP: going from EP8 to EP16 at 16,384 tokens saves about half the EP8 GEMM, not half the
    layer (measured 2.051 -> 1.580 ms on H200)."""
    ep8, ep16 = _moe_layer_ms("h200", 8, 16384), _moe_layer_ms("h200", 16, 16384)
    assert ep8 - ep16 == pytest.approx(2.051 - 1.580, rel=0.25)


@pytest.mark.parametrize(("accelerator", "stack", "dtype", "model", "expected_s"), [
    ("h200", "trtllm-0.x", "int4", "gpt-oss-120b", 3.6e-5 + 6.0e-8 * 1024),
    ("h100-sxm", "trtllm-0.x", "int4", "gpt-oss-20b", 3.6e-5 + 5.9e-8 * 1024),
    ("h200", "vllm-0.x", "int4", "gpt-oss-120b", 0.0),  # vLLM's Triton MXFP4 MoE scales with EP
    ("h200", "sglang-0.x", "int4", "gpt-oss-120b", 0.0),
    ("h200", "trtllm-0.x", "bf16", "gpt-oss-120b", 0.0),  # bf16 experts: not the W4A16 MXFP4 path
    ("h200", "trtllm-0.x", "int4", "kimi-k2", 0.0),  # INT4 (not MXFP4) weights
    ("b200", "trtllm-0.x", "int4", "gpt-oss-120b", 0.0),  # no sourced figure off Hopper
])
def test_token_cost_needs_mxfp4_weights_at_w4a16_a_measured_accelerator_and_the_stack(
        accelerator: str, stack: str, dtype: str, model: str, expected_s: float) -> None:
    shape = load_model(model)
    cost = routed_experts.mxfp4_moe_token_time(shape, load_accelerator(accelerator), stack, dtype,
                                               np.array([0.0, 1024.0]))
    assert cost[0] == 0.0
    assert cost[1] == pytest.approx(expected_s, rel=1e-9, abs=0.0)


def test_only_the_trtllm_gpt_oss_body_moves(moe_body) -> None:  # type: ignore[no-untyped-def]
    """GPT-OSS-120B at TP1 on an H200: every TensorRT-LLM step grows by 36 layers x (36 us + 60 ns x tokens);
    vLLM's does not."""
    moe_body.switch = "MXFP4_TOKEN_COST"
    shape = load_model("gpt-oss-120b")

    def body(stack: str, on: bool) -> np.ndarray:
        return moe_body("gpt-oss-120b", stack, on, 1, "int4")  # type: ignore[no-any-return]

    trt_on, trt_off = body("trtllm-0.x", True), body("trtllm-0.x", False)
    layers = shape.num_layers
    for tokens in (1, 64, 8192):
        assert trt_on[tokens] - trt_off[tokens] == pytest.approx(layers * (3.6e-5 + 6.0e-8 * tokens), rel=1e-6)
    assert trt_on[0] == trt_off[0] == 0.0
    assert np.array_equal(body("vllm-0.x", True), body("vllm-0.x", False))
