"""Mutant-killing checks of `serving.sparse_decode` (hK, session 61): with speculative decoding the indexer key of a
cached token is read once per row but scored by each of the row's queries, each query's core reads its own top-k
latents, the draft layer over the prompt scores its pairs too; the fp8 rate is the catalog's fp8 / bf16 peak ratio;
a bf16 cache reads 1,152-byte latents; three indexer kernels a layer."""

from __future__ import annotations

import dataclasses

import pytest

from infraplan.catalog import load_accelerator, load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.ops.sparse_attention import INDEXER_FP8_SPEEDUP
from infraplan.serving import speculative
from infraplan.serving.deployment import Deployment
from infraplan.serving.sparse_decode import sparse_terms

CLUSTER = Cluster.resolve("hgx-h200")
SHAPE = load_model("deepseek-v3.2")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
DEP = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64, token_budget=8192)
LAYERS = 61.0
SCORE_FLOPS = 2.0 * 64 * 128  # one indexer score: heads x dim multiply-adds


def _terms(k: int = 0, kv_dtype: str = "fp8", cluster: Cluster = CLUSTER):  # type: ignore[no-untyped-def]
    dep = dataclasses.replace(DEP, speculative_tokens=k, acceptance=0.8 if k else 0.0, kv_dtype=kv_dtype)
    extra = 1.0 if k else 0.0  # the draft (MTP) layer: its cache read and its pass over the prompt
    rates = KernelRates.for_dtype(cluster.accelerator, "bf16")
    return dep, sparse_terms(SHAPE, cluster.accelerator, rates, dep, LAYERS, LAYERS + extra, LAYERS + extra)


def test_indexer_rate_is_the_catalogs_fp8_over_bf16_peak() -> None:
    """The indexer's scores run on the fp8 tensor cores: the fp8 / bf16 dense peak of every catalog part that runs
    the sparse kernel (Hopper, Blackwell) is the speed-up the prefill's compute-bound pairs are priced at."""
    for part in ("h100-sxm", "h200", "b200", "gb200"):
        acc = load_accelerator(part)
        assert acc.peak("fp8") / acc.peak("bf16") == pytest.approx(INDEXER_FP8_SPEEDUP, rel=0.01)
    _, terms = _terms()
    ratio = CLUSTER.accelerator.peak("fp8") / CLUSTER.accelerator.peak("bf16")
    assert terms.pair_s == pytest.approx(SCORE_FLOPS * LAYERS / (ratio * RATES.attention_flops_per_s), rel=0.01)


def test_speculative_rows_read_each_key_once_and_score_it_per_query() -> None:
    """One draft token doubles a row's queries: the indexer keys (132 B a token and layer) are still read once per
    row (the term stays memory-bound, well under 1.5x), while each query's core attends its own top-k latents (the
    row term scales by the query-layers) and the draft layer over the prompt scores its pairs too."""
    dep0, zero = _terms(0)
    dep1, one = _terms(1)
    assert zero is not None and one is not None
    queries = speculative.decode_query_layers(dep1, LAYERS)
    assert queries > 1.9 * LAYERS
    assert 1.0 < one.token_s / zero.token_s < 1.5
    assert one.row_s / zero.row_s == pytest.approx(queries / LAYERS, rel=1e-12)
    assert one.pair_s / zero.pair_s == pytest.approx((LAYERS + 1.0) / LAYERS, rel=1e-12)
    assert one.prefill_token_s / zero.prefill_token_s == pytest.approx((LAYERS + 1.0) / LAYERS, rel=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_every_query_scores_every_cached_key(k: int) -> None:
    """A cached token's indexer work per row is at least each query's score of it at the fp8 rate (and at least
    its key bytes read once): with K draft tokens the FLOPs grow by the queries, not the cached layers."""
    dep, terms = _terms(k)
    assert terms is not None
    fp8 = RATES.attention_flops_per_s * CLUSTER.accelerator.peak("fp8") / CLUSTER.accelerator.peak("bf16")
    flops_s = SCORE_FLOPS * speculative.decode_query_layers(dep, LAYERS) / fp8
    clean_s = 4.0 * speculative.decode_query_layers(dep, LAYERS) / RATES.memory_bytes_per_s  # not written (hM63)
    assert terms.token_s + clean_s >= flops_s * 0.99
    assert terms.token_s >= 132.0 * (LAYERS + 1.0) / RATES.memory_bytes_per_s


def test_a_bf16_cache_reads_whole_bf16_latents() -> None:
    """A bf16 cache keeps (512 + 64) x 2 = 1,152 B a latent (not the sparse kernels' 656-byte fp8 format): a row's
    2,048 selected latents cost at least their bytes, and more than the fp8 format's where the bytes bind (an A100:
    no head tile, so TP8's 16 local heads leave the core memory-bound; on H200 the 64-head tile binds either way)."""
    a100 = Cluster.resolve("dgx-a100-superpod")
    _, fp8 = _terms(0, "fp8", a100)
    _, bf16 = _terms(0, "bf16", a100)
    assert fp8 is not None and bf16 is not None
    bandwidth = KernelRates.for_dtype(a100.accelerator, "bf16").memory_bytes_per_s
    assert bf16.row_s >= 2048 * 1152.0 * LAYERS / bandwidth * (1 - 1e-12)
    clean = 4.0 * 163_840 * LAYERS / bandwidth  # vLLM's decode clean kernel over a max_model_len row (hM63)
    assert (bf16.row_s - clean) / (fp8.row_s - clean) == pytest.approx(1152.0 / 656.0, rel=1e-9)


def test_five_indexer_kernels_a_decode_layer() -> None:
    """vLLM 0.12.0 deepseek_v2.py:645, :653, :731, :744: key quantise-and-cache, top-k buffer fill, paged MQA logits
    and DeepGEMM's clean kernel (hC63), top-k per decode row: five launches a decode layer forward (three before
    hQ62, four before hC63)."""
    _, terms = _terms(0)
    assert terms is not None
    assert terms.launches_s == pytest.approx(5.0 * RATES.kernel_overhead_s * LAYERS, rel=1e-12)
