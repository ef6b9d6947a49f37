"""Mutants of session 69's serving-format code that the suite let live (hI, session 70), each killed by hand:
`serving.format_precision.serving_precision` (nvfp4's activation width, a release fraction kept off the grouped
experts, a checkpoint's stored weight bytes) and `catalog.schemas.Accelerator.same_mma_dtype`."""

from __future__ import annotations

from importlib import resources

import pytest

from infraplan.catalog.loader import load_accelerator
from infraplan.ops.precision import RECIPES
from infraplan.serving.format_precision import serving_precision

VLLM_012 = str(resources.files("infraplan.validation") / "data" / "stacks" / "vllm-0.12.yaml")


def test_nvfp4_reads_both_operands_at_four_and_a_half_bits() -> None:
    """W4A4 NVFP4 (TensorRT-LLM / ModelOpt): e2m1 weights and activations, one e4m3 scale byte per 16 elements, so
    0.5 + 1/16 = 0.5625 B each; a square 1,024 GEMM then averages (0.5625 + 0.5625 + 2) / 3 B an element (the bf16
    output). A mutant reading the activations at 1 B gave 1.1875."""
    b200 = load_accelerator("b200")
    p = serving_precision(b200, "nvfp4")
    assert (p.weight_bytes, p.act_bytes) == (0.5625, 0.5625)
    assert p.rate == RECIPES["nvfp4"].gemm_flops_per_s(b200)
    assert float(p.bytes_per_element(1024, 1024, 1024)) == pytest.approx((0.5625 * 2 + 2.0) / 3.0, rel=1e-12)


def test_a_release_fp8_fraction_leaves_the_grouped_experts_at_the_parts() -> None:
    """vLLM 0.12.0's measured fp8 GEMM fraction on H200 (0.820, its YAML's `matmul_fraction`) prices the plain GEMMs;
    the grouped expert GEMMs are other kernels and keep the catalog's fp8 fraction (module docstring, "Release GEMM
    rates"). A mutant that gave them the release's ran the experts 0.820 / 0.63 faster."""
    h200 = load_accelerator("h200")
    p = serving_precision(h200, "fp8", VLLM_012, engine="vllm")
    assert p.rate == pytest.approx(h200.peak("fp8") * 0.820, rel=1e-12)
    assert p.grouped_rate == pytest.approx(h200.peak("fp8") * h200.matmul_fraction("fp8"), rel=1e-12)
    assert h200.matmul_fraction("fp8") < 0.8  # (the two differ: the assertion above can fail)


def test_w8a8_reads_both_operands_at_one_byte() -> None:
    """fp8 and int8 are W8A8 (TensorRT-LLM / vLLM fp8, SmoothQuant int8): 1 B weights and 1 B activations, so a
    square GEMM averages (1 + 1 + 2) / 3 B an element; a mutant reading the activations at 2 B (bf16) gave 5 / 3."""
    h100 = load_accelerator("h100-sxm")
    for dtype in ("fp8", "int8"):
        p = serving_precision(h100, dtype)
        assert (p.weight_bytes, p.act_bytes) == (1.0, 1.0)
        assert float(p.bytes_per_element(512, 512, 512)) == pytest.approx(4.0 / 3.0, rel=1e-12)


def test_a_checkpoints_stored_weight_bytes_are_read() -> None:
    """A GPTQ / AWQ int4 checkpoint with a bf16 scale per 128 weights stores 0.5 + 2/128 = 0.515625 B a weight;
    `stored` carries it and the GEMMs read the weights at it (0.5 B with none given)."""
    h100 = load_accelerator("h100-sxm")
    assert serving_precision(h100, "int4", stored=0.5 + 2.0 / 128).weight_bytes == 0.515625
    assert serving_precision(h100, "int4").weight_bytes == 0.5


def test_a_measured_int8_fraction_is_kept() -> None:
    """`same_mma_dtype` lends fp8's fraction only to an int8 with none measured: a what-if H100 whose file gives int8
    its own 0.55 keeps it (the mutant that ignored the measured one read fp8's 0.63)."""
    h100 = load_accelerator("h100-sxm")
    measured = h100.efficiency.matmul_max_fraction | {"int8": 0.55}
    part = h100.model_copy(update={"efficiency": h100.efficiency.model_copy(update={
        "matmul_max_fraction": measured})})
    assert part.same_mma_dtype("int8") is None and part.matmul_fraction("int8") == 0.55
    assert serving_precision(part, "int8").rate == pytest.approx(h100.peak("int8") * 0.55, rel=1e-12)
    assert h100.same_mma_dtype("int8") == "fp8" and h100.matmul_fraction("fp8") != 0.55


def test_a_part_without_int8_lends_it_no_fraction() -> None:
    """Rubin and Gaudi 2 list fp8 and no int8 peak: int8 shares no MMA there (None, not a KeyError from the missing
    peak), and its fraction is refused as unknown."""
    for name in ("rubin", "gaudi2"):
        part = load_accelerator(name)
        assert not part.supports("int8") and part.supports("fp8")
        assert part.same_mma_dtype("int8") is None
        with pytest.raises(KeyError):
            part.matmul_fraction("int8")
