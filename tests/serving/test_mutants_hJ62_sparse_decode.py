"""Mutant-killing checks of `serving.sparse_decode` (hJ, session 62), from the roofline's bytes: each query of a decode
row writes and reads its own fp32 logit (8 B) per cached key, so with a draft token the logits grow with the queries
(not the cached layers); a prefill pair's logit bounds its score where the memory is slow."""

from __future__ import annotations

import dataclasses

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.hardware.kernels import KernelRates
from infraplan.serving import speculative
from infraplan.serving.deployment import Deployment
from infraplan.serving.sparse_decode import sparse_terms

CLUSTER = Cluster.resolve("hgx-h200")
SHAPE = load_model("deepseek-v3.2")
RATES = KernelRates.for_dtype(CLUSTER.accelerator, "bf16")
DEP = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64, token_budget=8192,
                 speculative_tokens=1, acceptance=0.8)
LAYERS = 61.0


def test_each_query_writes_its_logits() -> None:
    """One draft token: a cached token costs at least its 132-byte fp8 key read by the 61 layers and the draft layer,
    plus 8 B of logit for each of the row's query-layers (about 2 x 61)."""
    terms = sparse_terms(SHAPE, CLUSTER.accelerator, RATES, DEP, LAYERS, LAYERS + 1.0, LAYERS + 1.0)
    assert terms is not None
    queries = speculative.decode_query_layers(DEP, LAYERS)
    assert queries > 1.9 * LAYERS
    # (less the 4 B a query layer vLLM's decode clean kernel does not write past the context, hM63)
    assert terms.token_s * RATES.memory_bytes_per_s >= (132.0 * (LAYERS + 1.0) + 4.0 * queries) * (1 - 1e-12)


def test_a_prefill_pairs_logit_bounds_it_on_a_slow_memory() -> None:
    slow = dataclasses.replace(RATES, memory_bytes_per_s=1e9)
    terms = sparse_terms(SHAPE, CLUSTER.accelerator, slow, DEP, LAYERS, LAYERS + 1.0, LAYERS + 1.0)
    assert terms is not None and terms.pair_s >= 8.0 / 1e9 * (LAYERS + 1.0) * (1 - 1e-12)
