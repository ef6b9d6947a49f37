"""DeepSeek Sparse Attention (DeepSeek-V3.2) in the one layer model (`ops.sparse_attention`, hI60): the shipped
config, its parameters against DeepSeek-V3's plus the indexer, the cache bytes per token, the indexer's GEMMs and
pair FLOPs and the core's keys, each counted by hand from the engines' shapes (vLLM 0.12.0 deepseek_v2.py `Indexer`,
flashmla_sparse.py's fp8 cache format)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.ops import sparse_attention
from infraplan.ops.layer import Layout, attention_keys, layer_ops
from infraplan.ops.params import activation_terms_per_token_layer, attention_params_local, kv_bytes_per_token_layer
from infraplan.ops.sparse_attention import core_keys, indexer_pair_flops, training_pair_flops

# wq_b 1,536 x (64 x 128), wk 7,168 x 128, weights_proj 7,168 x 64 (deepseek_v2.py:825-842)
INDEXER_PER_LAYER = 1536 * 64 * 128 + 7168 * 128 + 7168 * 64


def test_the_shipped_config_loads_without_a_warning_and_reads_the_indexer() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        shape = load_model("deepseek-v3.2")
    assert shape.model_type == "deepseek_v32" and shape.is_sparse_attention
    assert (shape.index_topk, shape.index_n_heads, shape.index_head_dim) == (2048, 64, 128)


def test_parameters_are_deepseek_v3s_plus_the_indexer() -> None:
    v3, v32 = load_model("deepseek-v3"), load_model("deepseek-v3.2")
    assert v32.indexer_params_per_layer() == INDEXER_PER_LAYER == 13_959_168
    assert v32.total_params() - v3.total_params() == 61 * INDEXER_PER_LAYER  # 0.85 B
    assert v32.active_params() - v3.active_params() == 61 * INDEXER_PER_LAYER
    assert v32.mtp_params() - v3.mtp_params() == INDEXER_PER_LAYER  # the MTP layer has its own indexer
    # published: 671 B (DeepSeek-V3 report), and V3.2-Exp is V3.1-Terminus continued with the indexer added
    assert v32.total_params() / 1e9 == pytest.approx(671.0 + 61 * INDEXER_PER_LAYER / 1e9, rel=2e-3)
    # replicated over TP (no tensor parallel in the engines' indexer): TP8 holds all of it on each GPU
    assert float(attention_params_local(v32, 8) - attention_params_local(v3, 8)) == INDEXER_PER_LAYER


def test_cache_bytes_per_token_layer_are_the_sparse_kernels_format_and_the_indexer_key() -> None:
    v3, v32 = load_model("deepseek-v3"), load_model("deepseek-v3.2")
    # fp8: 512 fp8 + 4 fp32 scales + 64 bf16 rope = 656 B (flashmla_sparse.py:41-51), index key 128 + 4 = 132 B
    assert float(kv_bytes_per_token_layer(v32, 8, 1.0)) == 656 + 132
    assert float(kv_bytes_per_token_layer(v32, 1, 2.0)) == 576 * 2 + 132  # bf16 latent, the index key in fp8
    assert float(kv_bytes_per_token_layer(v3, 8, 1.0)) == 576


def test_the_indexer_gemms_and_pair_flops_by_hand() -> None:
    v3, v32 = load_model("deepseek-v3"), load_model("deepseek-v3.2")
    tokens = 1000.0
    for phase in ("training", "inference"):
        lay = Layout(tokens=tokens, tp=8, seq_len=4096, phase=phase)  # type: ignore[arg-type]
        extra = {g.role: g for g in layer_ops(v32, lay).gemms if g.role.startswith("indexer")}
        assert {r: (g.n, g.k) for r, g in extra.items()} == {
            "indexer_q": (8192, 1536), "indexer_k": (128, 7168), "indexer_weights": (64, 7168)}  # whole at TP8
        added = float(layer_ops(v32, lay).gemm_flops() - layer_ops(v3, lay).gemm_flops())
        assert added == pytest.approx(2.0 * tokens * INDEXER_PER_LAYER, rel=1e-12)
    assert indexer_pair_flops(v32) == 2 * 64 * 128
    # training, s = 4,096: forward over the s / 2 causal keys, backward (dq, dk) and the KL target over the selected
    # ones: a query at i selects min(i + 1, 2,048), (2,048 x 4,096 - 2,048^2 / 2) / 4,096 = 1,536 on average
    fwd, bwd, target = training_pair_flops(v32, 4096)
    assert float(fwd) == 16384 * 2048
    assert float(bwd) == 2 * 16384 * 1536
    assert float(target) == 2 * 192 * 128 * 1536


def test_the_core_attends_the_top_k_keys() -> None:
    v3, v32 = load_model("deepseek-v3"), load_model("deepseek-v3.2")
    assert float(core_keys(v32, 1024)) == 1024  # a short sequence: every key
    s = 131072.0
    assert float(attention_keys(v32, s)) == pytest.approx(2 * 2048 - 2048**2 / s)  # 4,064 keys at half weight
    assert float(attention_keys(v3, s)) == s
    lay = Layout(tokens=s, tp=8, seq_len=s, phase="inference")
    assert float(layer_ops(v32, lay).attention.keys) == pytest.approx(4064.0)
    keys = np.array([1024.0, 2048.0, 8192.0])
    assert np.allclose(core_keys(v32, keys), [1024.0, 2048.0, 2 * 2048 - 2048**2 / 8192])


def test_the_indexer_activations_are_saved_whole_on_every_tp_rank() -> None:
    v32 = load_model("deepseek-v3.2")
    terms = activation_terms_per_token_layer(v32, 8, True, 4096, False)
    assert float(terms["indexer"]) == 2 * (8192 + 128 + 64) + 4 * 2048  # q, k, weights bf16; top-k int32
    assert "indexer" not in activation_terms_per_token_layer(load_model("deepseek-v3"), 8, True, 4096, False)


def test_the_toggle_prices_dense_mla(monkeypatch: pytest.MonkeyPatch) -> None:
    v3, v32 = load_model("deepseek-v3"), load_model("deepseek-v3.2")
    monkeypatch.setattr(sparse_attention, "SPARSE_ATTENTION", False)
    assert float(attention_keys(v32, 131072.0)) == 131072.0
    assert float(kv_bytes_per_token_layer(v32, 8, 1.0)) == float(kv_bytes_per_token_layer(v3, 8, 1.0))
