"""Grouped GEMMs (MoE experts): one kernel over every expert's tiles, each expert's M padded to its tile."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.hardware.kernels import KernelRates, gemm_time, grouped_gemm_time
from infraplan.ops.layer import Layout, layer_ops

RATES = KernelRates.for_dtype(load_accelerator("h100-sxm"), "bf16")


def test_grouped_gemm_pays_one_launch_and_shares_waves() -> None:
    looped = 32 * gemm_time(RATES, 256, 4096, 7168, 2.0)
    grouped = grouped_gemm_time(RATES, 256, 4096, 7168, 32, 2.0)
    assert grouped < looped
    assert looped - grouped >= 31 * RATES.kernel_overhead_s * 0.99


def test_small_per_expert_token_counts_waste_the_tile() -> None:
    """Per-expert M of 8 is padded to a 16-row tile (and the weights must still be read): per useful FLOP it is
    far slower than M of 1024."""
    def per_flop(m: float) -> float:
        return float(grouped_gemm_time(RATES, m, 4096, 7168, 32, 2.0)) / (2 * m * 4096 * 7168 * 32)

    assert per_flop(8) > 20 * per_flop(1024)
    assert per_flop(100) > per_flop(128)  # 100 rows run in a 128-row tile


def test_expert_gemms_are_grouped_and_carry_the_load_factor() -> None:
    shape = load_model("mixtral-8x7b")
    base = layer_ops(shape, Layout(tokens=4096.0, ep=2))
    skew = layer_ops(shape, Layout(tokens=4096.0, ep=2, expert_load_factor=1.5))
    experts = [g for g in base.gemms if g.role.startswith("expert")]
    assert experts and all(g.grouped for g in experts)
    assert [g.kernels() for g in experts] == [1.0, 1.0]
    for g, h in zip(experts, (g for g in skew.gemms if g.role.startswith("expert")), strict=True):
        assert float(h.m) == pytest.approx(1.5 * float(g.m))
    (a2a,) = [c for c in base.collectives_fwd if c.role == "ep"]
    (a2a_skew,) = [c for c in skew.collectives_fwd if c.role == "ep"]
    assert float(np.asarray(a2a_skew.bytes)) == pytest.approx(1.5 * float(np.asarray(a2a.bytes)))


def test_layer_kinds_weight_the_grouped_gemm_share_not_its_count() -> None:
    """DeepSeek-V3's 3 dense + 58 routed layers: the grouped GEMM keeps its expert count, weighted by 58/61."""
    shape = load_model("deepseek-v3")
    ops = layer_ops(shape, Layout(tokens=4096.0, ep=64))
    (up,) = [g for g in ops.gemms if g.role == "expert_up"]
    assert float(np.asarray(up.count)) == pytest.approx(256 / 64)
    assert float(np.asarray(up.share)) == pytest.approx(58 / 61)
