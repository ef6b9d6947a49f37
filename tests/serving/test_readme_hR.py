"""README audit (hR, session 38): what a README command prints must not contradict itself.

`serve-plan llama3-70b --system dgx-h100-superpod --rate 100 --workload chat --stack vllm-0.x` (README, "LLM
serving") answered 40 H100 after the 38-GPU disaggregated option's whole run missed the SLO ("not chosen: ... its
full run of 19,456 requests misses the SLO"), and then listed that same 38-GPU option first under "next-best
deployments": a plan the answer had just said does not meet the SLO, offered as the runner-up.
"""

from __future__ import annotations

import re

import pytest

from infraplan.serving.capacity import search_capacity
from infraplan.serving.replica_search import ALTERNATIVES, option_rank


def test_an_option_whose_whole_run_missed_the_slo_is_not_a_next_best_deployment() -> None:
    plan = search_capacity("llama3-70b", "dgx-h100-superpod", 100.0, workload="chat", stack="vllm-0.x")
    missed = [line for line in plan.rejected or [] if "its full run" in line]
    assert plan.feasible and plan.meets_slo_full_run
    # the case: a winner-to-be of fewer accelerators missed whole (since hB47 a PP 4 layout of 32; hN44 / hN45: 38)
    missed_gpus = int(re.search(r"on (\d+) accelerators", missed[0]).group(1)) if missed else 0
    assert missed and missed_gpus < (plan.gpus or 0) and plan.deployment
    alternatives = plan.alternatives or []
    assert alternatives and len(alternatives) <= ALTERNATIVES
    assert all(o.gpus >= plan.gpus for o in alternatives)  # nothing ranked above the winner: those all missed
    assert not any(o.gpus == missed_gpus for o in alternatives)
    ranks = [option_rank(o.model_dump()) for o in alternatives]
    assert ranks == sorted(ranks)  # still best first


def test_a_grouped_hopper_serving_row_states_the_error_of_its_own_means() -> None:
    """`infraplan validate` (README, Usage) printed "qwen3-32b h100 sglang-0.5.1.post1 bf16 TP2 (24 runs) | mean TTFT,
    ms | 4,250 | 3,982 | +0.4 %": 3,982 / 4,250 - 1 is -6.3 %; the +0.4 % was the mean of the runs' signed errors.
    28 of the 82 grouped rows differed by more than 5 points, 6 in sign. The column is now the row's own ratio, as in
    every other table of `validate`; the mean of the runs' errors stays in `detail.mean_error`."""
    from infraplan.validation.serving_hopper_report import run_serving_hopper_validation

    cases = run_serving_hopper_validation()["cases"]
    assert len(cases) > 40
    for case in cases:
        assert case["error"] == pytest.approx(case["predicted"] / case["published"] - 1.0, rel=1e-9, abs=1e-12)
        assert "mean_error" in case["detail"]
    assert any(abs(c["error"] - c["detail"]["mean_error"]) > 0.05 for c in cases)  # the two do differ
