"""Blackwell's fused MXFP4 MoE launches (`serving.trtllm_gen_moe` module docstring, "Fused MXFP4 MoE").

Measured points: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0), GPT-OSS-120B's experts (hidden
2880, 128 experts, top-4), balanced routing, one MoE layer at decode on b200_sxm: moe/trtllm/1.3.0rc20/moe_perf.parquet
(moe_dtype w4a8_mxfp4_mxfp8, MoE TP 1, EP 1) and moe/vllm/0.24.0/moe_perf.parquet (w4a16_mxfp4, kernel
`..._flashinfer_trtllm_mxfp4_bf16_trtllmmxfp4expertsmonolithic`, MoE TP 1 and 8, EP 1). Latency in us.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.loader import load_accelerator
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import layer_ops
from infraplan.serving import routed_experts, trtllm_gen_moe
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.host_overhead import inference_layout
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost, decode_time

MEASURED_US = [  # (engine table, MoE TP, tokens, us)
    ("trtllm 1.3.0rc20 w4a8_mxfp4_mxfp8", 1, 1, 25.3),
    ("vllm 0.24.0 w4a16_mxfp4", 1, 1, 31.2),
    ("vllm 0.24.0 w4a16_mxfp4", 8, 1, 19.6),
]


def _moe_layer_us(tp: int, tokens: int) -> float:
    """GPT-OSS-120B's routed expert GEMMs, routing kernels and the activation launch (priced with the element-wise
    passes, `serving.engine_kernels`) of one layer, native MXFP4 on a B200, MoE TP `tp`: what the fused kernel runs."""
    acc, shape = load_accelerator("b200"), load_model("gpt-oss-120b")
    rates, prec = KernelRates.for_dtype(acc, "bf16"), serving_precision(acc, "mxfp4")
    m = np.array([float(tokens)])
    ops = layer_ops(shape, inference_layout(tp, 1, 1, m))
    gemms = sum(float(routed_experts.layer_gemm_time(rates, g, prec.bytes_per_element(g.m, g.n, g.k), prec.rate,
                                                     shape.num_experts)[0])
                for g in ops.gemms if g.role in routed_experts.EXPERT_GEMMS)
    kernels = trtllm_gen_moe.routing_kernels(acc, shape, "mxfp4") + trtllm_gen_moe.TRTLLM_GEN_FUSED_ACTIVATION
    return 1e6 * (gemms + float(routed_experts.moe_routing_time(shape, rates, m, 1.0, kernels)[0]))


@pytest.mark.parametrize(("table", "tp", "tokens", "measured_us"), MEASURED_US)
def test_b200_mxfp4_moe_layer_at_one_token_matches_the_measured_tables(table: str, tp: int, tokens: int,
                                                                      measured_us: float) -> None:
    """Within 15 % of both engines' measured one-token layer (four experts' weights and the fused kernel's launches)."""
    assert _moe_layer_us(tp, tokens) == pytest.approx(measured_us, rel=0.15), table


def test_six_launches_priced_the_b200_layer_far_too_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the generic six routing launches (and the activation's) the one-token layer is > 45 % above TensorRT-LLM's
    25.3 us (44 us)."""
    monkeypatch.setattr(trtllm_gen_moe, "TRTLLM_GEN_MXFP4_MOE", False)
    assert _moe_layer_us(1, 1) > 1.45 * 25.3


def test_only_native_mxfp4_on_nvidia_parts_takes_the_fused_count() -> None:
    """B200 / GB200 native MXFP4: routing + finalize + the mxfp8 quantisation, less the fused activation's launch;
    Hopper's weight-only MXFP4, bf16 / fp8 on a B200, and AMD's native MXFP4 keep the generic count."""
    oss, dsv3 = load_model("gpt-oss-120b"), load_model("deepseek-v3")
    assert trtllm_gen_moe.routing_kernels(load_accelerator("b200"), oss, "mxfp4") == 3 - 1
    assert trtllm_gen_moe.routing_kernels(load_accelerator("gb200"), oss, "mxfp4") == 3 - 1
    generic = routed_experts.MOE_ROUTING_KERNELS
    assert trtllm_gen_moe.routing_kernels(load_accelerator("h200"), oss, "mxfp4") == generic
    assert trtllm_gen_moe.routing_kernels(load_accelerator("b200"), dsv3, "fp8") == generic  # nvfp4: hF83's test
    assert trtllm_gen_moe.routing_kernels(load_accelerator("b200"), oss, "bf16") == generic
    assert trtllm_gen_moe.routing_kernels(load_accelerator("mi355x"), oss, "mxfp4") == generic


def _decode_ms(system: str, on: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(trtllm_gen_moe, "TRTLLM_GEN_MXFP4_MOE", on)
    cluster, shape = Cluster.resolve(system), load_model("gpt-oss-120b")
    dep = Deployment(tp=8, dtype="mxfp4", kv_dtype="bf16", engine="trtllm", stack="trtllm-0.x", max_batch=64)
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
    return 1e3 * float(decode_time(cost, 4, 1536))


def test_b200_decode_step_loses_four_launches_a_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """GPT-OSS-120B TP8 on a DGX B200, 4 sequences: (6 - 2) launches x 4 us x 36 layers = 0.576 ms less a step (by
    hand); the same deployment on an H200 (weight-only MXFP4) does not move."""
    b200 = _decode_ms("dgx-b200", False, monkeypatch) - _decode_ms("dgx-b200", True, monkeypatch)
    assert b200 == pytest.approx(4 * 4.0e-3 * 36, rel=1e-6)
    assert _decode_ms("hgx-h200", False, monkeypatch) == _decode_ms("hgx-h200", True, monkeypatch)


@pytest.mark.parametrize("system", ["dgx-b200", "hgx-h200"])
def test_megatrons_eager_clamp_pricing_does_not_reach_serving(system: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The strided-loop clamp (`ops.gpt_oss_experts.STRIDED_PASS_SHARE`) is Megatron's eager path; the serving engines
    fuse the clamped SwiGLU into their MoE GEMM (trtllm-gen PermuteGemm1): a serving step is the same with it off."""
    from infraplan.ops import gpt_oss_experts

    on = _decode_ms(system, True, monkeypatch)
    monkeypatch.setattr(gpt_oss_experts, "STRIDED_PASSES", False)
    assert _decode_ms(system, True, monkeypatch) == on
