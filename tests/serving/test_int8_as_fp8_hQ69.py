"""int8 (W8A8) is priced as fp8 where a part runs both on one 8-bit MMA at one peak (hQ, session 69).

Before, on Hopper and Blackwell int8 took the bf16 GEMM fraction (H100 0.70 of its int8 peak against fp8's 0.63),
read its decode weights on the roofline (fp8: the engines' measured small-M rate) and launched no activation cast,
so llama3-8b on 8 GPUs at 64 clients of 1,000 + 1,000 served 4-13 % faster in int8 than in fp8 (H100 vLLM TPOT
4.81 against 5.21 ms). A100 has int8 and no fp8: its int8 GEMMs keep its own int8 peak and the bf16 fraction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan import simulate_serving
from infraplan.catalog.figures import defaults_note
from infraplan.catalog.loader import load_accelerator, load_model
from infraplan.serving import engine_kernels
from infraplan.serving.format_precision import serving_precision
from infraplan.serving.serve_inputs import gemm_fraction_note


def _serve(system: str, stack: str, dtype: str) -> Any:
    return simulate_serving("llama3-8b", system, 8, dtype=dtype, kv_dtype="fp8", concurrency=64, input_len=1000,
                            output_len=1000, stack=stack, seed=0)


@pytest.mark.parametrize("system", ["h100-sxm", "b200"])
@pytest.mark.parametrize("stack", ["vllm-0.x", "trtllm-0.x", "sglang-0.x"])
def test_int8_is_not_priced_faster_than_fp8(system: str, stack: str) -> None:
    fp8, int8 = _serve(system, stack, "fp8"), _serve(system, stack, "int8")
    assert int8.tpot_s.p50 >= fp8.tpot_s.p50 * (1 - 1e-9)
    assert int8.ttft_s.p50 >= fp8.ttft_s.p50 * (1 - 1e-9)
    if stack == "trtllm-0.x":  # fused casts (both): the same GEMMs, the same reads, the same answer
        assert int8.tpot_s.p50 == pytest.approx(fp8.tpot_s.p50, rel=1e-9)
    if stack == "vllm-0.x":  # vLLM casts every int8 linear's input apart (fp8: the output projection's only)
        assert int8.tpot_s.p50 > fp8.tpot_s.p50 * 1.02


@pytest.mark.parametrize("system", ["h100-sxm", "h200", "b200", "gb200"])
def test_int8_gemms_take_fp8s_fraction_at_one_peak(system: str) -> None:
    acc = load_accelerator(system)
    assert acc.peak("int8") == acc.peak("fp8")
    assert acc.same_mma_dtype("int8") == "fp8" and load_accelerator("a100-80gb").same_mma_dtype("int8") is None
    assert acc.matmul_fraction("int8") == acc.matmul_fraction("fp8") < acc.matmul_fraction("bf16")
    assert serving_precision(acc, "int8").rate == pytest.approx(serving_precision(acc, "fp8").rate)
    assert "measured fp8 fraction" in (gemm_fraction_note(acc, "int8") or "")


def test_a100_int8_keeps_its_own_peak() -> None:
    """A guard (passes at the base too): the fix leaves a part without fp8 at its int8 peak and bf16 fraction."""
    a100 = load_accelerator("a100-80gb")
    assert not a100.supports("fp8")
    assert a100.matmul_fraction("int8") == a100.matmul_fraction("bf16") == 0.76
    assert serving_precision(a100, "int8").rate == pytest.approx(624e12 * 0.76)
    assert gemm_fraction_note(a100, "int8") is None
    served = simulate_serving("llama3-8b", "a100-80gb", 1, dtype="int8", concurrency=4, input_len=500,
                              output_len=100, seed=0)
    assert served.tpot_s.p50 > 0


def test_int8_activation_casts_by_engine() -> None:
    shape = load_model("llama3-8b")
    engines = ("vllm", "sglang", "trtllm")
    launches = {e: engine_kernels.activation_quant_kernels(shape, e, "int8", tp=8) for e in engines}
    fp8 = {e: engine_kernels.activation_quant_kernels(shape, e, "fp8", tp=8) for e in engines}
    assert launches == {"vllm": 4.0, "sglang": 4.0, "trtllm": 0.0}  # QKV, output, gate-up, down; TensorRT-LLM fuses
    assert fp8 == {"vllm": 1.0, "sglang": 4.0, "trtllm": 0.0}


def test_a_part_whose_int8_peak_differs_keeps_the_bf16_fraction(tmp_path: Path) -> None:
    base: dict[str, Any] = {
        "name": "xpu-8", "display_name": "Acme XPU-8", "vendor": "Acme", "kind": "asic", "source": "test part",
        "peak_flops_per_s": {"bf16": 1e15, "fp8": 2e15, "int8": 2e15}, "memory_bytes": "96GB",
        "memory_bandwidth_bytes_per_s": "4TB/s", "memory_type": "HBM3", "tdp_w": "700W",
        "scale_up_bandwidth_bytes_per_s": "450GB/s", "scale_out_bandwidth_bytes_per_s": "400Gbps",
        "efficiency": {"matmul_max_fraction": {"bf16": 0.7, "fp8": 0.6}, "attention_max_fraction": 0.5,
                       "memory_bandwidth_fraction": 0.85, "compute_units": 132, "kernel_overhead_s": 4e-6,
                       "scale_up_collective_efficiency": 0.8, "source": "ASSUMPTION: test"}}
    same = tmp_path / "xpu-8.yaml"
    same.write_text(yaml.safe_dump(base))
    acc = load_accelerator(str(same))
    assert acc.matmul_fraction("int8") == 0.6
    assert "int8 at fp8's 0.6" in (defaults_note(acc, "inference") or "")
    other = tmp_path / "xpu-9.yaml"  # int8 at half the fp8 rate (as Blackwell Ultra's cut int8): no shared MMA
    other.write_text(yaml.safe_dump({**base, "name": "xpu-9", "peak_flops_per_s": {**base["peak_flops_per_s"],
                                                                                     "int8": 1e15}}))
    slow = load_accelerator(str(other))
    assert slow.same_mma_dtype("int8") is None and slow.matmul_fraction("int8") == 0.7
    assert "int8 at the bf16 fraction 0.7" in (defaults_note(slow, "inference") or "")
