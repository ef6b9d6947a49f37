"""MLA's replicated down projections under sequence parallelism in training, as Megatron-Core 0.16.1 runs them
(`ops.layer.MLA_DOWN_ON_SEQUENCE_SHARD`): on the rank's sequence shard (T / TP), their latents gathered
(T x (q_lora + kv_lora + rope)) in place of the attention's T x h gather; serving (no SP) unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.ops.layer as layer
from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops

T, TP = 4096.0, 8.0


def _lay(sp: bool, phase: str = "training", tp: float = TP) -> Layout:
    return Layout(tokens=T, seq_len=T, tp=tp, ep=8, sequence_parallel=sp, phase=phase)  # type: ignore[arg-type]


def _gemm(ops: layer.LayerOps, role: str) -> layer.Gemm:
    return next(g for g in ops.gemms if g.role == role)


def _tp(records: tuple[layer.Collective, ...], kind: str) -> float:
    """Bytes x count of the TP records of one kind that run (mask on, group > 1)."""
    return sum(float(np.asarray(c.bytes)) * float(np.asarray(c.count)) for c in records
               if c.role == "tp" and c.kind == kind and bool(np.asarray(c.mask)) and float(np.asarray(c.group)) > 1)


def test_training_down_projection_runs_on_the_sequence_shard() -> None:
    # (hH58: training lists q_down and kv_down apart, `ops.mla_gemms.MLA_TWO_DOWN_GEMMS`; both on the shard)
    v3 = load_model("deepseek-v3")
    ops = layer_ops(v3, _lay(True))
    down, kv = _gemm(ops, "q_down"), _gemm(ops, "kv_down")
    assert float(np.asarray(down.m)) == float(np.asarray(kv.m)) == T / TP  # [s/TP, b, h] in, :582-586, :604
    assert float(np.asarray(down.n)) + float(np.asarray(kv.n)) == 1536 + 512 + 64
    assert float(np.asarray(_gemm(layer_ops(v3, _lay(False)), "q_down").m)) == T  # no SP: all tokens
    assert float(np.asarray(_gemm(layer_ops(v3, _lay(True)), "q_up").m)) == T  # the up projections: gathered


def test_the_latents_are_gathered_not_the_hidden_state() -> None:
    v3 = load_model("deepseek-v3")
    ops = layer_ops(v3, _lay(True))
    h, latent = T * 7168 * 2.0, T * (1536 + 512 + 64) * 2.0
    assert _tp(ops.collectives_fwd, "all_gather") == pytest.approx(h + latent)  # FFN's T x h + the latents
    assert _tp(ops.collectives_fwd, "reduce_scatter") == pytest.approx(2 * h)  # both row-parallel outputs
    assert _tp(ops.collectives_bwd, "all_gather") == pytest.approx(2 * h)  # the output gradients
    assert _tp(ops.collectives_bwd, "reduce_scatter") == pytest.approx(h + latent)  # the inputs' gradients


def test_serving_and_toggle_off_keep_all_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    v3 = load_model("deepseek-v3")
    serving = layer_ops(v3, _lay(False, "inference"))
    assert float(np.asarray(_gemm(serving, "qkv_down").m)) == T
    monkeypatch.setattr(layer, "MLA_DOWN_ON_SEQUENCE_SHARD", False)
    off = layer_ops(v3, _lay(True))
    assert float(np.asarray(_gemm(off, "q_down").m)) == T  # (hH58: q_down / kv_down apart in training)
    assert _tp(off.collectives_fwd, "all_gather") == pytest.approx(2 * T * 7168 * 2.0)


def test_without_q_lora_the_query_projection_gathers_h() -> None:
    """q_lora_rank None: linear_q_proj is column-parallel on the [s/TP, h] input (:391-404), so it gathers T x h;
    kv_down runs on the shard."""
    v3 = load_model("deepseek-v3")
    lite = v3.model_copy(update={"q_lora_rank": 0})
    ops = layer_ops(lite, _lay(True))
    assert float(np.asarray(_gemm(ops, "kv_down").m)) == T / TP
    h = T * 7168 * 2.0
    assert _tp(ops.collectives_fwd, "all_gather") == pytest.approx(2 * h + T * (512 + 64) * 2.0)


def test_grid_matches_one_plan() -> None:
    v3 = load_model("deepseek-v3")
    tps = np.array([1.0, 2.0, 8.0])
    grid = layer_ops(v3, Layout(tokens=np.full(3, T), seq_len=T, tp=tps, ep=8,
                                sequence_parallel=np.array([False, True, True])))
    for i, tp in enumerate(tps):
        one = layer_ops(v3, _lay(bool(i), tp=float(tp)))
        # (hH58: training's q_down, `ops.mla_gemms.MLA_TWO_DOWN_GEMMS`)
        assert float(np.asarray(_gemm(grid, "q_down").m)[i]) == float(np.asarray(_gemm(one, "q_down").m))
