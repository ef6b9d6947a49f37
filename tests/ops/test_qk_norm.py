"""Qwen3's per-head Q / K RMSNorm in the training layer table (`ops.qk_norm`)."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.ops.qk_norm as qk_norm
from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.qk_norm import qk_norm_passes


def _passes(model: str, tp: float = 1.0, phase: str = "training") -> dict[str, float]:
    shape = load_model(model)
    lay = Layout(tokens=4096.0, seq_len=4096.0, batch=1.0, tp=tp, cp=1.0, ep=16.0, sequence_parallel=tp > 1,
                 phase=phase)  # type: ignore[arg-type]
    ops = layer_ops(shape, lay)
    return {e.role: (float(np.asarray(e.bytes)), float(e.kernels)) for e in ops.elementwise_fwd} | {
        "bwd:" + e.role: (float(np.asarray(e.bytes)), float(e.kernels)) for e in ops.elementwise_bwd}


def test_qwen3_moe_layers_norm_every_local_query_and_key_head() -> None:
    p = _passes("qwen3-30b-a3b")
    q, k = 4096.0 * 32 * 128, 4096.0 * 4 * 128  # 32 query heads, 4 KV heads of 128 on one GPU (TP1)
    rows = (q + k) / 128.0
    assert p["qk_norm"] == pytest.approx((4.0 * (q + k) + 4.0 * rows, 2.0))
    assert p["bwd:qk_norm"] == pytest.approx((6.0 * (q + k) + 4.0 * rows, 4.0))
    # TP2 splits the query heads; Qwen3-235B's 4 KV heads split too (2 local)
    p235 = _passes("qwen3-235b-a22b", tp=2.0)
    q2, k2 = 4096.0 * 64 * 128 / 2, 4096.0 * 2 * 128
    assert p235["qk_norm"][0] == pytest.approx(4.0 * (q2 + k2) + 4.0 * (q2 + k2) / 128.0)


def test_models_without_qk_norm_and_serving_tables_carry_none(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "qk_norm" not in _passes("llama3-8b")
    assert "qk_norm" not in _passes("qwen3-30b-a3b", phase="inference")
    monkeypatch.setattr(qk_norm, "QK_NORM_TRAINING", False)
    assert _passes("qwen3-30b-a3b")["qk_norm"] == (0.0, 0.0)
    shape = load_model("qwen3-30b-a3b")
    (fwd, _), (bwd, _) = qk_norm_passes(shape, np.array([1.0, 2.0]), 128.0, 128.0)
    assert np.array_equal(fwd, [0.0, 0.0]) and np.array_equal(bwd, [0.0, 0.0])
