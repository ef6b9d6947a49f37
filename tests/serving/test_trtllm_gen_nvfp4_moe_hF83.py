"""Blackwell's fused NVFP4 MoE launches (`serving.trtllm_gen_moe` module docstring, "Fused NVFP4 MoE").

Measured points: NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0), b200_sxm
moe/trtllm/1.3.0rc20/moe_perf.parquet: DeepSeek-R1's experts (hidden 7168, 256 experts of 2048, top-8), moe_dtype
nvfp4, balanced routing, MoE TP 8, EP 1, one MoE layer; kernel `moe_torch_flow_min_latency` (trtllm-gen) and
`moe_torch_flow_cutlass` (CUTLASS). Latency in us.
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

TABLE_US = [  # (tokens, trtllm-gen, CUTLASS)
    (1, 21.3, 66.8),
    (4, 25.2, 87.5),
    (16, 54.8, 186.1),
    (64, 94.9, 303.0),
]


def _moe_layer_us(tokens: int) -> float:
    """DeepSeek-R1's routed expert GEMMs, routing launches and the activation launch (priced with the element-wise
    passes, `serving.engine_kernels`) of one routed layer, nvfp4 on a B200 at MoE TP8: what the fused kernel runs."""
    acc, shape = load_accelerator("b200"), load_model("deepseek-r1")
    rates, prec = KernelRates.for_dtype(acc, "bf16"), serving_precision(acc, "nvfp4")
    m = np.array([float(tokens)])
    ops = layer_ops(shape, inference_layout(8, 1, 1, m))
    gemms = sum(float(routed_experts.layer_gemm_time(rates, g, prec.bytes_per_element(g.m, g.n, g.k), prec.rate,
                                                     shape.num_experts)[0])
                for g in ops.gemms if g.role in routed_experts.EXPERT_GEMMS)
    kernels = trtllm_gen_moe.routing_kernels(acc, shape, "nvfp4") + trtllm_gen_moe.TRTLLM_GEN_FUSED_ACTIVATION
    routing = float(routed_experts.moe_routing_time(shape, rates, m, 1.0, kernels)[0])
    return 1e6 * (gemms + routing) / shape.routed_layer_share  # per routed layer (the ops are a mean layer)


@pytest.mark.parametrize(("tokens", "trtllm_gen_us", "cutlass_us"), TABLE_US)
def test_b200_nvfp4_moe_layer_sits_at_the_trtllm_gen_table_not_cutlass(tokens: int, trtllm_gen_us: float,
                                                                      cutlass_us: float) -> None:
    """Within 40 % of the trtllm-gen kernel's measured layer at 1-64 tokens (+12 / +38 / +26 / +36 %) and under half
    of CUTLASS's; with six launches it was +87 / +101 / +56 / +53 %."""
    us = _moe_layer_us(tokens)
    assert us == pytest.approx(trtllm_gen_us, rel=0.4)
    assert us < cutlass_us / 2


def test_six_launches_priced_the_small_batches_far_over_the_trtllm_gen_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the generic six routing launches (and the activation's) the 1- and 4-token layers sit > 80 % above the
    trtllm-gen table (40 / 51 us against 21.3 / 25.2)."""
    monkeypatch.setattr(trtllm_gen_moe, "TRTLLM_GEN_NVFP4_MOE", False)
    assert _moe_layer_us(1) > 1.8 * 21.3 and _moe_layer_us(4) > 1.8 * 25.2


def test_only_nvfp4_experts_on_an_nvfp4_part_take_the_fused_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """nvfp4 experts on a B200 / GB200: routing + finalize + the fp4 quantisation, less the fused activation's launch;
    the same checkpoint in fp8 or bf16 keeps the generic count, and so does nvfp4 with the rule off."""
    dsr1, generic = load_model("deepseek-r1"), routed_experts.MOE_ROUTING_KERNELS
    for part in ("b200", "gb200", "b300"):
        assert trtllm_gen_moe.routing_kernels(load_accelerator(part), dsr1, "nvfp4") == 3 - 1
    for dtype in ("fp8", "bf16"):
        assert trtllm_gen_moe.routing_kernels(load_accelerator("b200"), dsr1, dtype) == generic
    monkeypatch.setattr(trtllm_gen_moe, "TRTLLM_GEN_NVFP4_MOE", False)
    assert trtllm_gen_moe.routing_kernels(load_accelerator("b200"), dsr1, "nvfp4") == generic


def _decode_ms(engine: str, on: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(trtllm_gen_moe, "TRTLLM_GEN_NVFP4_MOE", on)
    cluster, shape = Cluster.resolve("dgx-b200"), load_model("deepseek-r1")
    stack = {"trtllm": "trtllm-0.x", "vllm": "vllm-0.x", "sglang": "sglang-0.x"}[engine]
    dep = Deployment(tp=8, dtype="nvfp4", kv_dtype="fp8", engine=engine, stack=stack, max_batch=64)
    cost = build_iteration_cost(shape, cluster.accelerator, cluster.fabric, dep)
    return 1e3 * float(decode_time(cost, 4, 1536))


@pytest.mark.parametrize("engine", ["trtllm", "vllm", "sglang"])
def test_b200_decode_step_loses_four_launches_a_routed_layer(engine: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """DeepSeek-R1 nvfp4 TP8 on a DGX B200, 4 sequences, every engine (SGLang 0.5.9 and vLLM 0.17.0 pick the same
    fused MoE, module docstring): (6 - 2) launches x 4 us x 58 routed layers = 0.928 ms less a step (by hand)."""
    saved = _decode_ms(engine, False, monkeypatch) - _decode_ms(engine, True, monkeypatch)
    assert saved == pytest.approx(4 * 4.0e-3 * 58, rel=1e-6)
