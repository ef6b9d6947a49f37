"""Hand mutants over the older core (hE, session 57): the capacity probe's early miss, wide-EP expert slots.

Each test fails on a one-line mutant that the mirrored tests let through (validation/notes/product_review_tried.md,
"hE (session 57)") and asserts a definition, not the current output."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate, steady_window
from infraplan.serving.capacity_probe import needed_misses, run_until_miss, steppable
from infraplan.serving.kv_cache import weight_bytes_per_gpu
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import pool_engine, run_pool
from infraplan.serving.workloads import Requests


@pytest.mark.parametrize(("window", "q"), [(2151, 94.0), (10001, 99.99)])
def test_the_misses_that_stop_a_probe_put_numpys_percentile_over_the_slo(window: int, q: float) -> None:
    """capacity_probe.needed_misses: once that many TTFTs of the window miss, numpy's linear percentile (virtual
    index (n - 1) x (q / 100), numpy 2.x `_quantile`) is above the SLO whatever the others are. The probe computes
    h = (n - 1) x q / 100 in the other order, and at these windows the two roundings straddle a whole index: 2,150 x
    94 / 100 = 2,021 exactly, numpy's 2,150 x 0.94 = 2,020.9999999999998. With the misses just above the SLO and the
    rest at 0, numpy's percentile is then 0.9999999999998 x the miss, below the SLO, unless the margin index counts
    one more miss. Mutant S9 (hE57): the `+ 1` margin dropped (130 misses where 131 are needed)."""
    need = needed_misses(window, q)
    ttft = np.zeros(window)
    ttft[window - need:] = np.nextafter(1.0, 2.0)  # the misses just above a 1 s SLO, the rest far below
    assert np.percentile(ttft, q) > 1.0


def test_the_front_end_counts_toward_an_early_miss() -> None:
    """capacity_probe.run_until_miss: a request's TTFT is (first token - arrival) + the front end, so a front end
    above the SLO makes every window request a miss from its first token on, and the probe stops (None: a miss),
    the verdict of the whole run. Llama 3 8B on one H200 at 2 requests/s: each first token comes well within 1 s,
    so only the 2 s front end misses the 1 s SLO. Mutant S10 (hE57): the early count without the front end ran
    the probe whole (its times, the same verdict, all the work)."""
    shape, cluster = load_model("llama3-8b"), Cluster.resolve("hgx-h200")
    dep = Deployment(tp=1, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=2048)
    cand = Candidate(shape, cluster.accelerator, cluster.fabric, dep)
    engine = pool_engine(dep.stack)
    assert steppable(cand.cost, dep, engine.scheduler, engine.kv_admission)
    rng = np.random.default_rng(3)
    n = 600
    req = Requests(np.cumsum(rng.exponential(0.5, n)), rng.integers(50, 1500, n), rng.integers(1, 300, n))
    window = np.zeros(n, dtype=bool)
    window[steady_window(req.arrival_s, 64)] = True
    zeros = np.zeros_like(req.input_tokens)
    steps = req.output_tokens - 1
    full = run_pool(cand.cost, dep, cand.blocks, req.arrival_s, req.input_tokens, zeros, steps, 1)
    assert float(np.max((full.first_token_s - req.arrival_s)[window])) < 1.0  # the engine alone meets 1 s
    front = 2.0
    assert run_until_miss(cand.cost, dep, cand.blocks, req.arrival_s, req.input_tokens, zeros, steps, 1, window,
                          front, 1.0, 50.0, None) is None
    # with no front end the same probe meets the SLO and runs whole, to run_pool's very times
    got = run_until_miss(cand.cost, dep, cand.blocks, req.arrival_s, req.input_tokens, zeros, steps, 1, window,
                         0.0, 1.0, 50.0, None)
    assert got is not None and np.array_equal(got[0], full.first_token_s, equal_nan=True)


def test_wide_ep_holds_the_experts_rounded_up_to_whole_slots() -> None:
    """serving/kv_cache.weight_bytes_per_gpu: under wide EP each GPU holds ceil(E / (ep x TP)) whole experts, the
    spare slots redundant copies of hot experts (DeepSeek-V3 sec. 3.4 / EPLB: 256 experts in 288 slots on 72 GPUs).
    So EP 72 holds 4 experts a GPU, as EP 64 does (256 / 64), and the same weights; EP 128 holds 2, fewer. Mutant K2
    (hE57): floor(256 / 72) = 3 experts a GPU, fewer bytes than EP 64 with more GPUs' worth of experts unplaced."""
    shape = load_model("deepseek-v3")
    assert shape.num_experts == 256
    ep64, ep72, ep128 = (weight_bytes_per_gpu(shape, 1, 1, "fp8", ep) for ep in (64, 72, 128))
    assert ep72 == ep64
    assert ep128 < ep64
