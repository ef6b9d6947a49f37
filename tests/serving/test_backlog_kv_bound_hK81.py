"""hK81: serve-plan's overload test judges a probe against the requests its replica runs at once (`Candidate.
runs_at_once`): the batch cap, or fewer where the KV cache holds fewer (`capacity_decode.kv_batch`), as hR80 found
(tests/serving/test_backlog_kv_bound_hR80.py: Llama 3 70B fp8 TP1 on one H100 at batch 256, 1,000 / 500 tokens,
holds 27 requests in its 2,620 KV blocks; at 1.7 requests/s seed 1 a queue of ~100 grew past the share, and the
Poisson bound, applied below the batch cap, passed it). Here the probe itself (`Candidate.meets`, on the stepped
engines and whole) misses on that backlog, and where the KV holds the whole batch nothing changes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from tests.serving.test_backlog_growth_hK71 import _mixtral_candidate
from tests.serving.test_backlog_kv_bound_hR80 import ISL, _probe

from infraplan.cluster import Cluster
from infraplan.serving.backlog_growth import backlog_span, keeps_up
from infraplan.serving.capacity_candidate import Candidate, clear_caches
from infraplan.serving.capacity_decode import kv_batch
from infraplan.serving.capacity_probe import run_until_miss, steppable
from infraplan.serving.replica_share import replica_requests
from infraplan.serving.serving_sim import pool_engine

LOOSE = (1e6, 1e3)  # TTFT and TPOT SLOs (s) no probe misses: the backlog test alone decides


def test_the_rules_concurrency_is_the_kv_count_in_decode_and_mixed_and_the_caps_in_prefill() -> None:
    """Hand count (hR80's docstring): a reservation of 1,000 + 500 + 1 tokens is 94 blocks of 16, 2,620 // 94 =
    27 < the cap of 256; a decode pool's replica reserves the same (the prompt cached); a prefill pool's prompts
    keep no KV beyond the hand-off, so its caps stand."""
    cand, req, _, _ = _probe()
    assert pool_engine(cand.dep.stack).kv_admission == "reserve_full"
    assert cand.blocks == 2620 and -(-(ISL + 500 + 1) // cand.dep.block_tokens) == 94
    assert cand.runs_at_once(req, "mixed") == cand.runs_at_once(req, "decode") == 2620 // 94 == 27
    assert cand.runs_at_once(req, "prefill") == cand.held == 256


def test_a_replica_whose_kv_holds_its_batch_keeps_its_caps() -> None:
    """Mixtral 8x7B fp8 TP1 on one H100 (hK71's probe): 28,600 blocks hold 28,600 // 94 = 304 reservations, more
    than its 256 slots, so the rule's concurrency is the cap and hK71's verdicts are unchanged."""
    cand = _mixtral_candidate()
    req = replica_requests(None, ISL, 500, cand.probe_requests(400), 6.0, 0, 1, 1, cand.shape.max_seq_len)
    assert cand.blocks // 94 > cand.dep.max_batch
    assert cand.runs_at_once(req, "mixed") == cand.held == 256


def test_two_engines_hold_twice_one_engines_kv_count() -> None:
    """A replica of E engines (here PP2: two virtual engines, each with its share of the blocks) runs E x what one
    engine's KV holds at these lengths."""
    cand, req, _, _ = _probe()
    cluster = Cluster.resolve("dgx-h100-superpod", purpose="LLM serving")
    pp2 = Candidate(cand.shape, cluster.accelerator, cluster.fabric, replace(cand.dep, pp=2))
    one = kv_batch(pp2.cost, pp2.dep, req, pp2.blocks)
    assert pp2.dep.engines_per_replica == 2 and 1 <= one <= pp2.dep.max_batch
    assert pp2.runs_at_once(req, "mixed") == 2 * one


def test_the_kv_bound_probe_misses_on_its_backlog_stepped_and_whole() -> None:
    """Loose SLOs: hR80's probe at 1.7 requests/s seed 1 misses only because its backlog grows past the share above
    the 27 requests its KV holds. Stepped (`run_until_miss`, FCFS reserve_full engines) it stops at its pause; the
    same span judged at the caps runs to the end, as the whole run's `keeps_up` at the caps passes it."""
    clear_caches()
    cand, req, finish, steady = _probe()
    engine = pool_engine(cand.dep.stack)
    assert steppable(cand.cost, cand.dep, engine.scheduler, engine.kv_admission)
    assert not cand.meets(req, "hR80-seed1", "mixed", LOOSE, 50.0)
    assert keeps_up(req.arrival_s, finish, steady, cand.held)  # at the caps (the rule before) it kept up
    zeros = np.zeros_like(req.input_tokens)
    args = (cand.cost, cand.dep, cand.blocks, req.arrival_s, req.input_tokens, zeros,
            cand.dep.decode_steps(req.output_tokens), cand.dep.engines_per_replica, np.ones(len(req), dtype=bool),
            0.0, None, 50.0)
    span = backlog_span(req.arrival_s, steady, cand.held)
    assert span is not None
    assert run_until_miss(*args, span._replace(held=cand.runs_at_once(req, "mixed"))) is None
    got = run_until_miss(*args, span)
    assert got is not None and np.array_equal(got[1], finish)
