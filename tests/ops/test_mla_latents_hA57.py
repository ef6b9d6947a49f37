"""MLA's latents in training as Megatron-Core 0.16.1 runs them on Transformer Engine 2.14 (hA, session 57): the q / kv
latent norms as passes on the down projection's tokens (`ops.layer.MLA_LATENT_NORMS`), the down projections' and
latents' casts (`ops.mla_casts.MLA_CASTS`), the backward's quantised gathers read from the backward records
(`training.tp_quantised_collectives.BACKWARD_GATHER_RECORDS`) and, delivered OFF, the latents' three gathers, two of
them TE's quantised ones (`ops.layer.MLA_LATENT_TE_GATHERS`). Checked failing before the change: the module does not
import on the base tree (`ops.mla_casts` is new); with each toggle False its tests fail (MLA_LATENT_NORMS: the first
two, MLA_CASTS: the third, BACKWARD_GATHER_RECORDS: the fourth)."""

from __future__ import annotations

import numpy as np
import pytest

import infraplan.ops.layer as layer
import infraplan.ops.mla_casts as mla_casts
from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.network.collectives import Fabric
from infraplan.ops.layer import Layout, layer_ops
from infraplan.training.layer_kernels import collective_times
from infraplan.training.recompute_modules import rerun_elementwise_bytes_per_token
from infraplan.training.tp_quantised_collectives import quantised_gather_deltas, te_gather_records

T, TP, H, LATENTS, ROPE = 4096.0, 8.0, 7168.0, 1536.0 + 512.0, 64.0
FABRIC = Fabric(8, 3.6e11, 4.5e10, ("rack", "spine", "core"), (64, 2048, 32768), (1.0, 2.0, 3.0), (1e-6, 2e-6, 4e-6))
FP8 = dict(fp8_casts=True, cast_bytes=4.0, amax_bytes=2.0, norm_amax_bytes=0.0, gathered_transpose_bytes=1.0)


def _lay(sp: bool, **fields: object) -> Layout:
    return Layout(tokens=T, seq_len=T, tp=TP, ep=8, sequence_parallel=sp, **fields)  # type: ignore[arg-type]


def _pass(passes: tuple[layer.Elementwise, ...], role: str) -> layer.Elementwise:
    return next(e for e in passes if e.role == role)


def test_latent_norms_run_on_the_down_projection_tokens() -> None:
    v3 = load_model("deepseek-v3")
    for sp, rows in ((True, T / TP), (False, T)):  # the sequence shard under SP, all tokens without
        ops = layer_ops(v3, _lay(sp))
        fwd, bwd = _pass(ops.elementwise_fwd, "mla_latent_norms"), _pass(ops.elementwise_bwd, "mla_latent_norms")
        assert float(np.asarray(fwd.bytes)) == pytest.approx(2.0 * 2.0 * LATENTS * rows)  # read + write, bf16
        assert float(np.asarray(bwd.bytes)) == pytest.approx(2.0 * float(np.asarray(fwd.bytes)))
        assert (fwd.kernels, bwd.kernels) == (2.0, 4.0)
    dense = layer_ops(load_model("llama3-70b"), _lay(True))
    assert not [e for e in dense.elementwise_fwd if e.role == "mla_latent_norms"]


def test_layernorm_recompute_reruns_the_latent_norms_on_the_shard() -> None:
    v3 = load_model("deepseek-v3")
    # (hL57: a stack re-runs the latent norms only under `layernorm_recompute_norms: all`, DeepSeek-V3's; Megatron-Core
    # 's default `block` re-runs the input and pre-MLP norms only: tests/training/
    # test_layernorm_recompute_norms_hL57.py)
    stack = load_stack("nemo-26.04").model_copy(update={"recompute_modules": ("layernorm",),
                                                        "layernorm_recompute_norms": "all"})
    sp = float(np.asarray(rerun_elementwise_bytes_per_token(v3, np.asarray(TP), np.asarray(1), stack)))
    no_sp = float(np.asarray(rerun_elementwise_bytes_per_token(v3, np.asarray(TP), np.asarray(0), stack)))
    assert sp == pytest.approx(2.0 * 2.0 * (2.0 * H + LATENTS) / TP)
    assert no_sp == pytest.approx(2.0 * 2.0 * (2.0 * H + LATENTS))


def test_mla_casts_its_down_inputs_twice_and_its_latents() -> None:
    """Under SP at TP8 with per-tensor fp8 (4 B a cast, amax 2 B, transposed after the gather): q_down and kv_down
    each cast h on the shard (6 B), the latents cast on the shard (3 B) and transposed on the gathered T (2 B), in
    place of one h-wide norm-made input; backward the down projections' output gradients (4 B)."""
    v3 = load_model("deepseek-v3")
    on = layer_ops(v3, _lay(True, **FP8))
    shard = T / TP
    generic = 3.0 * shard * H + 2.0 * T * H
    fwd = 6.0 * shard * 2.0 * H + 3.0 * shard * LATENTS + 2.0 * T * LATENTS - generic
    bwd = 4.0 * shard * (LATENTS + ROPE)
    delta = mla_casts.mla_cast_deltas(v3, _lay(True, **FP8), T, shard, shard, True)
    assert (float(np.asarray(delta[0])), float(np.asarray(delta[1]))) == pytest.approx((fwd, bwd))
    off = mla_casts.MLA_CASTS
    try:
        mla_casts.MLA_CASTS = False
        base = layer_ops(v3, _lay(True, **FP8))
    finally:
        mla_casts.MLA_CASTS = off
    for phase, role, extra in (("elementwise_fwd", "fp8_cast_shard", fwd), ("elementwise_bwd", "fp8_cast", bwd)):
        got = float(np.asarray(_pass(getattr(on, phase), role).bytes)) - float(np.asarray(_pass(getattr(base, phase),
                                                                                                  role).bytes))
        assert got == pytest.approx(extra)


def test_backward_quantised_gathers_are_the_backward_records() -> None:
    """An MLA layer under SP gathers one T x h tensor forward and two backward (the output gradients)."""
    ops = layer_ops(load_model("deepseek-v3"), _lay(True))
    gathers = te_gather_records(ops.collectives_bwd)  # (those of the first layer kind: its T x h object)
    assert sum(c.count for c in gathers) == pytest.approx(2.0 * sum(c.count for c in te_gather_records(
        ops.collectives_fwd)))
    d_fwd, d_bwd = quantised_gather_deltas(FABRIC, ops.collectives_fwd, 0.5, 0.5, True, ops.collectives_bwd)
    assert d_bwd == pytest.approx(2.0 * d_fwd, rel=1e-9)  # per-tensor fp8: both directions at half the bytes
    half = tuple(layer.Collective(c.kind, c.role, c.bytes * 0.5, c.group, c.stride, c.count) for c in gathers)
    assert d_bwd == pytest.approx(collective_times(FABRIC, half, "tp", True) - collective_times(FABRIC, gathers,
                                                                                                  "tp", True))


def test_te_latent_gathers_toggle(monkeypatch: pytest.MonkeyPatch) -> None:
    """OFF as delivered: one bf16 latent record each way. ON: q / kv latents' own TE gathers (quantised with the T x h
    ones) and k_pos_emb's bf16 gather, the same bytes in all."""
    v3 = load_model("deepseek-v3")
    assert layer.MLA_LATENT_TE_GATHERS is False
    latent = T * (LATENTS + ROPE) * 2.0

    def small(records: tuple[layer.Collective, ...], kind: str) -> list[layer.Collective]:
        return [c for c in records if c.role == "tp" and c.kind == kind and float(np.asarray(c.bytes)) < T * H * 2.0]

    off = small(layer_ops(v3, _lay(True)).collectives_fwd, "all_gather")  # one per layer kind (MoE, dense)
    assert len(off) == 2 and not any(c.te_gather for c in off)
    assert sum(float(np.asarray(c.bytes)) * c.count for c in off) == pytest.approx(latent)
    monkeypatch.setattr(layer, "MLA_LATENT_TE_GATHERS", True)
    ops = layer_ops(v3, _lay(True))
    on = small(ops.collectives_fwd, "all_gather")
    assert [c.te_gather for c in on] == [True, True, False] * 2
    assert sum(float(np.asarray(c.bytes)) * c.count for c in on) == pytest.approx(latent)
    assert set(on[:2]) <= set(te_gather_records(ops.collectives_fwd))
    bwd = small(ops.collectives_bwd, "reduce_scatter")
    assert len(bwd) == 6 and not any(c.te_gather for c in bwd)
