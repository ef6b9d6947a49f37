"""Edges of `ops.eager_passes` and of the stack field it reads (hL, session 52: hand mutation testing).

Each test failed on a mutant the module's own tests let live (checked by flipping the line and running this file):
`num_kv_heads < num_heads` -> `<=` (a multi-head model paid repeat_kv's copies, which torchtitan's `repeat_kv` skips
when n_rep == 1, model.py:98-107), and repeat_kv's backward kernel count dropped.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.loader import load_model
from infraplan.ops.eager_passes import COPY_BYTES, eager_passes


def _passes(model: str, unfused: tuple[str, ...]) -> tuple[float, float, float, float]:
    shape = load_model(model)
    tokens, q_local = 1024.0, float(shape.num_heads * shape.head_dim)
    kv_local = 2.0 * shape.num_kv_heads * shape.head_dim  # K and V
    fwd, bwd = eager_passes(shape, unfused, tokens, tokens, q_local, kv_local, 3.0 * shape.ffn_hidden_size * tokens)
    return float(fwd.bytes), fwd.kernels, float(bwd.bytes), bwd.kernels


def test_repeat_kv_costs_nothing_for_a_multi_head_model() -> None:
    shape = load_model("llama2-7b")
    assert shape.num_kv_heads == shape.num_heads  # MHA: torchtitan's repeat_kv returns its input
    assert _passes("llama2-7b", ("repeat_kv",)) == (0.0, 0.0, 0.0, 0.0)


def test_repeat_kv_copies_k_and_v_each_way_in_one_kernel_each() -> None:
    shape = load_model("llama3.1-8b")  # 32 query heads, 8 KV heads of 128
    kv_each, q = 8 * 128, 32 * 128
    moved = 1024 * 2 * COPY_BYTES * (kv_each + q)  # K and V: read the KV width, write the query width
    assert shape.num_kv_heads < shape.num_heads
    assert _passes("llama3.1-8b", ("repeat_kv",)) == (pytest.approx(moved), 2.0, pytest.approx(moved), 2.0)

