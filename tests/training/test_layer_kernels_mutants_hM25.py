"""Mutation wave hM25 (session 47) on `training.layer_kernels.output_width` (hK47): a GEMM's mean bytes per element
when its output is written at bf16's 2 B (Transformer Engine's out_dtype) and its operands are narrower; an operand
width of 2 B or more is kept (an fp32 GEMM writes fp32: the docstring's "`width` itself where that is no narrower"),
on the float path and the array path alike.

By hand, an fp8 (1 B) GEMM (128 x 128) @ (128 x 4,096): inputs 128 x 128 + 128 x 4,096 = 540,672 elements at 1 B,
output 128 x 4,096 = 524,288 at 2 B: 1,589,248 B over 1,064,960 elements = 1.49231 B."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.hardware.kernels import KernelRates
from infraplan.training.layer_kernels import gemm_fwd_bwd, output_width

ROWS, COLS, DEPTH = 128.0, 4096.0, 128.0


def test_an_fp8_gemm_by_hand_and_wider_operands_kept() -> None:
    assert output_width(1.0, ROWS, COLS, DEPTH) == pytest.approx(1_589_248 / 1_064_960, rel=1e-12)
    assert output_width(4.0, ROWS, COLS, DEPTH) == 4.0  # fp32 operands: written at fp32, not narrowed to 2 B
    widths = np.array([1.0, 2.0, 4.0])
    got = output_width(widths, np.full(3, ROWS), np.full(3, COLS), np.full(3, DEPTH))
    assert list(got[1:]) == [2.0, 4.0]  # the array path keeps them too
    assert got[0] == pytest.approx(output_width(1.0, ROWS, COLS, DEPTH), rel=1e-15)


@pytest.mark.parametrize("one", [False, True])
def test_each_gemm_writes_its_own_output_at_bf16(one: bool) -> None:
    """A memory-bound fp8 layer GEMM (m x k) @ (k x n), m 128, n 4,096, k 1,024, on a part of unbounded FLOP/s and
    1e12 B/s: the bytes by hand. Forward: X (m x k) and W (k x n) at 1 B, Y (m x n) at 2 B. Backward: the data
    gradient dY (m x n) and W at 1 B, dX (m x k) at 2 B; the weight gradient X and dY at 1 B, dW (k x n) at 2 B."""
    rates = KernelRates(matmul_flops_per_s=1e30, attention_flops_per_s=1e30, memory_bytes_per_s=1e12,
                        compute_units=132, tile_m=128, tile_n=128, kernel_overhead_s=0.0)
    m, n, k = 128.0, 4096.0, 1024.0
    fwd_bytes = m * k + k * n + 2 * m * n
    bwd_bytes = (m * n + n * k + 2 * m * k) + (m * k + m * n + 2 * k * n)
    rows, cols, depth = (m, n, k) if one else (np.array([m]), np.array([n]), np.array([k]))
    fwd, bwd = gemm_fwd_bwd(rates, (1e30, 1.0), rows, cols, depth, one=one)
    assert float(np.ravel(fwd)[0]) == pytest.approx(fwd_bytes / 1e12, rel=1e-12)
    assert float(np.ravel(bwd)[0]) == pytest.approx(bwd_bytes / 1e12, rel=1e-12)
