"""Transformer Engine 2.14's casts under sequence parallelism (`ops.precision.shard_cast_terms`): norm-produced GEMM
inputs and row-parallel output gradients are cast on the sequence shard and all-gathered quantised; current scaling
finds a norm-produced input's amax in the norm kernel; per-tensor fp8 builds its transposed copy after the gather."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.ops.layer import Layout, layer_ops
from infraplan.ops.precision import RECIPES, shard_cast_terms


def test_which_recipes_fuse_the_amax_and_gather_a_transposable_copy() -> None:
    assert shard_cast_terms(True, "current", 1.0, 0.0, 0.0) == (2.0, 0.0, 1.0)  # amax in the norm kernel
    assert shard_cast_terms(True, "delayed", 0.0, 0.0, 0.0) == (0.0, 0.0, 1.0)  # last step's amax, no read
    assert shard_cast_terms(True, "blockwise", 0.0, 0.0, 0.0) == (0.0, 0.0, 0.0)  # both copies gathered
    assert shard_cast_terms(False, "current", 1.0, 0.0, 0.0) == (0.0, 0.0, 0.0)  # mxfp8: scales in the cast
    share = RECIPES["nvfp4"].bf16_layer_share  # NVFP4: post-RHT amax, the norm stays unfused
    amax, norm_amax, transpose = shard_cast_terms(False, "current", 1.0, 1.0, share)
    assert amax == norm_amax == pytest.approx(2.0 * (1.0 - share)) and transpose == 0.0
    arrays = shard_cast_terms(np.array([True, False]), "current", 1.0, np.array([0.0, 1.0]), np.array([0.0, 0.0]))
    assert [list(np.broadcast_to(a, (2,))) for a in arrays] == [[2.0, 2.0], [0.0, 2.0], [1.0, 0.0]]


def _shard_pass(lay: Layout) -> tuple[float, float]:
    ops = layer_ops(load_model("llama3-70b"), lay)
    fwd = next(e for e in ops.elementwise_fwd if e.role == "fp8_cast_shard")
    bwd = next(e for e in ops.elementwise_bwd if e.role == "fp8_cast_shard")
    return float(fwd.bytes), float(bwd.bytes)


def test_the_shard_casts_move_a_tp_th_of_the_bytes_plus_the_gathered_transpose() -> None:
    h, tokens = load_model("llama3-70b").hidden_size, 8192.0
    common = dict(tokens=tokens, fp8_casts=True, cast_bytes=4.0, amax_bytes=2.0, norm_amax_bytes=0.0)
    # TP1: each cast writes both copies itself; the output gradients read their amax first
    fwd, bwd = _shard_pass(Layout(tp=1, sequence_parallel=True, gathered_transpose_bytes=1.0, **common))
    assert fwd == pytest.approx(4.0 * tokens * 2 * h) and bwd == pytest.approx(6.0 * tokens * 2 * h)
    # TP4 with SP: the cast and its amax on the shard, the transposed copy built on the gathered tensor
    fwd, bwd = _shard_pass(Layout(tp=4, sequence_parallel=True, gathered_transpose_bytes=1.0, **common))
    assert fwd == pytest.approx(3.0 * tokens / 4 * 2 * h + 2.0 * tokens * 2 * h)
    assert bwd == pytest.approx(5.0 * tokens / 4 * 2 * h + 2.0 * tokens * 2 * h)
    # MXFP8-like copies cross the gather as they are: a quarter of the bytes
    fwd, _ = _shard_pass(Layout(tp=4, sequence_parallel=True, gathered_transpose_bytes=0.0, **common))
    assert fwd == pytest.approx(4.0 * tokens / 4 * 2 * h)
    # without SP every rank casts the whole input
    fwd, _ = _shard_pass(Layout(tp=4, sequence_parallel=False, gathered_transpose_bytes=1.0, **common))
    assert fwd == pytest.approx(4.0 * tokens * 2 * h)
