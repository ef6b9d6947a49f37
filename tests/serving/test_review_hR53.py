"""Review of session 47's serving work (hR53): a run whose requests have no TPOT (every output one token).

`capacity_horizon._verdicts` judges TPOT over the requests of more than one output token; with none of them the
count is 0 of 0, which no number of requests could show within the SLO (`capacity_confidence.most_over(0)` is -1),
so serve-plan reran the run 4x until the 400,000-request cap and answered a miss "its TPOT p99 is not shown within
the SLO" for a deployment with no TPOT at all (Llama 3 8B, 512-token prompts, --output-len 1, 20 requests/s on
H200: 1 GPU, meets_slo_full_run false over 400,000 requests).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.capacity_confidence import MET, UNSURE, verdict
from infraplan.serving.capacity_horizon import judged_run
from infraplan.serving.workloads import Requests


def _one_token(n: int) -> Requests:
    return Requests(np.arange(n, dtype=float), np.full(n, 512), np.full(n, 1))


def test_no_request_with_the_metric_is_nothing_over_it() -> None:
    """0 of 0 is met (nothing to be over); 0 of 1 still cannot show a p99 (by hand: 0.99^1 > 0.01)."""
    assert verdict(0, 0, 99.0) == MET
    assert verdict(0, 1, 99.0) == UNSURE


def test_a_run_of_one_token_outputs_is_judged_once_on_its_ttft() -> None:
    """Every output one token: TTFT 1 of 1,000 over (at most 2 show the p99 within), no TPOT: met at the first run."""
    calls: list[int] = []

    def simulate(r: Requests) -> dict[str, object]:
        calls.append(len(r))
        return {"ttft_s": {"p99": 0.5}, "tpot_s": {"p99": 0.0}, "ttft_over_slo_count": 1, "tpot_over_slo_count": 0}

    _, ttft_ratio, tpot_ratio, why, reqs = judged_run(simulate, _one_token(1000), "p99", (1.0, 0.05), 99.0,
                                                      (False, False), 0.0, _one_token)
    assert calls == [1000] and len(reqs) == 1000
    assert (ttft_ratio, tpot_ratio, why) == (0.5, 0.0, "")


def test_serve_plan_of_one_token_outputs_meets_at_its_first_run() -> None:
    """The module docstring's case end to end: one H200 meets over its first whole run (it was a miss over 400,000)."""
    from infraplan.serving import capacity

    capacity.clear_caches()
    r = capacity.search_capacity("llama3-8b", "hgx-h200", 20.0, input_len=512, output_len=1, ttft_slo=1.0,
                                 tpot_slo=0.05, dtypes=("bf16",), batch_caps=(64,), disaggregation=False)
    capacity.clear_caches()
    assert r.meets_slo_full_run and r.why is None and r.gpus == 1
    assert r.full_run_requests is not None and r.full_run_requests < 400_000
