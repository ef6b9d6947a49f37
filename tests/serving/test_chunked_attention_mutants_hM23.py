"""Mutation wave hM23 (session 45) on `serving.chunked_attention.for_requests`: every row pays the run's mean keys,
drafts read further into the chunk, and the chunked layers' pairs leave the compute count too.

Scout: 36 of 48 layers chunked (C = 8,192), 12 NoPE layers at full attention, so the chunked share of the
cached-token and pair terms is 3/4 (hL48's module docstring, transformers modeling_llama4.py:544-548).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving import chunked_attention as ca
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost


def _scout_cost():
    scout = load_model("llama4-scout")
    cluster = Cluster.resolve("dgx-h100-superpod").for_gpus(8)
    dep = Deployment(tp=1, ep=1, dtype="fp8", kv_dtype="bf16", engine="vllm", stack="vllm-0.x")
    return scout, build_iteration_cost(scout, cluster.accelerator, cluster.fabric, dep)


def test_each_decode_row_pays_the_mean_keys() -> None:
    """A batch of k decode rows reads k times one row's mean keys: the per-row term is linear in the rows."""
    scout, cost = _scout_cost()
    priced = ca.for_requests(cost, scout, np.array([20000, 3000]), np.array([20000, 3000]), np.array([500, 40]))
    added = priced.head_s - cost.head_s
    one = added[1]
    assert one > 0.0
    assert added[:9] == pytest.approx(one * np.arange(9), rel=1e-12)


@pytest.mark.parametrize(("growth", "mean_keys"), [(1.0, 100 + 199 / 2), (4.0, 100 + 799 / 2)])
def test_drafts_read_further_into_the_chunk(growth: float, mean_keys: float) -> None:
    """One request decoded at 100 .. 100 + 200 x T (within the first chunk, so x mod C = x): by hand its 200 steps
    read the span's mean position, 100 + (200 T - 1) / 2, each on the chunked layers (T = 4 with drafts: 499.5)."""
    scout, cost = _scout_cost()
    cost = replace(cost, decode_growth_tokens=growth)
    priced = ca.for_requests(cost, scout, np.array([100]), np.array([100]), np.array([200]))
    assert priced.head_s[1] - cost.head_s[1] == pytest.approx(0.75 * cost.kv_token_s * mean_keys, rel=1e-12)


def test_the_chunked_pairs_leave_the_tensor_core_count_as_they_leave_the_time() -> None:
    """`pair_flop_s` (the pair term's tensor-core part, the compute the loops count) keeps the 12 NoPE layers'
    quadratic pairs only, a quarter, as `pair_s` does."""
    scout, cost = _scout_cost()
    priced = ca.for_requests(cost, scout, np.array([30000]), np.array([0]), np.array([0]))
    assert priced.pair_flop_s == pytest.approx(cost.pair_flop_s / 4, rel=1e-12)


def test_the_note_names_the_model_and_its_layers() -> None:
    scout = load_model("llama4-scout")
    (note,) = ca.chunked_note(scout)
    assert note.startswith(f"36 of 48 layers of {scout.name} attend in 8,192-token chunks")
