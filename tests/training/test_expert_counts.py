"""The routed experts' counts spread around their mean (`training.expert_counts`): the forward and data-gradient GEMMs
run the row tiles of the counts the router draws, not of their mean."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware import KernelRates
from infraplan.hardware.gemm_seconds import gemm_seconds
from infraplan.training import expert_counts
from infraplan.training.expert_counts import count_spread, normal_cdf, routed_gemm_fwd_bwd
from infraplan.training.layer_kernels import gemm_fwd_bwd

SHIPPED = expert_counts.ROUTED_COUNT_SPREAD  # read at import, before the fixture turns it on


@pytest.fixture(autouse=True)
def _spread_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mechanism as built (the module's toggle is off by default: its docstring says why)."""
    monkeypatch.setattr(expert_counts, "ROUTED_COUNT_SPREAD", True)


H100 = KernelRates.for_dtype(Cluster.resolve("dgx-h100-superpod").for_gpus(8).accelerator, "bf16")
BF16 = (H100.matmul_flops_per_s, 2.0)


def test_normal_cdf_matches_erf_on_floats_and_arrays() -> None:
    z = np.linspace(-5.0, 5.0, 201)
    exact = np.array([0.5 * (1.0 + math.erf(x / math.sqrt(2.0))) for x in z])
    assert np.max(np.abs(normal_cdf(z) - exact)) < 2e-7
    assert all(normal_cdf(float(x)) == normal_cdf(z)[i] for i, x in enumerate(z))  # same bits either way


def test_the_shipped_default_is_off() -> None:
    assert SHIPPED is False  # built and measured, not adopted (the module docstring's reason)


def test_gpt_oss_counts_are_binomial_around_the_mean() -> None:
    shape = load_model("gpt-oss-120b")  # top-4 of 128 experts: variance m (1 - 1/32)
    assert count_spread(shape.num_experts, shape.experts_per_token) == pytest.approx(31.0 / 32.0)


def test_a_count_on_a_tile_edge_pays_half_the_extra_wave_forward() -> None:
    # H023's fc1: 16 local experts of 1,024 mean rows, n 5,760, k 2,880 on H100 (128 x 128 tiles, 132 SMs): 8 row
    # tiles x 45 = 360 tiles (3 waves); 1,025 rows and up take 9 x 45 = 405 (4 waves)
    m, n, k, experts, spread = 1024.0, 5760.0, 2880.0, 16.0, 31.0 / 32.0
    mean_fwd, mean_bwd = gemm_fwd_bwd(H100, BF16, m, n, k, experts, False, 1.0, True, None)
    fwd, bwd = routed_gemm_fwd_bwd(H100, BF16, m, n, k, experts, False, 1.0, True, None, spread)
    rate = H100.matmul_flops_per_s
    wave = experts * (gemm_seconds(H100, m + 128.0, n, k, 2.0, rate) - gemm_seconds(H100, m, n, k, 2.0, rate))
    assert wave > 0.3 * mean_fwd / 3.0  # one more wave of three, less the memory term's share
    below = normal_cdf(-128.0 / math.sqrt(m * spread))  # at or under 896 rows: ~ 2e-5
    assert fwd - mean_fwd == pytest.approx(0.5 * wave + below * experts * (
        gemm_seconds(H100, m - 128.0, n, k, 2.0, rate) - gemm_seconds(H100, m, n, k, 2.0, rate)), rel=1e-6)
    # dgrad (1,024 x 2,880 x 5,760): 8 or 9 row tiles x 23 = 184 / 207 tiles, 2 waves either way; wgrad at the mean
    assert bwd == pytest.approx(mean_bwd, rel=1e-3)


def test_off_zero_spread_and_skinny_counts_keep_the_mean() -> None:
    mean = gemm_fwd_bwd(H100, BF16, 1024.0, 5760.0, 2880.0, 16.0, False, 1.0, True, None)
    assert routed_gemm_fwd_bwd(H100, BF16, 1024.0, 5760.0, 2880.0, 16.0, False, 1.0, True, None, 0.0) == mean
    skinny = gemm_fwd_bwd(H100, BF16, 96.0, 5760.0, 2880.0, 16.0, False, 1.0, True, None)
    assert routed_gemm_fwd_bwd(H100, BF16, 96.0, 5760.0, 2880.0, 16.0, False, 1.0, True, None, 0.9) == skinny


def test_off_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert expert_counts.ROUTED_COUNT_SPREAD  # the fixture's; the shipped default is off
    monkeypatch.setattr(expert_counts, "ROUTED_COUNT_SPREAD", False)
    mean = gemm_fwd_bwd(H100, BF16, 1024.0, 5760.0, 2880.0, 16.0, False, 1.0, True, None)
    assert routed_gemm_fwd_bwd(H100, BF16, 1024.0, 5760.0, 2880.0, 16.0, False, 1.0, True, None, 0.9) == mean


@pytest.mark.parametrize("grouped", [False, True])
def test_the_array_path_prices_each_plan_as_the_single_estimate(grouped: bool) -> None:
    m = np.array([96.0, 1024.0, 1030.0, 4096.0, 32768.0])
    fwd, bwd = routed_gemm_fwd_bwd(H100, BF16, m, 5760.0, 2880.0, 16.0, grouped, 1.0, False, 4.0, 0.97)
    for i, rows in enumerate(m):
        one = routed_gemm_fwd_bwd(H100, BF16, float(rows), 5760.0, 2880.0, 16.0, grouped, 1.0, True, 4.0, 0.97)
        assert (float(fwd[i]), float(bwd[i])) == pytest.approx(one, rel=1e-12)
    mean = gemm_fwd_bwd(H100, BF16, m, 5760.0, 2880.0, 16.0, grouped, 1.0, False, 4.0)
    # a mean on a tile edge can only gain a tile row; one just past an edge (1,030 rows) may also lose one
    assert fwd[1] > mean[0][1] and fwd[3] >= mean[0][3] and fwd[2] < mean[0][2] and fwd[0] == mean[0][0]
