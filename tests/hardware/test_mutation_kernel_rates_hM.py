"""Mutation spot-checks, third wave (hM, session 34): kernel rates no test pinned (hardware/kernels.py).

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)") and asserts a
rate worked by hand from the catalog figures the code cites (catalog/accelerators/h100-sxm.yaml)."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware.kernels import KernelRates, attention_time

H100 = load_accelerator("h100-sxm")  # bf16 989 TF/s, fp8 1,979 TF/s; matmul 0.70 bf16 / 0.63 fp8; attention 0.50


def test_fp8_gemms_run_at_the_fp8_fraction_of_the_fp8_peak() -> None:
    """h100-sxm.yaml: fp8 GEMMs at 0.63 of 1,979 TF/s (its measured fp8 shards), not bf16's 0.70 of it.
    Mutant D08 took the bf16 fraction for every dtype."""
    assert KernelRates.for_dtype(H100, "fp8").matmul_flops_per_s == pytest.approx(1979e12 * 0.63, rel=1e-12)
    assert KernelRates.for_dtype(H100, "bf16").matmul_flops_per_s == pytest.approx(989e12 * 0.70, rel=1e-12)


def test_a_stacks_multipliers_scale_the_gemm_and_attention_rates() -> None:
    """catalog.stacks: a stack's efficiency multipliers apply after the accelerator's fraction (rate x multiplier):
    0.9 of 0.70 x 989 TF/s for GEMMs, 0.8 of 0.50 x 989 TF/s for fused attention. Mutants D02 / D03 dropped them."""
    rates = KernelRates.for_dtype(H100, "bf16", matmul_multiplier=0.9, attention_multiplier=0.8)
    assert rates.matmul_flops_per_s == pytest.approx(989e12 * 0.70 * 0.9, rel=1e-12)
    assert rates.attention_flops_per_s == pytest.approx(989e12 * 0.50 * 0.8, rel=1e-12)


def test_a_partial_wave_idles_the_exponentials_too() -> None:
    """A fused-attention launch of 133 programs on 132 SMs runs two waves at occupancy 133 / 264: its matmul FLOPs
    and its exponentials (MUFU, 3.9 T/s) both take 264 / 133 longer. At head dim 64 each exponential adds
    (1 - 64 / 128) / 3.9e12 s. Mutant D07 left the exponentials at full occupancy."""
    flops, exps = 1e12, 1e10
    rates = KernelRates.for_dtype(H100, "bf16")
    got = float(attention_time(rates, flops, 133, kernels=1, exponentials=exps, head_dim=64.0))
    occupancy = 133 / 264
    want = flops / (989e12 * 0.50 * occupancy) + exps * 0.5 / 3.9e12 / occupancy + 4.0e-6
    assert got == pytest.approx(want, rel=1e-12)
