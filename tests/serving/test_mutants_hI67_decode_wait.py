"""hI67 mutation wave on hJ66's split of a disaggregated TTFT miss (`disaggregated.without_decode_wait`,
`replica_search.ttft_miss_pools`, `grown`).

By hand: the first token had the decode engine admitted the request as its KV arrived is its KV's arrival plus its
pickup iterations (1.5 of its mean iteration: 0.5 the expected wait for the iteration boundary, then the one that
emits it; `decode_first_token_s`); a request the engine did admit as its KV arrived waited nothing for a slot, so
taking the wait out leaves its first token where it is (a request under the SLO stays under): here admitted at the
arrival itself, its token at 1.0 + 1.0 x 10 ms, never the 1.015 s the expected boundary wait would give.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.disaggregated import without_decode_wait
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import Requests


def test_a_request_admitted_as_its_kv_arrived_keeps_its_first_token() -> None:
    ready, admitted = np.array([1.0, 1.0]), np.array([1.0, 1.2])
    finish = admitted + 0.1  # 10 steps of 10 ms from admission
    first = admitted + 1.0 * 0.01  # 1.5 pickup iterations less the boundary's 0.5
    got = without_decode_wait(first, ready, admitted, finish, np.array([10, 10]), np.array([11, 11]), 1.5)
    assert got[0] == first[0] == 1.01
    assert np.isclose(got[1], 1.0 + 1.5 * 0.01, rtol=1e-12, atol=0.0)  # the 0.2 s slot wait taken out
    assert np.all(got <= first)


H200 = Cluster.resolve("hgx-h200")
LLAMA = load_model("llama3-8b")


def _split(max_batch: int, prompt: int, ttft_slo_s: float) -> tuple[int, int]:
    dep = Deployment(tp=1, replicas=2, dtype="bf16", kv_dtype="bf16", max_batch=max_batch, token_budget=8192,
                     engine="vllm", stack="vllm-0.x")
    requests = Requests(np.zeros(16), np.full(16, prompt), np.full(16, 64))
    out = simulate_deployment(LLAMA, H200.for_gpus(2), dep, requests, prefill_replicas=1, ttft_slo_s=ttft_slo_s,
                              tpot_slo_s=1.0, wait_split=True)
    return out["ttft_over_slo_count"], out["ttft_over_slo_without_decode_wait_count"]


def test_misses_from_decode_slots_are_the_decode_pools() -> None:
    """16 prompts of 512 tokens at once, 1 prefill + 1 decode replica of 2 slots: 16 x 512 tokens prefill in about
    one 8,192-token iteration (tens of ms), but the decode engine takes 2 at a time for 64 steps, so most wait
    seconds for a slot: over a 0.5 s TTFT, none would be had each been admitted as its KV arrived."""
    over, kept = _split(2, 512, 0.5)
    assert over >= 8 and kept == 0


def test_with_free_decode_slots_every_miss_is_the_prefill_sides() -> None:
    """64 decode slots for 16 requests: no request waits for a slot, so taking that wait out moves no first token
    and the counts are equal at every SLO (the front end's 11 ms counted on both sides: a TTFT ends at the client)."""
    for slo in np.linspace(0.05, 1.7, 45):
        over, kept = _split(64, 4096, float(slo))
        assert kept == over
