"""SGLang's / vLLM's Triton block-fp8 fused MoE at a fraction of the fp8 rate (`serving.routed_experts` docstring,
"Triton block-fp8").

Measured points: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0),
systems/data/{h100_sxm,h200_sxm}/moe/sglang/0.5.10/moe_perf.parquet, kernel_source sglang_fused_moe_triton,
moe_dtype fp8_block, balanced routing: one MoE layer's latency in ms (as the stack files' comments cite).
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

MEASURED_MS = [  # (accelerator, model, MoE TP, tokens, ms): SGLang 0.5.10, EP 1
    ("h200", "deepseek-v3", 8, 4096, 1.182),
    ("h200", "deepseek-v3", 8, 16384, 4.441),
    ("h200", "qwen3-235b-a22b", 2, 16384, 4.543),
    ("h200", "qwen3-235b-a22b", 4, 4096, 0.913),
    ("h200", "qwen3-235b-a22b", 4, 16384, 3.129),
    ("h100-sxm", "deepseek-v3", 8, 16384, 4.563),
    ("h100-sxm", "qwen3-235b-a22b", 4, 16384, 3.372),
]


def _moe_layer_ms(accelerator: str, model: str, moe_tp: int, tokens: int, stack: str) -> float:
    """The routed experts' two grouped GEMMs and the routing of one layer at MoE TP (no EP), as the stack runs them."""
    acc, shape = load_accelerator(accelerator), load_model(model)
    rates, prec = KernelRates.for_dtype(acc, "bf16"), serving_precision(acc, "fp8")
    m = np.array([float(tokens)])
    fraction = routed_experts.fp8_block_rate_fraction(acc, stack, "fp8", shape.model_type, moe_tp, 1, 1)
    ops = layer_ops(shape, inference_layout(moe_tp, 1, 1, m))
    gemms = sum(float(routed_experts.layer_gemm_time(rates, g, prec.bytes_per_element(g.m, g.n, g.k), prec.rate,
                                                     shape.num_experts, 0, 0.0, fraction)[0])
                for g in ops.gemms if g.role in routed_experts.EXPERT_GEMMS)
    return 1e3 * (gemms + float(routed_experts.moe_routing_time(shape, rates, m, 1.0)[0]))


@pytest.mark.parametrize(("accelerator", "model", "tp", "tokens", "measured_ms"), MEASURED_MS)
def test_sglang_triton_moe_layer_matches_the_measured_table(accelerator: str, model: str, tp: int, tokens: int,
                                                            measured_ms: float) -> None:
    assert _moe_layer_ms(accelerator, model, tp, tokens, "sglang-0.x") == pytest.approx(measured_ms, rel=0.25)


def test_at_the_full_rate_the_prefill_layers_were_far_too_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(routed_experts, "TRITON_FP8_BLOCK_RATE", False)
    assert _moe_layer_ms("h200", "deepseek-v3", 8, 16384, "sglang-0.x") < 0.6 * 4.441
    assert _moe_layer_ms("h200", "qwen3-235b-a22b", 4, 16384, "sglang-0.x") < 0.6 * 3.129


@pytest.mark.parametrize(("accelerator", "stack", "dtype", "model", "tp", "ep", "expected"), [
    ("h200", "sglang-0.x", "fp8", "deepseek-v3", 8, 1, 0.5),
    ("h100-sxm", "sglang-0.x", "fp8", "qwen3-235b-a22b", 4, 1, 0.5),
    ("h200", "vllm-0.x", "fp8", "deepseek-v3", 8, 1, 0.5),
    ("h200", "trtllm-0.x", "fp8", "deepseek-v3", 8, 1, 1.0),  # TensorRT-LLM: its per-tile cost instead
    ("h200", "sglang-0.x", "bf16", "deepseek-v3", 8, 1, 1.0),  # no block scales
    ("h200", "sglang-0.x", "fp8", "mixtral-8x7b", 8, 1, 1.0),  # per-tensor fp8
    ("b200", "sglang-0.x", "fp8", "deepseek-v3", 8, 1, 1.0),  # Blackwell runs other kernels; nothing measured
])
def test_rate_fraction_needs_block_fp8_a_measured_hopper_gpu_and_the_stack(
        accelerator: str, stack: str, dtype: str, model: str, tp: int, ep: int, expected: float) -> None:
    fraction = routed_experts.fp8_block_rate_fraction(load_accelerator(accelerator), stack, dtype,
                                                      load_model(model).model_type, tp, ep, 1)
    assert fraction == expected


def test_vllm_deepgemm_layout_keeps_the_full_rate() -> None:
    """vLLM 0.12's rows at MoE TP < 8 run DeepGEMM's padded workspace (its own rule), not the Triton kernel."""
    from infraplan.validation.serving_hopper import data_stack

    acc, shape = load_accelerator("h200"), load_model("qwen3-235b-a22b")
    stack = data_stack("vllm-0.12.yaml")
    assert routed_experts.fp8_block_rate_fraction(acc, stack, "fp8", shape.model_type, 4, 1, 1) == 1.0
    assert routed_experts.fp8_block_rate_fraction(acc, stack, "fp8", shape.model_type, 8, 1, 1) == 0.5


def test_sglang_prefill_body_slows_and_decode_stays_weight_bound(moe_body) -> None:  # type: ignore[no-untyped-def]
    """Qwen3-235B fp8 at TP4 on an H200 under SGLang: an 8192-token prefill body grows by over a fifth; a one-token
    decode step (weight-bound) moves by under 2 % (measured on this tree: 1.28x, the experts are most of the body)."""
    moe_body.switch = "TRITON_FP8_BLOCK_RATE"
    on, off = (moe_body("qwen3-235b-a22b", "sglang-0.x", flag, 4, "fp8") for flag in (True, False))
    assert on[8192] > 1.2 * off[8192]
    assert on[1] == pytest.approx(off[1], rel=0.02)
