"""Edges of recsys/queueing.py (hF, session 54: hand mutants of hR54's queue that the tests let live).

Each test kills a mutant that survived tests/recsys/test_p99_under_load_hR54.py and test_recsys_mlperf.py: the early
exit's count one short (Q1), busy_fraction without its cap at 1 (Q7) or at rate 0 (Q13), the horizon of full
batches dropped (Q9), the batch of the most throughput not tried (Q11)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_accelerator
from infraplan.cluster.host_share import host_share
from infraplan.recsys import queueing as qu
from infraplan.recsys.estimate import device_power_w, estimate_recsys


def test_the_early_exit_never_cuts_a_p99_that_meets_the_slo() -> None:
    # 100 requests at t = 0, one a batch of 1 s: latencies 1 ... 100 s, p99 (numpy linear) = 99.01 s; one request
    # (100 s) above a 99.5 s SLO does not put the p99 above it, so the run must not stop early (inf)
    one = np.array([1.0])
    assert qu.p99_s(np.zeros(100), one, one, 99.5) == pytest.approx(99.01)
    assert qu.p99_s(np.zeros(100), one, one, 98.0) > 98.0  # two above: the p99 is above (exit or not)


def test_busy_fraction_is_a_fraction_and_zero_without_load() -> None:
    one = np.array([1.0])
    assert qu.busy_fraction(0.0, one, one) == 0.0
    assert qu.busy_fraction(100.0, one, one) == pytest.approx(1.0)  # 100 x the device's rate: always busy
    assert 0.0 < qu.busy_fraction(0.2, one, one) < 0.3  # ~0.2 of the time at a fifth of its rate


def test_a_few_queries_still_run_a_hundred_full_batches() -> None:
    period = np.linspace(1e-3, 5e-3, 64)
    short = qu.sustained_rate(period, period, float(64 / period[-1]), 0.02, queries=10)
    full = qu.sustained_rate(period, period, float(64 / period[-1]), 0.02, queries=qu.HORIZON_BATCHES * 64)
    assert short == full


def test_the_batch_of_the_most_throughput_is_tried_beside_the_caps() -> None:
    # 6 requests in 5 s (1.2 / s) beat 8 in 9 s (0.89 / s): under a backlog a cap of 8 falls into the slower batch
    period = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 8.0, 9.0])
    point = qu.slo_point(period, period, [8], 100.0)
    assert point["batch"] == 6.0
    assert qu.slo_point(period, period, [8], 100.0, most_throughput=False)["batch"] == 8.0


def test_under_load_the_power_is_at_the_busy_fraction_of_the_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cap of 1 at a 20 ms p99 (MTIA v2, dlrm-high): 42.8 QPS keeps the device ~30 % busy, so its power is the
    idle-to-peak line at 0.30 (33.3 W), not the 90 W of a device always busy (the batch's own operating point)."""
    monkeypatch.setattr(qu, "P99_UNDER_LOAD", True)
    r = estimate_recsys("dlrm-high", "mtia-v2", batch=1, latency_slo_s=0.02)
    assert r.batch == 1 and r.meets_slo and 0.2 < r.busy_fraction < 0.4
    acc = load_accelerator("mtia-v2")
    assert r.power_w == pytest.approx(float(device_power_w(acc, r.busy_fraction)), rel=1e-12)
    assert r.power_w < 0.5 * estimate_recsys("dlrm-high", "mtia-v2", batch=1).power_w
    assert r.platform_power_w == pytest.approx(r.power_w + host_share(acc).watts, rel=1e-12)
    assert r.qps_per_w == pytest.approx(r.qps / r.power_w, rel=1e-12)


def test_a_cap_above_the_best_batch_is_held_to_its_full_batch_throughput(monkeypatch: pytest.MonkeyPatch) -> None:
    """A100 dlrm-low --batch 4096 at a 1 s p99: a backlog fills every batch to 4,096 (9.07 M QPS saturated), but the
    cap's trials ran up to the 3,456 batch's 10.03 M QPS, and 409,600 arrivals (41 ms) never showed the queue grow:
    10.03 M QPS on 62a3079. Now below the full batch's throughput; the free choice (3,456) is unchanged. Also kills
    `most_throughput` for a --batch (the cap asked for stays)."""
    monkeypatch.setattr(qu, "P99_UNDER_LOAD", True)
    full = estimate_recsys("dlrm-low", "a100-80gb", batch=4096).qps
    capped = estimate_recsys("dlrm-low", "a100-80gb", batch=4096, latency_slo_s=1.0)
    assert capped.batch == 4096 and capped.meets_slo and 0.99 * full < capped.qps <= full
    free = estimate_recsys("dlrm-low", "a100-80gb", latency_slo_s=1.0)
    assert free.batch == 3456 and free.qps > 1.05 * full
