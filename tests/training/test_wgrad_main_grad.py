"""The weight-gradient GEMM reads and writes the main gradient in its buffer's dtype (`training.main_grad_accumulation.
wgrad_width`: Transformer Engine accumulates the wgrad GEMM into `main_grad` under Megatron's
`gradient_accumulation_fusion`), so a weight-heavy, token-light wgrad (many local experts, few tokens each) is
memory-bound on the fp32 buffer, while a large training GEMM stays compute-bound and unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.hardware.kernels import KernelRates
from infraplan.training.layer_kernels import gemm_fwd_bwd
from infraplan.training.main_grad_accumulation import wgrad_width


def _rates() -> KernelRates:
    return KernelRates.for_dtype(load_accelerator("b200"), "fp8")


def test_the_width_mixes_the_operands_and_a_read_and_a_write_of_the_main_gradient() -> None:
    m, n, k = 1024.0, 4096.0, 7168.0  # tokens per expert, FC1 out, hidden: the wgrad's output is the k x n weight
    inputs, out = k * m + m * n, k * n
    assert wgrad_width(1.0, m, n, k, 4.0) == pytest.approx((inputs + 8.0 * out) / (inputs + out))
    assert wgrad_width(1.0, m, n, k, 2.0) < wgrad_width(1.0, m, n, k, 4.0)
    assert wgrad_width(1.0, 0.0, 0.0, 0.0, 4.0) == 1.0  # a GEMM that does not run keeps its width
    arrays = wgrad_width(np.array([1.0, 2.0]), np.array([m, 0.0]), np.array([n, 0.0]), np.array([k, 0.0]), 4.0)
    assert arrays[0] == pytest.approx(wgrad_width(1.0, m, n, k, 4.0)) and arrays[1] == 2.0


def test_a_memory_bound_wgrad_pays_for_the_fp32_buffer_and_a_compute_bound_one_does_not() -> None:
    rates = _rates()
    precision = (rates.matmul_flops_per_s, 1.0)
    # 64 tokens per expert x 32 local experts: the wgrad moves 8 B per weight element against 2 x 64 FLOPs
    light = [gemm_fwd_bwd(rates, precision, 64.0, 4096.0, 7168.0, 32.0, True, 1.0, True, g) for g in (None, 2.0, 4.0)]
    assert light[0][1] < light[1][1] < light[2][1]
    assert light[0][0] == light[1][0] == light[2][0]  # the forward does not touch the gradient
    # a dense 16k-token GEMM is compute-bound: the buffer's bytes do not move it
    dense = [gemm_fwd_bwd(rates, precision, 16384.0, 14336.0, 4096.0, 1.0, False, 1.0, True, g) for g in (None, 4.0)]
    assert dense[0] == dense[1]


@pytest.mark.parametrize("grouped", [False, True])
def test_one_plan_floats_and_arrays_price_the_same_wgrad(grouped: bool) -> None:
    rates = _rates()
    m, n, k, count = 256.0, 4096.0, 7168.0, 16.0
    one = gemm_fwd_bwd(rates, (rates.matmul_flops_per_s, 1.0), m, n, k, count, grouped, 1.0, True, 4.0)
    arr = gemm_fwd_bwd(rates, (np.array([rates.matmul_flops_per_s] * 2), np.array([1.0, 1.0])),
                       np.array([m, m]), np.array([n, n]), np.array([k, k]), np.array([count, count]), grouped,
                       np.array([1.0, 1.0]), False, 4.0)
    assert float(arr[0][0]) == pytest.approx(one[0], rel=1e-12)
    assert float(arr[1][1]) == pytest.approx(one[1], rel=1e-12)


def test_only_megatron_class_stacks_accumulate_the_wgrad_into_the_main_gradient() -> None:
    """Transformer Engine's fused wgrad accumulation into `main_grad` is Megatron's (`gradient_accumulation_fusion`):
    Megatron-class stacks read and write the buffer's dtype, FSDP / DeepSpeed stacks write a fresh wgrad."""
    from infraplan.catalog.stacks import load_stack
    from infraplan.training.main_grad_accumulation import main_grad_wgrad_bytes

    assert main_grad_wgrad_bytes(load_stack("nemo-26.04")) == 4.0
    assert main_grad_wgrad_bytes(load_stack("torchtitan")) is None
    assert main_grad_wgrad_bytes(load_stack("deepspeed")) is None
