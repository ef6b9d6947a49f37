"""serve-plan's near-miss retry grows the pool that missed (hJ66): a disaggregated TTFT miss grows the pool that holds
its requests over the SLO (`replica_search.ttft_miss_pools`, from the run's count without the decode admission wait,
`disaggregated.without_decode_wait`), not both pools (hA66's case: Llama 3 70B chat at 20 requests/s on H100, TTFT 2 s,
TPOT 50 ms, `--requests 300`: TP2 3P + 1D missed TTFT and grew to 4P + 2D, 12 GPUs, where 4P + 1D meets on 10; TTFT
1.5 s answered 10); and an unsettled pool's retry takes the first count the run's own settling rule accepts
(`capacity_horizon.SETTLING_MARGIN`), not 4x past it."""

from __future__ import annotations

import numpy as np

from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_horizon import law_time_constants, option_settling, unsettled
from infraplan.serving.disaggregated import without_decode_wait
from infraplan.serving.replica_search import grown, ttft_miss_pools

PAIR = {"gpus": 8, "replicas": 4, "prefill_replicas": 3, "disaggregated": True, "tp": 2}
NEAR = float(np.nextafter(1.0, 2.0))  # a miss known only by its confidence (`capacity_horizon.NEAR_MISS_RATIO`)


def test_a_ttft_miss_the_prefill_side_holds_grows_the_prefill_pool_only() -> None:
    pools = ttft_miss_pools({"ttft_over_slo_count": 40, "ttft_over_slo_without_decode_wait_count": 38})
    assert pools == (True, False)
    got = grown(PAIR, NEAR, 0.53, 100, (0, 0), pools)
    assert got is not None and (got["prefill_replicas"], got["replicas"], got["gpus"]) == (4, 5, 10)


def test_a_ttft_miss_that_waited_at_decode_admission_grows_the_decode_pool() -> None:
    pools = ttft_miss_pools({"ttft_over_slo_count": 40, "ttft_over_slo_without_decode_wait_count": 3})
    assert pools == (False, True)
    got = grown(PAIR, 1.05, 0.9, 100, (0, 0), pools)
    assert got is not None and (got["prefill_replicas"], got["replicas"]) == (3, 5)


def test_tpot_and_ttft_misses_grow_both_pools_and_an_unsplit_run_grows_both() -> None:
    both = grown(PAIR, 1.05, 1.05, 100, (0, 0), (True, False))
    assert both is not None and (both["prefill_replicas"], both["replicas"]) == (4, 6)
    assert ttft_miss_pools({"ttft_over_slo_count": 40}) == (True, True)  # colocated or closed loop: not split
    assert ttft_miss_pools({"ttft_over_slo_count": 40, "ttft_over_slo_without_decode_wait_count": 20}) == (True, True)
    tpot = grown(PAIR, 0.9, 1.05, 100, (0, 0), (True, True))  # TPOT alone: the decode pool
    assert tpot is not None and (tpot["prefill_replicas"], tpot["replicas"]) == (3, 5)
    settling = grown(PAIR, NEAR, 0.5, 100, (0, 7), (True, False))  # an unsettled decode pool still takes its count
    assert settling is not None and (settling["prefill_replicas"], settling["replicas"]) == (4, 11)


def test_without_decode_wait_takes_out_the_slot_wait_only() -> None:
    # two requests, KV at 1.0 s; the first admitted at the boundary (0.5 of its 10 ms iteration), the second after a
    # 0.3 s wait for a slot; each decodes 10 steps of 10 ms from its admission; a one-token output keeps its first token
    ready = np.array([1.0, 1.0, 1.0])
    admitted = np.array([1.005, 1.3, np.nan])
    finish = admitted + 0.1
    finish[2] = 1.0
    steps, out = np.array([10, 10, 0]), np.array([11, 11, 1])
    first = admitted + 1.0 * 0.01  # 1.5 pickup iterations less the boundary's 0.5 (`decode_first_token_s`)
    first[2] = 0.9
    got = without_decode_wait(first, ready, admitted, finish, steps, out, 1.5)
    assert np.allclose(got, [1.015, 1.015, 0.9])


def test_the_small_chat_case_answers_the_fewest_at_ttft_2s() -> None:
    """hA66's case: before, 12 GPUs (4P + 2D) at TTFT 2 s where TTFT 1.5 s answered 10."""
    plan = search_capacity("llama3-70b", "dgx-h100-superpod", 20.0, workload="chat", ttft_slo=2.0, tpot_slo=0.05,
                           requests=300)
    assert plan.meets_slo_full_run and plan.gpus is not None and plan.gpus <= 10


def test_an_unsettled_pool_is_retried_at_the_first_count_its_run_accepts() -> None:
    """hA66: gigawatt-2027's 2027 chat's colocated TP1 at 553 replicas was unsettled and its retry took 635 (the
    formula's relaxation 4x over, hQ51) where 557 settles and meets. The retry now takes the fewest replicas the whole
    run's own rule (`unsettled`) accepts: one fewer is unsettled."""
    rate, law = 1000.0, ([], 1.0, 1.0, 1.0)  # Poisson arrivals, 1 s services of cv^2 1
    got = option_settling(rate, [(1001, law)], (True, False), 10_000)[0]
    assert not unsettled(rate, law_time_constants(rate, law, got))
    assert unsettled(rate, law_time_constants(rate, law, got - 1))
    near = float(np.nextafter(1.0, 2.0))
    retry = grown({"gpus": 1001, "replicas": 1001, "prefill_replicas": 0, "disaggregated": False}, near, 0.5, 10_000,
                  (got, 0))
    assert retry is not None and retry["replicas"] == got
