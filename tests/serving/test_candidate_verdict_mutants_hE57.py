"""Hand mutants over the older core (hE, session 57): a capacity probe's verdict, an iteration's sampled rows.

Each test fails on a one-line mutant that the mirrored tests let through (validation/notes/product_review_tried.md,
"hE (session 57)") and asserts a definition, not the current output."""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate, meets_slo, steady_window
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.workloads import Requests


def _candidate(stack: str | None = None) -> Candidate:
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("hgx-h200")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)
    if stack is not None:
        dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048, stack=stack)
    return Candidate(shape, cluster.accelerator, cluster.fabric, dep)


def test_a_percentile_at_the_slo_meets_it() -> None:
    """An SLO is a bound a percentile meets at equality (p90 TTFT <= 0.5 s), as `recsys`'s latency SLO
    (estimate.best_point) and `serve` read it (serving_metrics counts a request over an SLO strictly). Mutant C1
    (hE57): a strict `<` failed a probe whose TTFTs sit exactly on the SLO."""
    at = np.full(10, 0.5)
    assert meets_slo(at, at, (0.5, 0.5), 90.0)
    assert not meets_slo(at, None, (np.nextafter(0.5, 0.0), 1.0), 90.0)


def test_tpot_is_the_time_after_the_first_token_over_the_tokens_after_it() -> None:
    """TPOT = (finish - first token) / (output tokens - 1): the first token is TTFT's, the other n - 1 share the
    rest (vLLM's benchmark: vllm/benchmarks/serve.py:435 of the 0.15.1 wheel, `latency_minus_ttft / (output_len -
    1)`; `serve`: serving_metrics.summarize). The probe's TPOT verdict turns at that percentile: Llama 3 8B on one
    H200, 800 requests of 2-11 output tokens, an SLO 0.1 % above the p90 meets, 0.1 % below misses. Mutant C2
    (hE57): over all n tokens (a 2-token request's TPOT halved) met both."""
    cand = _candidate()
    rng = np.random.default_rng(5)
    n = 800
    req = Requests(np.cumsum(rng.exponential(0.2, n)), rng.integers(50, 1500, n), rng.integers(2, 12, n))
    run = cand.run(req, "mixed")
    steady = steady_window(req.arrival_s, cand.held)
    tpot = (run.finish_s - run.first_token_s)[steady] / (req.output_tokens[steady] - 1)
    p90 = float(np.percentile(tpot, 90.0))
    assert cand._meets_now(req, "mixed", (1e9, p90 * 1.001), 90.0)
    assert not cand._meets_now(req, "mixed", (1e9, p90 * 0.999), 90.0)


def test_a_replica_whose_backlog_grows_misses_whatever_its_slos() -> None:
    """capacity_candidate: a probe passes only if its backlog does not grow over its steady window (`keeps_up`),
    whatever its latency SLOs: a rate the replica cannot sustain queues without bound, which a finite run's
    percentiles can hide. vLLM (on-demand KV admission: the general loop, run whole, no early stop) with 4,000-token
    prompts at ~500 requests/s on one H200 and 1e9 s SLOs. Mutant C3 (hE57): the backlog test dropped, it met them."""
    cand = _candidate("vllm-0.x")
    rng = np.random.default_rng(5)
    n = 800
    req = Requests(np.cumsum(rng.exponential(0.002, n)), np.full(n, 4000), np.full(n, 2))
    assert not cand._meets_now(req, "mixed", (1e9, 1e9), 90.0)


def test_a_mixed_iteration_samples_a_row_for_its_prompt_chunk_too() -> None:
    """llm_iteration.IterationCost.time: the LM head runs on one row per decoding sequence plus one for the prompt
    whose chunk the iteration prefills (its last position's logits), so by default a mixed iteration of 8 decodes
    and a chunk is priced at 9 rows (the validation operating points call it so). Mutant I3 (hE57): 8 rows."""
    cost = _candidate().cost
    assert cost.head_s[9] > cost.head_s[8]
    pairs = 512 * 256.0
    assert cost.time(512, 8, 8000, pairs) == cost.time(512, 8, 8000, pairs, rows=9)
    assert cost.time(512, 8, 8000, pairs) > cost.time(512, 8, 8000, pairs, rows=8)
    assert cost.time(0, 8, 8000, 0.0) == cost.time(0, 8, 8000, 0.0, rows=8)  # decode alone: its sequences' rows
