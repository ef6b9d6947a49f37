"""A KV-bound replica's queue forms below its batch caps, where `backlog_growth` applies the Poisson bound (hR80,
session 50 review of hK71's rule; fixed by hK81: the rule takes `Candidate.runs_at_once`, the batch cap or the
requests the KV holds, fewer).

`Candidate.held` is engines x batch cap, and `backlog_growth.backlog_grows` reads a count below it as an
infinite-server queue's (every request in a batch, Poisson swing: growth must pass 3 sqrt(first + last)). A replica
whose KV cache holds fewer requests than its batch cap queues the rest below `held`: Llama 3 70B fp8 TP1 on one
H100 at batch 256 has 2,620 KV blocks of 16 tokens, 27 requests of 1,000 + 500 tokens (a hand count: 1,500 / 16 ->
94 blocks a request; 2,620 // 94 = 27). At 1.7 requests/s seed 1 its steady half holds 126 -> 159 requests in the
system, 4.7-5.9x what the KV holds (a queue of ~100 waiting), growing by 33 over the share's 25.6 (10 % of 256
arrivals): an overload by the share's rule, passed by the Poisson bound (3 sqrt(285) = 50.6). Judged against the
requests the KV holds it fails, as seeds 0, 2, 3 and 5 at that rate fail either way (measured: 4/6 flagged with
`held` = 256, 6/6 with 27; at 1.5 requests/s 1/6 and 3/6). The TTFT percentile of a colocated probe catches such a
queue in practice; a decode pool's probe has no TTFT to judge."""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.serving.backlog_growth import backlog_span, in_system, keeps_up
from infraplan.serving.capacity_candidate import Candidate, steady_window
from infraplan.serving.capacity_space import kv_for
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.replica_share import replica_requests
from infraplan.serving.stack_placement import serving_stack_for
from infraplan.serving.workloads import Requests

ISL, OSL, RATE, SEED = 1000, 500, 1.7, 1


def _probe() -> tuple[Candidate, Requests, np.ndarray, np.ndarray]:
    shape = load_model("llama3-70b")
    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM serving")
    engine, _ = serving_stack_for(None, cluster.accelerator)
    dep = Deployment(tp=1, dtype="fp8", kv_dtype=kv_for(shape, "fp8", None), max_batch=256,
                     token_budget=max(engine.token_budget, 256), engine=engine.engine, stack=engine.ref)
    cand = Candidate(shape, cluster.accelerator, cluster.fabric, dep)
    req = replica_requests(None, ISL, OSL, cand.probe_requests(400), RATE, SEED, 1, 1, shape.max_seq_len)
    return cand, req, cand.run(req, "mixed").finish_s, steady_window(req.arrival_s, cand.held)


def test_a_kv_bound_queue_growing_past_the_share_is_an_overload() -> None:
    cand, req, finish, steady = _probe()
    arrival = req.arrival_s
    kv_requests = cand.blocks // -(-(ISL + OSL) // cand.dep.block_tokens)
    assert cand.held == 256 and kv_requests == 27  # the hand count (module docstring)
    assert cand.runs_at_once(req, "mixed") == kv_requests  # the rule's concurrency: what the KV holds
    assert keeps_up(arrival, finish, steady, cand.held)  # judged at the caps, the Poisson bound passed it (hR80)
    span = backlog_span(arrival, steady, cand.held)
    assert span is not None
    first, last = in_system(np.sort(arrival), np.sort(finish), np.array([span.start_s, span.end_s]))
    assert min(first, last) > 4 * kv_requests  # a queue: most of the requests in the system wait for KV
    assert last - first > span.share_allowed  # growing past the share
    assert not keeps_up(arrival, finish, steady, cand.runs_at_once(req, "mixed"))
