"""A chunked prompt beside a decode pays the DSA indexer's per-call kernels once per mixed iteration (hJ, session 63).

vLLM 0.12.0 runs the indexer once a layer forward whatever the phases (`serving.sparse_decode`: the per-call key
quantise-and-cache and top-k buffer fill, `IterationCost.shared_fixed_s`), and its chunked prefill gives a prompt
what the token budget leaves after the running decode rows. Hand count: with a budget of 512 tokens and one decode
row, a 1,000-token prompt runs in ceil(1000 / 511) = 2 mixed iterations, so charging the shared kernels once moves
its first token 2 x the shared seconds earlier than charging them twice; the prompt that ran alone does not move."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.deployment import Deployment
from infraplan.serving.llm_iteration import build_iteration_cost
from infraplan.serving.serving_engine import simulate_engine

CLUSTER = Cluster.resolve("hgx-h200")
DEP = Deployment(tp=8, dtype="fp8", kv_dtype="fp8", engine="vllm", stack="vllm-0.x", max_batch=64, token_budget=512)


@pytest.mark.parametrize("jump", [True, False])  # True: `serving.fcfs_loop`; False: `serving.engine_loop`
def test_each_mixed_chunk_pays_the_shared_kernels_once(jump: bool) -> None:
    cost = build_iteration_cost(load_model("deepseek-v3.2"), CLUSTER.accelerator, CLUSTER.fabric, DEP)
    shared, apart = (dataclasses.replace(cost, shared_fixed_s=s) for s in (0.25, 0.0))
    arrival, prompt = np.array([0.0, 0.05]), np.array([256, 1000])
    runs = [simulate_engine(c, arrival, prompt, np.zeros(2, dtype=np.int64), np.array([400, 5]), 64, 512, 100000,
                            16, jump=jump) for c in (shared, apart)]
    assert runs[0].first_token_s[0] == runs[1].first_token_s[0]
    assert runs[1].first_token_s[1] - runs[0].first_token_s[1] == pytest.approx(2 * 0.25, rel=1e-9)
