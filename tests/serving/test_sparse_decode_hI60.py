"""DeepSeek-V3.2's sparse attention in a serving iteration (`serving.sparse_decode`, hI60): a decode row at 128k
context reads the indexer's 132-byte keys of every cached token and the top 2,048 latents, not the whole 576-byte
latent cache; priced by hand on an H200 at TP8 (16 local heads run as the kernel's 64) against dense MLA."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops import sparse_attention
from infraplan.ops.sparse_attention import INDEXER_FP8_SPEEDUP
from infraplan.serving import kv_cache, mla_decode
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost, decode_time, prefill_time

CLUSTER = Cluster.resolve("hgx-h200")
DEP = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64, token_budget=8192)
LAYERS = 61


def _costs() -> tuple:
    return tuple(build_iteration_cost(load_model(m), CLUSTER.accelerator, CLUSTER.fabric, DEP)
                 for m in ("deepseek-v3", "deepseek-v3.2"))


def test_decode_terms_by_hand() -> None:
    dense, sparse = _costs()
    rates = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
    bw, attn = rates.memory_bytes_per_s, rates.attention_flops_per_s
    # per cached token: the index key (128 fp8 + 4 scale bytes) once per layer and the fp32 logit written and read
    # (less the 4 B a query layer that vLLM's decode clean kernel does not write past the context, hM63)
    token_s = max((132.0 + 8.0) * LAYERS / bw, 2 * 64 * 128 * LAYERS / (INDEXER_FP8_SPEEDUP * attn)) - 4.0 * LAYERS / bw
    assert sparse.kv_token_s == pytest.approx(token_s, rel=1e-12)
    # per row: 2,048 latents of 656 B, absorbed 2 (2 x 512 + 64) FLOPs a key on 64 heads (16 padded to the tile)
    row_s = 2048 * max(656.0 / bw, 2176.0 * 64 / attn) * LAYERS
    row_s += 4.0 * 163_840 * LAYERS / bw  # the clean kernel's -inf over a max_model_len logits row (hM63)
    # a row's step beyond dense MLA's (whose row holds the LM head and the TP collectives' share, e.g. their
    # small-message line since hK60, and no attention: dense reads its latents per cached token)
    per_row = float(sparse.head_s[9] - sparse.head_s[8]) - float(dense.head_s[9] - dense.head_s[8])
    assert per_row == pytest.approx(row_s, rel=1e-9)


def test_decode_attention_at_128k_is_a_fraction_of_dense_mla() -> None:
    dense, sparse = _costs()
    batch, context = 16, 131072
    attention = {}
    for name, cost in (("dense", dense), ("sparse", sparse)):
        attention[name] = float(decode_time(cost, batch, context) - decode_time(cost, batch, 0))
    # dense: 576 B x 61 layers of every cached token; sparse: 140 B x 61 per token + 2,048 latents per row
    assert attention["dense"] == pytest.approx(batch * context * dense.kv_token_s, rel=1e-9)
    assert attention["sparse"] < 0.35 * attention["dense"]
    whole = {n: float(decode_time(c, batch, context)) for n, c in (("dense", dense), ("sparse", sparse))}
    assert whole["sparse"] < 0.8 * whole["dense"]  # the step, body included: 23.6 vs 34.2 ms


def test_the_sparse_model_uses_no_dense_mla_kernel_and_pays_its_indexer_in_prefill() -> None:
    v32 = load_model("deepseek-v3.2")
    assert mla_decode.measured_fit(v32, CLUSTER.accelerator, "trtllm", "fp8") is None
    assert mla_decode.flops_per_cached_token(v32, 8, LAYERS) == 0.0
    assert "Sparse Attention" in (mla_decode.kernel_path(v32, CLUSTER.accelerator, "vllm", "fp8") or "")
    _, sparse = _costs()
    rates = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
    pair_s = 2 * 64 * 128 * LAYERS / (INDEXER_FP8_SPEEDUP * rates.attention_flops_per_s)  # compute-bound scores
    assert sparse.pair_s == pytest.approx(pair_s, rel=1e-12)
    # the core: 2,048 keys a prompt token whatever its position (the kernel's fixed work per query)
    assert sparse.per_prefill_token_s == pytest.approx(2048 * 2176.0 * 64 * LAYERS / rates.attention_flops_per_s)
    assert float(prefill_time(sparse, 1, 32768)) > 0.0


def test_memory_holds_fewer_tokens_by_the_indexer_and_the_fp8_format(monkeypatch: pytest.MonkeyPatch) -> None:
    v3, v32 = load_model("deepseek-v3"), load_model("deepseek-v3.2")
    assert kv_cache.kv_bytes_per_token_model(v32, "fp8") == LAYERS * 788.0
    cap = {m.name: kv_cache.kv_capacity(m, CLUSTER.accelerator, 8, 1, "fp8", "fp8", 8192, 64, engine="vllm")
           for m in (v3, v32)}
    assert cap[v32.name].kv_bytes_per_token == pytest.approx(LAYERS * 788.0)
    assert cap[v32.name].tokens < cap[v3.name].tokens * 576 / 788 * 1.01
    monkeypatch.setattr(sparse_attention, "SPARSE_ATTENTION", False)  # off: dense MLA, as before hI60
    dense_v32 = build_iteration_cost(v32, CLUSTER.accelerator, CLUSTER.fabric, DEP)
    assert dense_v32.kv_token_s == pytest.approx(_costs()[0].kv_token_s, rel=1e-12)
    assert np.all(np.isfinite(dense_v32.body_s))
