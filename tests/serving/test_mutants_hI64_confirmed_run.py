"""hI64 mutation wave on hQ63's confirmed whole run (`capacity_horizon.judged_run` with `replicate`): a stand-in
simulator whose over-SLO counts are set by hand, so that each rule of the method is checked on its own. The method
(capacity_confidence's docstring; Law, "Simulation Modeling and Analysis", 5th ed., sec. 9.4, independent
replications): a run shown within both SLOs is run again on the next CONFIRM_SEEDS - 1 seeds (independent draws, not
the first seed again), as many requests each; the runs are judged together; an undecided judgement reruns one seed
RUN_LONGER x longer, which is then confirmed afresh on runs of its own length."""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.serving.capacity_confidence import CONFIRM_SEEDS, RUN_LONGER
from infraplan.serving.capacity_horizon import judged_run
from infraplan.serving.workloads import Requests


def _requests(n: int, seed: int = 0, one_token_half: bool = False) -> Requests:
    out = np.full(n, 10)
    if one_token_half:
        out[::2] = 1
    return Requests(np.arange(n, dtype=float) + 0.25 * seed, np.full(n, 10), out)


def _even(over: int) -> list[int]:
    return [over // 10 + (i < over % 10) for i in range(10)]


def _simulator(ttft: dict[tuple[int, int], list[int]], tpot: int = 0):  # type: ignore[no-untyped-def]
    """Serve metrics of a run of n requests on seed s (read off its first arrival): TTFT over the SLO by batch as
    `ttft[(n, s)]` (else 1 % of n / 4, evenly), the percentiles within the SLOs."""
    def simulate(r: Requests) -> dict[str, Any]:
        key = (len(r), round(float(r.arrival_s[0]) * 4))
        by = ttft.get(key, _even(len(r) // 400))
        return {"ttft_s": {"p99": 1.0}, "tpot_s": {"p99": 0.1}, "ttft_over_slo_count": sum(by),
                "tpot_over_slo_count": tpot, "ttft_over_slo_by_batch_count": by, "tpot_over_slo_by_batch_count": None}
    return simulate


def test_a_shown_run_is_confirmed_on_the_next_seeds_and_again_after_a_longer_run() -> None:
    """4,000 requests, 10 over, evenly: shown alone, so seeds 1 and 2 run 4,000 each; seed 2's 40 over in one batch
    leaves the three undecided (the pooled batch-means bound above 1 %), so seed 0 reruns 16,000, shown alone,
    then confirmed on seeds 1 and 2 at 16,000 (evenly): met. Each [TTFT, TPOT] count of the three final runs."""
    assert CONFIRM_SEEDS == 3 and RUN_LONGER == 4
    asked: list[tuple[int, int]] = []

    def replicate(n: int, i: int) -> Requests:
        asked.append((n, i))
        return _requests(n, i)

    simulate = _simulator({(4000, 2): [40] + [0] * 9})
    result, ttft, _, why, final = judged_run(simulate, _requests(4000), "p99", (2.0, 0.2), 99.0, (False, False), 0.0,
                                            _requests, replicate)
    assert asked == [(4000, 1), (4000, 2), (16000, 1), (16000, 2)]
    assert len(final) == 16000 and why == "" and ttft == 0.5
    assert result["runs_over_slo_count"] == [[40, 0], [40, 0], [40, 0]]


def test_an_undecided_pool_of_three_seeds_says_so() -> None:
    """No longer run allowed: the three runs of 4,000 stay undecided, and the reason counts them."""
    simulate = _simulator({(4000, 2): [40] + [0] * 9})
    result, ttft, _, why, _ = judged_run(simulate, _requests(4000), "p99", (2.0, 0.2), 99.0, (False, False), 0.0,
                                         None, lambda n, i: _requests(n, i))
    assert "over 3 seeds' runs of 4,000 requests each" in why and ttft > 1.0
    assert result["runs_over_slo_count"] == [[10, 0], [10, 0], [40, 0]]


def test_tpot_is_judged_over_the_requests_of_more_than_one_token() -> None:
    """Half the requests have one output token (no TPOT): 20 over of the 2,000 others is not shown within at p99
    (the binomial allows at most 9 of 2,000), though it would be of 4,000 (at most 25): the run is not confirmed."""
    asked: list[tuple[int, int]] = []

    def replicate(n: int, i: int) -> Requests:
        asked.append((n, i))
        return _requests(n, i, one_token_half=True)

    _, _, tpot, why, _ = judged_run(_simulator({}, tpot=20), _requests(4000, one_token_half=True), "p99", (2.0, 0.2),
                                    99.0, (False, False), 0.0, None, replicate)
    assert asked == [] and "TPOT" in why and tpot > 1.0
