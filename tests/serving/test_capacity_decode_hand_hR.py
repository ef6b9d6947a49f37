"""`serving.capacity_decode`'s decode work by hand on a made-up iteration cost (hR, session 51 mutation review).

Three hand mutants passed every test that reads the module: a request's finish charged without a decode step, the
least seconds per sequence taken at the batch cap instead of over 1 .. cap, and a request's cached-token reads
counted over `steps` x `steps` / 2 instead of `steps` (`steps` - 1) / 2 (its i-th step reads prompt + i tokens,
i = 0 .. steps - 1). The made-up engine: a decode step of 1-3 sequences lasts 1 s, of 4 (the cap) 10 s (no table is
assumed monotone); a cached token reads in 1 ms; a finish costs 0.5 s; nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving.capacity_decode import decode_request_s, decode_request_seconds
from infraplan.serving.llm_iteration import Deployment, IterationCost
from infraplan.serving.workloads import Requests

CAP = 4
BODY = np.array([0.0, 1.0, 1.0, 1.0, 10.0, 10.0, 10.0, 10.0, 10.0])  # seconds at 0 .. 8 tokens


def _cost() -> IterationCost:
    zeros = np.zeros_like(BODY)
    return IterationCost(body_s=BODY, head_s=zeros, kv_token_s=1e-3, pair_s=0.0, prefill_fixed_s=0.0,
                         decode_fixed_s=0.0, overhead_s=0.0, body_flop_s=zeros, pair_flop_s=0.0, per_finish_s=0.5)


LENGTHS = Requests(np.array([0.0, 1.0]), np.array([100, 50]), np.array([11, 1]))  # 10 decode steps, and none


def test_each_requests_decode_seconds_by_hand() -> None:
    """Request 1: 10 steps at the least 1/3 s a sequence (3 sequences in 1 s; 4 take 10 s), cached reads
    10 x 100 + (0 + 1 + ... + 9) = 1,045 tokens at 1 ms, one finish: 3.3333 + 1.045 + 0.5 s. Request 2 (one output
    token, no decode step): nothing, not even a finish."""
    dep = Deployment(tp=1, max_batch=CAP)
    seconds = decode_request_seconds(_cost(), dep, LENGTHS)
    assert seconds == pytest.approx([10.0 / 3.0 + 1.045 + 0.5, 0.0], rel=1e-12)
    assert decode_request_s(_cost(), dep, LENGTHS) == pytest.approx((10.0 / 3.0 + 1.045 + 0.5) / 2.0, rel=1e-12)


def test_a_batch_bound_takes_the_least_up_to_it() -> None:
    """`batch` 2 (the KV cache's bound): the least over 1 or 2 sequences, 1/2 s a sequence."""
    seconds = decode_request_seconds(_cost(), Deployment(tp=1, max_batch=CAP), LENGTHS, batch=2)
    assert seconds == pytest.approx([10.0 / 2.0 + 1.045 + 0.5, 0.0], rel=1e-12)
