"""The routed counts' spread prices its extra row tiles as `gemm_fwd_bwd` prices the mean (hR51, session 47).

Session 46 (hK47) priced an fp8 GEMM's output at bf16's 2 B (`training.layer_kernels.output_width`, Transformer
Engine's `out_dtype`) inside `gemm_fwd_bwd`; `expert_counts._rows_time`, which says it prices "as `gemm_fwd_bwd` prices
its forward", kept the operand's 1 B for the output, so with `ROUTED_COUNT_SPREAD` on an fp8 expert GEMM's spread
was the difference of two GEMMs priced one way added to a mean priced the other.
"""

from __future__ import annotations

import math

import pytest

from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.training import expert_counts
from infraplan.training.expert_counts import normal_cdf, routed_gemm_fwd_bwd
from infraplan.training.layer_kernels import gemm_fwd_bwd, output_width

ACC = Cluster.resolve("dgx-h100-superpod").for_gpus(8).accelerator
RATES = KernelRates.for_dtype(ACC, "fp8")
FP8 = (RATES.matmul_flops_per_s, 1.0)
TILE = float(RATES.tile_m)


@pytest.fixture(autouse=True)
def _spread_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(expert_counts, "ROUTED_COUNT_SPREAD", True)  # built, off (the module's docstring)


def _weights(m: float, spread: float) -> tuple[float, float]:
    """The chances of one more / one fewer row tile (the module's normal approximation, written out here)."""
    sigma = math.sqrt(m * spread)
    edge = math.ceil(m / TILE) * TILE
    return 1.0 - normal_cdf((edge - m) / sigma), normal_cdf((edge - TILE - m) / sigma)


@pytest.mark.parametrize(("m", "n", "k"), [(128.0, 16384.0, 4096.0), (256.0, 16384.0, 2048.0),
                                           (1024.0, 5760.0, 2880.0)])
def test_an_fp8_spread_is_priced_at_the_means_output_width(m: float, n: float, k: float) -> None:
    """Forward: the mean's `gemm_fwd_bwd` plus each neighbouring row count's forward, from `gemm_fwd_bwd` too, less the
    mean's, by its chance. Data gradient (m x n @ n x k, its output m x k): the same with `gemm_seconds` at
    `output_width`. The first two shapes are memory-bound at the mean (one wave of 128 or 256 tiles): there a 1 B
    output was 0.3-1.0 us short per GEMM of the mean's price."""
    experts, spread = 16.0, 31.0 / 32.0
    above, below = _weights(m, spread)
    lower = max(m - TILE, 0.0)
    mean_fwd, mean_bwd = gemm_fwd_bwd(RATES, FP8, m, n, k, experts, False, 1.0, True, None)
    fwd, bwd = routed_gemm_fwd_bwd(RATES, FP8, m, n, k, experts, False, 1.0, True, None, spread)

    def forward(rows: float) -> float:
        return float(gemm_fwd_bwd(RATES, FP8, rows, n, k, experts, False, 1.0, True, None)[0])

    def dgrad(rows: float) -> float:
        return experts * gemm_seconds(RATES, rows, k, n, output_width(1.0, rows, k, n), FP8[0])

    assert fwd - mean_fwd == pytest.approx(above * (forward(m + TILE) - forward(m))
                                           + below * (forward(lower) - forward(m)), rel=1e-9, abs=1e-15)
    assert bwd - mean_bwd == pytest.approx(above * (dgrad(m + TILE) - dgrad(m))
                                           + below * (dgrad(lower) - dgrad(m)), rel=1e-9, abs=1e-15)
