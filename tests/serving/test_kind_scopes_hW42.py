"""Serving prices a checkpoint's per-kind scope (hW42): weight bytes, GEMM precision, casts and the MLA BMMs.

A ModelOpt NVFP4 DeepSeek checkpoint that keeps attention in bf16 (nvidia/DeepSeek-R1-0528-FP4 `self_attn*`, as
aiconfigurator-core 0.12.0 sdk/models/helpers.py:70-74 describes it) or only its q / kv projections
(nvidia/DeepSeek-V3.1-NVFP4, o_proj quantised) holds those weights at 2 B and runs those GEMMs in bf16; the dense MLP,
shared and routed experts stay NVFP4 (0.5625 B a weight). A W8A8 fp8 checkpoint with attention left out quantises
no attention input (SGLang's per-linear quant kernels, vLLM's output-projection one: `serving.engine_kernels`), and
a bf16 kv_b projection runs the absorbed MLA BMMs in bf16 on TensorRT-LLM (`serving.mla_absorb`).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import ModelConfigWarning, TransformerShape, shape_from_hf_config
from infraplan.network.collectives import Fabric
from infraplan.ops import precision
from infraplan.serving import engine_kernels, mla_absorb
from infraplan.serving.deployment import Deployment, weight_format
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time

B200 = load_accelerator("b200")
FABRIC = Fabric.from_system(load_system("dgx-b200"), B200)
R1_BLOCK = ["lm_head", "model.layers.*.self_attn*"]
V31_BLOCK = [f"model.layers.{i}.self_attn.{p}" for i in range(61)
             for p in ("q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj")] + ["model.layers.61*", "lm_head"]


def _with(model: str, quant: dict | None) -> TransformerShape:
    config, _ = read_entry("models", model)
    config = {k: v for k, v in config.items() if k != "quantization_config"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        return shape_from_hf_config({**config, **({"quantization_config": quant} if quant else {})}, model)


def _nvfp4(exclude: list[str]) -> dict:
    return {"quant_method": "modelopt", "quant_algo": "NVFP4", "exclude_modules": exclude}


def test_deepseek_r1_fp4_weight_bytes_by_hand_attention_router_and_tables_in_bf16() -> None:
    shape = _with("deepseek-r1", _nvfp4(R1_BLOCK))
    assert precision.weight_scope(shape, "nvfp4") == "dense_mlp+shared_experts+routed_experts"
    h, heads, layers, dense, vocab, tp = 7168, 128, 61, 3, 129280, 8
    attention = h * (1536 + 512 + 64) + (1536 * heads * 192 + 512 * heads * (128 + 128) + heads * 128 * h) / tp
    dense_mlp = 3 * h * 18432 / tp  # the first 3 layers' FFN (intermediate_size 18432)
    expert = 3 * h * 2048  # moe_intermediate_size 2048; 256 routed and 1 shared expert
    quantised = dense * dense_mlp + (layers - dense) * (256 + 1) * expert / tp
    bf16 = layers * attention + (layers - dense) * h * 256 + 2 * vocab * h / tp  # router, embedding and LM head
    assert weight_bytes_per_gpu(shape, tp, 1, "nvfp4") == pytest.approx(quantised * 0.5625 + bf16 * 2.0, rel=1e-12)


def _decode_s(shape: TransformerShape, dtype: str = "nvfp4") -> float:
    dep = Deployment(dtype=dtype, engine="trtllm", stack="trtllm-0.x", tp=8, token_budget=256, max_batch=8)
    return float(decode_time(build_iteration_cost(shape, B200, FABRIC, dep), 1, 1000))


def test_each_kind_kept_in_bf16_reads_more_weights_at_batch_1() -> None:
    every, v31, r1 = (_with("deepseek-r1", q) for q in (None, _nvfp4(V31_BLOCK), _nvfp4(R1_BLOCK)))
    assert precision.weight_scope(v31, "nvfp4") == "attention_output+dense_mlp+shared_experts+routed_experts"
    weights = [weight_bytes_per_gpu(s, 8, 1, "nvfp4") for s in (every, v31, r1)]
    assert weights[0] < weights[1] < weights[2]
    o_proj = 61 * 128 * 128 * 7168 / 8  # the output projection: bf16 under R1's block, NVFP4 under V3.1's
    assert weights[2] - weights[1] == pytest.approx(o_proj * (2.0 - 0.5625), rel=1e-9)
    times = [_decode_s(s) for s in (every, v31, r1)]
    assert times[0] < times[1] < times[2]  # batch-1 decode reads the weights
    assert "attention projections, router, LM head in bf16" in weight_format(B200, "nvfp4", v31)


def test_w8a8_with_attention_left_out_quantises_no_attention_input() -> None:
    plain = load_model("qwen3-235b-a22b")
    scoped = _with("qwen3-235b-a22b", {"quant_method": "fp8", "modules_to_not_convert": ["self_attn", "lm_head"]})
    assert precision.weight_scope(scoped, "fp8") == "experts"
    assert engine_kernels.activation_quant_kernels(plain, "sglang", "fp8") == 2.0  # QKV and output inputs
    assert engine_kernels.activation_quant_kernels(plain, "vllm", "fp8") == 1.0
    assert engine_kernels.activation_quant_kernels(scoped, "sglang", "fp8") == 0.0
    assert engine_kernels.activation_quant_kernels(scoped, "vllm", "fp8") == 0.0
    assert engine_kernels.activation_quant_kernels(scoped, "sglang", "bf16") == 0.0


def test_a_bf16_kv_b_projection_runs_the_absorbed_bmms_in_bf16_on_tensorrt_llm() -> None:
    kimi = load_model("kimi-k2.5")  # Kimi K2.5's INT4 release: self_attn ignored, kv_b in bf16
    h200 = load_accelerator("h200")
    dep = Deployment(dtype="int4", engine="trtllm", stack="trtllm-0.x", tp=8, token_budget=256, max_batch=8)
    assert mla_absorb.measured_fit(kimi, h200, "trtllm", "int4") is None  # no int4 BMM kernel measured
    fixed, per_row = mla_absorb.decode_terms(kimi, h200, dep, 61.0, np.arange(4.0),
                                             lambda g: np.zeros_like(np.asarray(g.m, dtype=np.float64)))
    bf16 = (h200.efficiency.mla_absorb_bmm or {})["trtllm"]["bf16"]
    assert fixed > 61 * 2 * bf16.fixed_s * 0.99  # the measured bf16 BMMs, two a layer, priced
