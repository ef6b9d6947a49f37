"""The keys a query attends in one layer, as `ops.layer` and its consumers price the attention core (moved out of
ops/layer.py, unchanged, with DeepSeek Sparse Attention's rule added, hI60: layer.py was at its 400 lines).

`attention_keys` is the mean over layers of the causal keys per query, at half weight: s for a full causal layer;
sliding-window layers (Beltagy et al. 2020, arXiv:2004.05150; GPT-OSS) 2 W - W^2 / s; chunked layers (Llama 4) the
keys of a query's own chunk; DeepSeek Sparse Attention (DeepSeek-V3.2) the top-k keys its indexer selects, the
sliding window's count with W = index_topk (`ops.sparse_attention.core_keys`).
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer_records import ArrayLike
from infraplan.ops.sparse_attention import core_keys, is_sparse
from infraplan.scalar_path import larger, ops_of, pick, to_float


def attention_keys(shape: TransformerShape, seq_len: ArrayLike) -> np.ndarray:
    """Mean over layers of the causal keys per query, as the `seq_len` to price at half weight.

    A full causal layer: s (s / 2 pairs per query). A sliding layer of window W (s > W): W s - W^2 / 2 pairs,
    i.e. 2 W - W^2 / s keys at half weight; s when s <= W.
    """
    s = to_float(seq_len)
    if is_sparse(shape):  # DeepSeek Sparse Attention: the core attends the top-k keys (`ops.sparse_attention`)
        return core_keys(shape, s)  # type: ignore[return-value]
    if shape.num_chunked_layers:
        return _chunked_keys(shape, s)
    if not shape.num_sliding_layers:
        return s  # type: ignore[no-any-return]
    w = float(shape.sliding_window)
    window = pick(s > w, 2.0 * w - w * w / larger(s, 1.0), s)
    frac = shape.sliding_fraction()
    return to_float((1.0 - frac) * s + frac * window)  # type: ignore[no-any-return]


def _chunked_keys(shape: TransformerShape, s: np.ndarray) -> np.ndarray:
    """`attention_keys` of a model with chunked layers (Llama 4, `catalog.model_config_llama4`): a query at position
    i of a chunked layer attends the (i mod C) + 1 keys of its own chunk of C, so n = floor(s / C) whole chunks of
    C^2 / 2 pairs and a last one of r = s - n C: (n C^2 + r^2) / s keys at half weight (s when s <= C)."""
    c = float(shape.attention_chunk_size)
    n = ops_of(s).floor(s / c)
    r = s - n * c
    chunked = (n * c * c + r * r) / larger(s, 1.0)
    frac = shape.chunked_fraction()
    return to_float((1.0 - frac) * s + frac * chunked)  # type: ignore[no-any-return]
