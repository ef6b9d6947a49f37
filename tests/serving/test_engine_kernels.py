"""Element-wise kernels per serving engine family (`serving.engine_kernels`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.hardware.kernels import KernelRates
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Elementwise
from infraplan.serving import engine_kernels
from infraplan.serving.llm_iteration import Deployment, build_iteration_cost


@dataclass(frozen=True)
class _Dep:
    engine: str
    dtype: str
    kv_dtype: str
    tp: int
    stack: str | None = None  # unset: the engine family's shipped `activation_quant`


@pytest.fixture
def rates():
    return KernelRates.for_dtype(load_accelerator("h200"), "bf16")


def test_attention_op_launches_per_engine():
    llama, qwen_moe = load_model("llama3-8b"), load_model("qwen3-30b-a3b")
    assert engine_kernels.attention_op_kernels(llama, "trtllm", "fp8") == 1.0  # RoPE + append pre-processing
    assert engine_kernels.attention_op_kernels(llama, "vllm", "bf16") == 1.0  # reshape_and_cache_flash
    assert engine_kernels.attention_op_kernels(llama, "sglang", "bf16") == 2.0  # K and V index copies
    assert engine_kernels.attention_op_kernels(llama, "sglang", "fp8") == 4.0  # and their casts
    assert engine_kernels.attention_op_kernels(qwen_moe, "sglang", "bf16") == 0.0  # fused into its RoPE kernel
    assert engine_kernels.attention_op_kernels(llama, "other", "bf16") == 0.0


def test_body_launches_and_bytes_per_engine(rates):
    llama = load_model("llama3-8b")  # h 4096, f 14336, 32 query and 8 KV heads of 128
    m = np.array([0.0, 1.0, 1024.0])
    legacy = Elementwise("x", m * 1.0, 6.0)
    times = {e: engine_kernels.elementwise_time(llama, rates, _Dep(e, "bf16", "bf16", 1), m, legacy)
             for e in ("trtllm", "vllm")}
    # one token: TensorRT-LLM launches 3 kernels (two add-norms, SwiGLU), vLLM 4 (and its rotary)
    assert times["trtllm"][1] == pytest.approx(3 * rates.kernel_overhead_s, rel=0.01)
    assert times["vllm"][1] == pytest.approx(4 * rates.kernel_overhead_s, rel=0.01)
    h, f, q, k = 4096, 14336, 4096, 1024
    rope, append = 2 * (q + k), 2 * k * 2  # elements of RoPE's in-place pass; the append reads K, V and writes them
    per_token = 2.0 * (8 * h + 3 * f + rope + append)
    assert times["trtllm"][2] - times["trtllm"][1] == pytest.approx(1023 * per_token / rates.memory_bytes_per_s)
    assert times["trtllm"][0] == 0.0
    # an engine without a table keeps `layer_ops`' passes
    other = engine_kernels.elementwise_time(llama, rates, _Dep("other", "bf16", "bf16", 1), m, legacy)
    assert other[1] == pytest.approx(6 * rates.kernel_overhead_s + 1.0 / rates.memory_bytes_per_s)


def test_iteration_charges_the_engine_kernels(monkeypatch):
    h200, shape = load_accelerator("h200"), load_model("llama3-8b")
    fabric = Fabric.from_system(load_system("hgx-h200"), h200)

    def cost(engine: str):
        dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048, engine=engine,
                         stack=f"{engine}-0.x")
        return build_iteration_cost(shape, h200, fabric, dep)

    monkeypatch.setattr(engine_kernels, "ENGINE_KERNELS", False)
    legacy = cost("trtllm")
    monkeypatch.setattr(engine_kernels, "ENGINE_KERNELS", True)
    trtllm, sglang = cost("trtllm"), cost("sglang")
    overhead = KernelRates.for_dtype(h200, "bf16").kernel_overhead_s
    # decode at 8 sequences: 3 launches a layer for 6 (their bytes are tiny), the pre-processing in the attention op
    saved = float(legacy.body_s[8] - trtllm.body_s[8])
    assert saved == pytest.approx(3 * overhead * shape.num_layers, rel=0.05)
    assert trtllm.decode_fixed_s == pytest.approx(2 * legacy.decode_fixed_s)
    assert trtllm.prefill_fixed_s == pytest.approx(2 * legacy.prefill_fixed_s)
    assert sglang.decode_fixed_s == pytest.approx(5 * legacy.decode_fixed_s)  # core, 2 casts, 2 copies


def test_fp8_activation_quantisation_launches(monkeypatch):
    llama, deepseek = load_model("llama3-8b"), load_model("deepseek-v3")
    assert engine_kernels.activation_quant_kernels(llama, "trtllm", "fp8") == 0.0  # fused into its producers
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "fp8") == 1.0  # the output projection's input
    assert engine_kernels.activation_quant_kernels(llama, "sglang", "fp8") == 4.0  # QKV, output, gate/up, down
    # MLA's fused q_a/kv_a, q_b and output projections (experts apart); the dense FFN's two on the first 3 of 61 layers
    assert engine_kernels.activation_quant_kernels(deepseek, "sglang", "fp8") == pytest.approx(3.0 + 2.0 * 3 / 61)
    assert engine_kernels.activation_quant_kernels(llama, "sglang", "bf16") == 0.0
    monkeypatch.setattr(engine_kernels, "ACTIVATION_QUANT", False)
    assert engine_kernels.activation_quant_kernels(llama, "sglang", "fp8") == 0.0


def test_qwen3_qk_norm_launches_by_engine(monkeypatch, rates):
    # on since round 13: SGLang's Q copy + norm on the critical path (K on a second stream), one launch for vLLM
    # (Inductor), none more for TensorRT-LLM (fused into its RoPE launch), none for models without q_norm / k_norm
    qwen, qwen_moe, llama = load_model("qwen3-32b"), load_model("qwen3-30b-a3b"), load_model("llama3-8b")
    monkeypatch.setattr(engine_kernels, "QK_NORM", False)
    assert engine_kernels.qk_norm_kernels(qwen, "sglang") == 0.0
    monkeypatch.setattr(engine_kernels, "QK_NORM", True)
    assert [engine_kernels.qk_norm_kernels(qwen, e) for e in ("trtllm", "vllm", "sglang")] == [0.0, 1.0, 2.0]
    assert engine_kernels.qk_norm_kernels(qwen_moe, "vllm") == 1.0
    assert engine_kernels.qk_norm_kernels(llama, "sglang") == 0.0
    assert engine_kernels.qk_norm_kernels(qwen, "other") == 0.0
    tokens, dep, unused = np.array([1.0, 4096.0]), _Dep("sglang", "bf16", "bf16", 1), Elementwise("x", 0.0, 0.0)
    on = engine_kernels.elementwise_time(qwen, rates, dep, tokens, unused)
    monkeypatch.setattr(engine_kernels, "QK_NORM", False)
    off = engine_kernels.elementwise_time(qwen, rates, dep, tokens, unused)
    assert on[0] - off[0] == pytest.approx(2 * rates.kernel_overhead_s, rel=0.05)  # decode: the two launches
    assert on[1] - off[1] > on[0] - off[0]  # a prompt also moves Q and K through them twice
