"""Mutation wave hM25 (session 47) on `serving.capacity_candidate.decode_utilisation` (hB49): the window's arrival
rate is its arrivals after the first over its span (a periodic stream at 2 requests/s: 10 gaps in 5 s, rate 2, not
11 / 5), times a request's engine seconds, over the replica's engines (PP 2: two); a window of no span (one request,
or all at t = 0) has no rate: 0."""

from __future__ import annotations

import numpy as np
import pytest
from test_probe_queues_hB49 import GIGA_RATE, _gigawatt  # hB49's case: Llama 3 70B fp8 TP1 on GB300

from infraplan.serving.capacity_candidate import steady_window
from infraplan.serving.capacity_decode import decode_utilisation
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.replica_share import replica_requests
from infraplan.serving.workloads import Requests


def test_a_periodic_windows_utilisation_by_hand() -> None:
    dep = Deployment(tp=1, pp=2, dtype="fp8", kv_dtype="fp8", max_batch=64, token_budget=8192)
    assert dep.engines_per_replica == 2
    n = 11
    req = Requests(np.arange(n) / 2.0, np.full(n, 100), np.full(n, 10))  # 2 requests/s, 5 s from first to last
    # 1.5 engine seconds a request: 2 / s x 1.5 s / 2 engines
    assert decode_utilisation(None, dep, req, np.arange(n), request_s=1.5) == pytest.approx(1.5)  # type: ignore[arg-type]
    assert decode_utilisation(None, dep, req, np.arange(3, 8), request_s=1.5) == pytest.approx(1.5)  # type: ignore[arg-type]
    assert decode_utilisation(None, dep, req, np.array([4]), request_s=1.5) == 0.0  # type: ignore[arg-type]
    # every request present at once (an offline stream): no arrival rate to bound, no utilisation
    offline = Requests(np.zeros(n), np.full(n, 100), np.full(n, 10))
    assert decode_utilisation(None, dep, offline, np.arange(n), request_s=1.5) == 0.0  # type: ignore[arg-type]


def test_a_decode_pool_above_utilisation_one_misses_whatever_its_probe_reads() -> None:
    """The docstring's measured case: gigawatt-2027's 2026 chat with 48 decode replicas, its bound 1.07 over the whole
    run's lengths (0.99 over the probe's own): above 1 its queue grows without bound (the fluid limit), so the probe
    misses, while the same probe judged on its own lengths (below 1) meets: only the bound decides. The two verdicts on
one request fingerprint are memoised apart."""
    cand, spec, law, law_key = _gigawatt()
    req = replica_requests(spec, None, None, cand.probe_requests(1500), GIGA_RATE, 0, 48, 1, cand.shape.max_seq_len)
    steady = steady_window(req.arrival_s, cand.held)
    assert 1.0 < decode_utilisation(cand.cost, cand.dep, req, steady, law) < 1.1
    assert decode_utilisation(cand.cost, cand.dep, req, steady) < 1.0
    # one request key for both: the memoised verdict is keyed on the lengths the bound is taken over (module doc)
    assert cand.meets(req, "hM25-48", "decode", (2.0, 0.2), 99.0)
    assert not cand.meets(req, "hM25-48", "decode", (2.0, 0.2), 99.0, (law, law_key))
