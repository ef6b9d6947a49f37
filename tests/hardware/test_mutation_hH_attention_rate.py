"""Fused attention runs at the bf16 rate whatever the GEMM precision (hH mutation spot-check, session 33).

The fp8 / MXFP8 / NVFP4 recipes quantise the linear layers only: Transformer Engine 2.14 runs
DotProductAttention in bf16 unless `fp8_dpa` is set (pytorch/attention/dot_product_attention/utils.py:731-737;
off in the shipped stacks, catalog/stacks/nemo-26.04.yaml: "The MXFP8 recipe keeps attention in bf16"), and
`hardware.kernels` prices it at `attention_max_fraction` of the bf16 peak (module docstring). Pricing it at the
GEMM dtype's peak (2x at fp8 on H100, 4x at NVFP4 on B200) survived every test under tests/training and
tests/hardware.
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware.kernels import KernelRates


@pytest.mark.parametrize(("accelerator", "dtype"), [("h100-sxm", "fp8"), ("b200", "mxfp8"), ("b200", "nvfp4")])
def test_low_precision_plans_keep_the_bf16_attention_rate(accelerator: str, dtype: str) -> None:
    acc = load_accelerator(accelerator)
    assert acc.peak(dtype) >= 2.0 * acc.peak("bf16")  # the GEMM peak the attention must not take
    bf16_rate = acc.peak("bf16") * acc.efficiency.attention_max_fraction  # FLOP/s
    low = KernelRates.for_dtype(acc, dtype)
    assert low.attention_flops_per_s == pytest.approx(bf16_rate, rel=1e-12)
    assert low.attention_flops_per_s == KernelRates.for_dtype(acc, "bf16").attention_flops_per_s
    assert low.matmul_flops_per_s > KernelRates.for_dtype(acc, "bf16").matmul_flops_per_s  # the GEMMs do speed up
