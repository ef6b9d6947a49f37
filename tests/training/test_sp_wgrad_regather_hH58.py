"""The wgrad input re-gather of Transformer Engine's column-parallel GEMMs under SP, priced beyond the dgrad GEMM it
runs under (`training.sp_regather.SP_WGRAD_REGATHER`, hH session 58): which GEMMs' inputs (QKV, FC1, a shared
expert's FC1; MLA's q / kv latents), at which bytes, how much the dgrad hides. Checked failing before the change: the
module does not import on the base tree (`training.sp_regather` is new)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Collective, Layout, layer_ops
from infraplan.training.layer_kernels import collective_times
from infraplan.training.sp_regather import regather_exposed_s

T, TP = 4096.0, 8.0
FABRIC = Fabric(8, 3.6e11, 4.5e10, ("rack", "spine", "core"), (64, 2048, 32768), (1.0, 2.0, 3.0), (1e-6, 2e-6, 4e-6))


def _lay(sp: bool = True) -> Layout:
    return Layout(tokens=T, seq_len=T, tp=TP, ep=8, sequence_parallel=sp)  # type: ignore[arg-type]


def _gather(width: float, ratio: float = 1.0) -> float:
    return float(collective_times(FABRIC, (Collective("all_gather", "tp", T * width * 2.0 * ratio, TP, 1),), "tp",
                                  True))


def test_unhidden_regathers_are_the_gathered_inputs() -> None:
    """With no dgrad time to hide under: Llama's QKV and FC1 inputs (T x h each); DeepSeek-V3's q / kv latents, its MoE
    layers' shared-expert FC1 input (58/61) and its dense layers' FC1 input (3/61), never the routed experts'."""
    llama = load_model("llama3-70b")
    ops = layer_ops(llama, _lay())
    zero = [(0.0, 0.0)] * len(ops.gemms)
    assert regather_exposed_s(FABRIC, ops, zero, _lay(), 1.0, True) == pytest.approx(2.0 * _gather(8192.0))
    v3 = load_model("deepseek-v3")
    ops = layer_ops(v3, _lay())
    zero = [(0.0, 0.0)] * len(ops.gemms)
    expected = _gather(1536.0) + _gather(512.0) + _gather(7168.0)  # the latents; one FC1 input in each kind
    assert regather_exposed_s(FABRIC, ops, zero, _lay(), 1.0, True) == pytest.approx(expected)
    # in the recipe's format: the forward gather's bytes per element
    assert regather_exposed_s(FABRIC, ops, zero, _lay(), 0.5, True) == pytest.approx(
        _gather(1536.0, 0.5) + _gather(512.0, 0.5) + _gather(7168.0, 0.5))


def test_the_dgrad_gemm_hides_the_regather() -> None:
    ops = layer_ops(load_model("llama3-70b"), _lay())
    gather = _gather(8192.0)
    long = [(0.0, 4.0 * gather)] * len(ops.gemms)  # dgrad = half the backward = 2 x the gather: hidden
    assert regather_exposed_s(FABRIC, ops, long, _lay(), 1.0, True) == 0.0
    half = [(0.0, gather)] * len(ops.gemms)  # dgrad = half the gather: the other half exposed, per GEMM
    assert regather_exposed_s(FABRIC, ops, half, _lay(), 1.0, True) == pytest.approx(2.0 * 0.5 * gather)


def test_no_regather_without_sequence_parallelism() -> None:
    ops = layer_ops(load_model("llama3-70b"), _lay(sp=False))
    zero = [(0.0, 0.0)] * len(ops.gemms)
    assert regather_exposed_s(FABRIC, ops, zero, _lay(sp=False), 1.0, True) == 0.0
    arrays = regather_exposed_s(FABRIC, ops, [(np.zeros(2), np.zeros(2))] * len(ops.gemms), _lay(sp=False), 1.0,
                                False)
    assert np.all(np.asarray(arrays) == 0.0)
