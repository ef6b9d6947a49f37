"""Mutation wave hM26 on the fp8 activation casts' bytes (session 47, hA52: `serving.engine_kernels._quant_inputs`):
the elements each cast reads, by hand from the model configs, at TP above 1, on MLA and on a MoE's dense layers
(hA52's tests priced Llama 2 70B at TP1 only). Each cast moves 2 + 1 B an element at the memory rate (hA52).

* Llama 2 70B (h 8,192, 64 x 128 heads, FFN 28,672) at TP4, every linear cast (vLLM 0.9 ROCm): QKV's input h, the
  output projection's 64 x 128 / 4, gate/up's h, down's 28,672 / 4 = 25,600 elements a token.
* DeepSeek-V3 (h 7,168, q_lora_rank 1,536, 128 x 128 value heads, dense FFN 18,432 on its first 3 of 61 layers) at
  TP8 on SGLang: the fused q_a / kv_a on h and q_b on the q latent (8,704), the output 128 x 128 / 8 (2,048), the
  dense FFN's h + 18,432 / 8 on 3/61 of the layers.
* A checkpoint that quantises its experts only (Qwen3 235B with self_attn left in bf16, as hW42 builds it) casts no
  input in a kernel of its own on SGLang (no launch, hW42), so it moves no cast bytes either.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.catalog.model_config import TransformerShape
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.layer import Elementwise
from infraplan.serving import engine_kernels
from infraplan.serving.deployment import Deployment
from infraplan.validation.inference import case_stack

TOKENS = np.array([1.0, 64.0, 4096.0])


def _cast_seconds(model: str | TransformerShape, part: str, dep: Deployment, monkeypatch: pytest.MonkeyPatch
                  ) -> np.ndarray:
    shape = load_model(model) if isinstance(model, str) else model
    rates = KernelRates.for_dtype(load_accelerator(part), "bf16")
    unused = Elementwise("x", TOKENS, 6.0)
    with monkeypatch.context() as m:
        on = engine_kernels.elementwise_time(shape, rates, dep, TOKENS, unused)
        m.setattr(engine_kernels, "QUANT_BYTES", False)
        off = engine_kernels.elementwise_time(shape, rates, dep, TOKENS, unused)
    return (on - off) * rates.memory_bytes_per_s / (TOKENS * 3.0)  # elements a token


def test_llama2_70b_at_tp4_casts_its_per_gpu_widths(monkeypatch: pytest.MonkeyPatch) -> None:
    stack = case_stack({"stack": "vllm-0.9-rocm.yaml"})
    dep = Deployment(tp=4, dtype="fp8", kv_dtype="fp8", engine="vllm", stack=stack)
    assert _cast_seconds("llama2-70b", "mi300x", dep, monkeypatch) == pytest.approx(
        8192 + 64 * 128 / 4 + 8192 + 28672 / 4, rel=1e-9)
    only_output = Deployment(tp=4, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x")
    assert _cast_seconds("llama2-70b", "mi300x", only_output, monkeypatch) == pytest.approx(64 * 128 / 4, rel=1e-9)


def test_deepseek_v3_at_tp8_casts_mla_and_its_dense_layers(monkeypatch: pytest.MonkeyPatch) -> None:
    dep = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x")
    dense = 3 / 61 * (7168 + 18432 / 8)
    assert _cast_seconds("deepseek-v3", "h200", dep, monkeypatch) == pytest.approx(
        (7168 + 1536) + 128 * 128 / 8 + dense, rel=1e-9)


def test_an_experts_only_checkpoint_casts_no_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.serving.test_kind_scopes_hW42 import _with

    scoped = _with("qwen3-235b-a22b", {"quant_method": "fp8", "modules_to_not_convert": ["self_attn", "lm_head"]})
    assert engine_kernels.activation_quant_kernels(scoped, "sglang", "fp8") == 0.0
    dep = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="sglang", stack="sglang-0.x")
    assert np.all(_cast_seconds(scoped, "h200", dep, monkeypatch) == 0.0)
