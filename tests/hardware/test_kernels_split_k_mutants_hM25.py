"""Mutation wave hM25 (session 47) on `hardware.kernels`' split-K (`SPLIT_K`, built, off): the partial sums' bytes.

By hand, on a made-up accelerator (4 compute units, 128 x 128 tiles, 1e12 FLOP/s, 5e9 B/s, no launch overhead) and a
128 x 128 x 4,096 GEMM of 1-byte operands: one output tile, so splits = min(floor(4,096 / 512), floor(4 / 1)) = 4
(the module docstring's formula).
  unsplit: one full-K tile, one wave of 4 units: 4 x 128 x 128 x 2 x 4,096 / 1e12 = 536.9 us of compute, against
           (128 x 4,096 + 4,096 x 128 + 128 x 128) x 1 B / 5e9 = 213.0 us of memory: 536.9 us;
  split:   one wave of 4 pieces 1,024 deep: 134.2 us of compute; memory 213.0 us + the fp32 partial sums of the 3
           splits past the first, written once and read back (4 + 4 B, the docstring's PARTIAL_SUM_BYTES):
           3 x 8 x 128 x 128 / 5e9 = 78.6 us: 291.7 us, below the unsplit 536.9 us, so the GEMM runs split.
At 4 bytes a partial sum (written only) it would be 252.4 us: the test tells the two apart.
"""

from __future__ import annotations

import pytest

from infraplan.hardware import kernels
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.hardware.kernels import KernelRates, gemm_time

RATES = KernelRates(matmul_flops_per_s=1e12, attention_flops_per_s=1e12, memory_bytes_per_s=5e9, compute_units=4,
                    tile_m=128, tile_n=128, kernel_overhead_s=0.0)
M, N, K = 128.0, 128.0, 4096.0


def _by_hand(split: bool) -> float:
    operands = (M * K + K * N + M * N) * 1.0 / 5e9
    if not split:
        return max(4 * 128 * 128 * 2.0 * K / 1e12, operands)
    return max(4 * 128 * 128 * 2.0 * (K / 4) / 1e12, operands + 3 * (4.0 + 4.0) * M * N / 5e9)


@pytest.mark.parametrize("on", [True, False])
def test_a_split_gemm_pays_its_fp32_partial_sums_written_and_read(monkeypatch: pytest.MonkeyPatch, on: bool) -> None:
    monkeypatch.setattr(kernels, "SPLIT_K", on)
    want = _by_hand(on)
    assert _by_hand(True) < _by_hand(False)  # the hand count's premise: splitting pays here
    assert float(gemm_time(RATES, M, N, K, 1.0)) == pytest.approx(want, rel=1e-12)
    assert gemm_seconds(RATES, M, N, K, 1.0, RATES.matmul_flops_per_s) == pytest.approx(want, rel=1e-12)
