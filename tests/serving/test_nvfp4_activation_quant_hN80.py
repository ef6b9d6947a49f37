"""nvfp4 (W4A4) activation casts a stack runs in kernels of their own (`serving.engine_kernels`, `NVFP4_QUANT`):
vLLM and SGLang quantise every nvfp4 linear's bf16 input in an op of its own (an opaque cast no Inductor pass fuses),
TensorRT-LLM fuses them; the launches, the bytes, and the measured op they come from."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model, load_system
from infraplan.hardware.kernels import KernelRates, gemm_time, weight_read_rates
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Elementwise
from infraplan.serving import engine_kernels
from infraplan.serving.deployment import Deployment
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time

# NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0) systems/data/b200_sxm/gemm/vllm/0.24.0/
# gemm_perf.parquet: vLLM's whole linear op (kernel_source FlashInferCuteDslNvFp4LinearKernel, which calls
# scaled_fp4_quant on its input first; torch.nn.functional.linear for bf16) at N = K = 1,024, where neither
# kernel's weights bind: (M, bf16 us, nvfp4 us)
B200_VLLM_TINY_LINEAR = [(1, 4.21, 7.03), (4, 3.88, 7.04), (8, 3.87, 7.49), (16, 3.91, 6.79)]


def test_vllm_and_sglang_cast_every_nvfp4_linears_input_tensorrt_llm_fuses(monkeypatch):
    llama = load_model("llama3.1-70b")
    assert engine_kernels.activation_quant_kernels(llama, "trtllm", "nvfp4") == 0.0  # fused into its producers
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "nvfp4") == 4.0  # QKV, output, gate/up, down
    assert engine_kernels.activation_quant_kernels(llama, "sglang", "nvfp4") == 4.0
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "fp8") == 1.0  # fp8: Inductor fuses the rest
    monkeypatch.setattr(engine_kernels, "NVFP4_QUANT", False)
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "nvfp4") == 0.0
    assert engine_kernels.activation_quant_kernels(llama, "vllm", "fp8") == 1.0  # the fp8 rule is not this toggle's


def test_the_casts_bytes_by_hand_count(monkeypatch):
    """Llama 3.1 70B at TP 2: QKV and gate/up read h = 8,192, the output projection its 64 / 2 x 128 heads, down
    28,672 / 2; each element read at 2 B and written at 0.5 + 1 / 16 B, at the memory rate."""
    rates = KernelRates.for_dtype(load_accelerator("b200"), "bf16")
    llama = load_model("llama3.1-70b")
    dep = Deployment(tp=2, dtype="nvfp4", kv_dtype="fp8", engine="vllm", stack="vllm-0.x")
    tokens = np.array([1.0, 64.0, 8192.0])
    unused = Elementwise("x", tokens, 6.0)
    on = engine_kernels.elementwise_time(llama, rates, dep, tokens, unused)
    monkeypatch.setattr(engine_kernels, "NVFP4_QUANT", False)
    off = engine_kernels.elementwise_time(llama, rates, dep, tokens, unused)
    elements = 8192 + 4096 + 8192 + 14336
    expected = 4 * rates.kernel_overhead_s + tokens * elements * (2.0 + 0.5625) / rates.memory_bytes_per_s
    assert on - off == pytest.approx(expected, rel=1e-9)


def test_a_tiny_nvfp4_linear_with_its_cast_prices_vllms_measured_op_on_b200(monkeypatch):
    """Where no weight binds, vLLM's nvfp4 linear measures 6.8-7.5 us against bf16's 3.9-4.2 us: the cast is a
    launch of its own. The model's nvfp4 GEMM + its cast (two launches, 8.2 us) is 10-21 % over the measured op
    (the catalog's 4 us launch is above a graph-replayed one, as for fp8's cast: test_activation_quant_hA52); the
    GEMM alone (one launch, 4.1 us) is 39-45 % under it; bf16 (one launch) within 20 % of its op."""
    b200, llama = load_accelerator("b200"), load_model("llama3.1-70b")
    rates = KernelRates.for_dtype(b200, "bf16")
    gemm_rates = weight_read_rates(rates, b200, "vllm", "nvfp4")
    nv, bf = serving_precision(b200, "nvfp4"), serving_precision(b200, "bf16")
    dep = Deployment(tp=1, dtype="nvfp4", kv_dtype="fp8", engine="vllm", stack="vllm-0.x")
    unused = Elementwise("x", 0.0, 0.0)
    def cast_per_linear(m: float) -> float:  # the four casts of a Llama layer at M tokens, one linear's share
        monkeypatch.setattr(engine_kernels, "NVFP4_QUANT", True)
        on = engine_kernels.elementwise_time(llama, rates, dep, np.array([m]), unused)[0]
        monkeypatch.setattr(engine_kernels, "NVFP4_QUANT", False)
        return float(on - engine_kernels.elementwise_time(llama, rates, dep, np.array([m]), unused)[0]) / 4

    for m, bf16_us, nvfp4_us in B200_VLLM_TINY_LINEAR:
        one = float(gemm_time(gemm_rates, m, 1024, 1024, nv.bytes_per_element(m, 1024, 1024), nv.rate))
        assert (one + cast_per_linear(m)) * 1e6 == pytest.approx(nvfp4_us, rel=0.25), m
        assert one * 1e6 < 0.65 * nvfp4_us, m
        bf16 = float(gemm_time(rates, m, 1024, 1024, bf.bytes_per_element(m, 1024, 1024), bf.rate))
        assert bf16 * 1e6 == pytest.approx(bf16_us, rel=0.20), m


def test_a_vllm_nvfp4_decode_step_pays_its_casts_a_tensorrt_llm_one_does_not(monkeypatch):
    """Llama 3.1 70B nvfp4 TP 8 on B200 at 4 sequences: vLLM's step grows by 4 launches x 80 layers (+ bytes that
    are tiny at 4 tokens); TensorRT-LLM's is unchanged."""
    accelerator, shape = load_accelerator("b200"), load_model("llama3.1-70b")
    fabric = Fabric.from_system(load_system("dgx-b200"), accelerator)
    rates = KernelRates.for_dtype(accelerator, "bf16")

    def step(engine: str, stack: str) -> float:
        dep = Deployment(tp=8, dtype="nvfp4", kv_dtype="fp8", engine=engine, stack=stack, max_batch=4)
        return float(decode_time(build_iteration_cost(shape, accelerator, fabric, dep), 4, 1536))

    on = {e: step(e, f"{e}-0.x") for e in ("vllm", "trtllm")}
    monkeypatch.setattr(engine_kernels, "NVFP4_QUANT", False)
    off = {e: step(e, f"{e}-0.x") for e in ("vllm", "trtllm")}
    assert on["vllm"] - off["vllm"] == pytest.approx(4 * 80 * rates.kernel_overhead_s, rel=0.02)
    assert on["trtllm"] == off["trtllm"]
