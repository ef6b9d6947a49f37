"""`serving_metrics.summarize`'s over-SLO counts by batch, by hand on 20 requests (hM70 mutation wave: reversing the
TPOT flags' order survived every test, since the tests' runs are near-uniform in time).

The rule (module docstring, `counts_by_batch`): the counts are per OVER_SLO_BATCHES consecutive batches of the
requests in arrival order (`batch_starts`: sizes differ by at most one); TPOT's over the requests of more than one
output token only (a one-token request has no TPOT). Here requests 2 and 3 are one token, so TPOT's 18 requests
cut at floor(18 i / 10) = 0, 1, 3, 5, 7, 9, 10, 12, 14, 16 (sizes 1, 2, 2, 2, 2, 1, 2, 2, 2, 2): the two slow
decodes (requests 0 and 1, the first two in arrival order) fall in batches 0 and 1. TTFT's 20 cut in pairs: the
one slow first token (request 19, the last) in batch 9; request 5's first token exactly at the SLO is within it, as
the attainment counts it (a request is over or attained, never both).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from infraplan.catalog import load_system
from infraplan.catalog.loader import load_accelerator
from infraplan.serving.serving_metrics import batch_starts, summarize
from infraplan.serving.workloads import Requests


def test_over_slo_counts_by_batch_follow_arrival_order_by_hand():
    n = 20
    arrival = np.arange(n, dtype=np.float64)
    out = np.full(n, 11, dtype=np.int64)  # 10 decode intervals each
    out[[2, 3]] = 1
    first = arrival + 0.1  # TTFT 0.1 s
    first[19] = arrival[19] + 5.0  # the last arrival's first token over the 1 s SLO
    first[5] = arrival[5] + 1.0  # exactly at the SLO: within it (attained), so not over it either
    tpot = np.full(n, 0.05)
    tpot[[0, 1]] = 0.5  # the first two arrivals decode over the 0.2 s SLO
    finish = first + tpot * np.maximum(out - 1, 0)
    requests = Requests(arrival, np.full(n, 100, dtype=np.int64), out)
    dep = SimpleNamespace(tp=1, gpus=1, stack="vllm-0.x", speculative_tokens=0)
    result = summarize(requests, first, finish, [], np.zeros(n), dep,
                       load_accelerator("h100-sxm"), load_system("dgx-h100-superpod"), {"disaggregated": False},
                       ttft_slo_s=1.0, tpot_slo_s=0.2, usd_per_hour=None, gpus=1)
    assert batch_starts(18).tolist() == [0, 1, 3, 5, 7, 9, 10, 12, 14, 16]
    assert result["tpot_over_slo_by_batch_count"] == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert result["ttft_over_slo_by_batch_count"] == [0] * 9 + [1]
    assert (result["tpot_over_slo_count"], result["ttft_over_slo_count"]) == (2, 1)
    assert result["slo_attainment"] == 17 / 20  # requests 0, 1 and 19 miss
