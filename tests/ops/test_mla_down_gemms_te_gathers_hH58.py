"""MLA's down projections as the two GEMMs Megatron-Core 0.16.1 runs in training (`ops.mla_gemms.MLA_TWO_DOWN_GEMMS`:
q_down and kv_down apart, their input gradients summed by one add backward; serving keeps the engines' one fused
GEMM) and TE's T x h sequence-parallel gathers found in every layer kind (`ops.layer.TE_GATHERS_EVERY_KIND`:
DeepSeek-V3's 3 dense layers beside its 58 MoE ones) (hH, session 58). Checked failing before the change: on the base
tree the module does not import (`ops.mla_gemms` is new); with each toggle False its own tests fail (the first two
for MLA_TWO_DOWN_GEMMS, the third and fourth for TE_GATHERS_EVERY_KIND)."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.ops.layer as layer
import infraplan.ops.mla_gemms as mla_gemms
from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.training.tp_quantised_collectives import te_gather_records

T, TP, H, Q_LORA, KV_LORA, ROPE = 4096.0, 8.0, 7168.0, 1536.0, 512.0, 64.0


def _lay(sp: bool = True, phase: str = "training") -> Layout:
    return Layout(tokens=T, seq_len=T, tp=TP, ep=8, sequence_parallel=sp, phase=phase)  # type: ignore[arg-type]


def _gemms(ops: layer.LayerOps, role: str) -> list[layer.Gemm]:
    return [g for g in ops.gemms if g.role == role]


def test_training_runs_q_down_and_kv_down_apart_serving_fused() -> None:
    v3 = load_model("deepseek-v3")
    ops = layer_ops(v3, _lay())
    assert not _gemms(ops, "qkv_down")
    for role, n in (("q_down", Q_LORA), ("kv_down", KV_LORA + ROPE)):
        found = _gemms(ops, role)  # one per layer kind (MoE, dense), weighted by its share of the layers
        assert [(float(np.asarray(g.m)), g.n, g.k) for g in found] == [(T / TP, n, H)] * 2
        assert sum(g.count for g in found) == pytest.approx(1.0)
    serving = layer_ops(v3, _lay(sp=False, phase="inference"))
    assert [g.n for g in _gemms(serving, "qkv_down")] == [Q_LORA + KV_LORA + ROPE] * 2
    assert not _gemms(serving, "q_down")


def test_down_input_gradients_summed_backward() -> None:
    """Backward, the two dgrad outputs (shard x h each) are summed: read 2 x 2 B, write 2 B, one kernel."""
    ops = layer_ops(load_model("deepseek-v3"), _lay())
    add = next(e for e in ops.elementwise_bwd if e.role == "mla_down_grad_add")
    assert float(np.asarray(add.bytes)) == pytest.approx(3.0 * 2.0 * T / TP * H)
    assert add.kernels == pytest.approx(1.0)
    assert not [e for e in ops.elementwise_fwd if e.role == "mla_down_grad_add"]
    dense = layer_ops(load_model("llama3-70b"), _lay())
    assert not [e for e in dense.elementwise_bwd if e.role == "mla_down_grad_add"]


def test_te_gathers_found_in_every_layer_kind() -> None:
    """DeepSeek-V3 under SP: one T x h TE gather forward (FC1's / the shared expert's input: the MLA attention gathers
    latents) and two backward (the projection's and FC2's output gradients) in each kind: counts 1 and 2 over the
    layer-weighted table, not the MoE kind's 58/61 alone."""
    ops = layer_ops(load_model("deepseek-v3"), _lay())
    fwd, bwd = te_gather_records(ops.collectives_fwd), te_gather_records(ops.collectives_bwd)
    assert sum(c.count for c in fwd) == pytest.approx(1.0)
    assert sum(c.count for c in bwd) == pytest.approx(2.0)
    assert {float(np.asarray(c.bytes)) for c in fwd + bwd} == {T * H * 2.0}


def test_single_kind_models_find_the_same_gathers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A model of one layer kind: the marked gathers are the ones the payload identity found before."""
    for model in ("llama3-70b", "qwen3-30b-a3b"):
        shape = load_model(model)
        on = layer_ops(shape, _lay())
        monkeypatch.setattr(layer, "TE_GATHERS_EVERY_KIND", False)
        off = layer_ops(shape, _lay())
        monkeypatch.setattr(layer, "TE_GATHERS_EVERY_KIND", True)
        for phase in ("collectives_fwd", "collectives_bwd"):
            got = [(c.count, float(np.asarray(c.bytes))) for c in te_gather_records(getattr(on, phase))]
            monkeypatch.setattr(layer, "TE_GATHERS_EVERY_KIND", False)
            was = [(c.count, float(np.asarray(c.bytes))) for c in te_gather_records(getattr(off, phase))]
            monkeypatch.setattr(layer, "TE_GATHERS_EVERY_KIND", True)
            assert got == was and got


def test_toggles_off_restore_the_fused_gemm() -> None:
    """Off: one fused GEMM and no add; the FLOPs are the same either way."""
    v3 = load_model("deepseek-v3")
    apart = layer_ops(v3, _lay())
    was = mla_gemms.MLA_TWO_DOWN_GEMMS
    try:
        mla_gemms.MLA_TWO_DOWN_GEMMS = False
        ops = layer_ops(v3, _lay())
    finally:
        mla_gemms.MLA_TWO_DOWN_GEMMS = was
    assert [g.n for g in _gemms(ops, "qkv_down")] == [Q_LORA + KV_LORA + ROPE] * 2
    assert not [e for e in ops.elementwise_bwd if e.role == "mla_down_grad_add"]
    assert float(ops.gemm_flops()) == pytest.approx(float(apart.gemm_flops()))
