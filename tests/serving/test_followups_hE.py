"""Follow-ups of the serving review (helper hE, validation/notes/product_review_tried.md): serve-plan says how many of
its workload-preset requests it truncated to the model's context, as `serve` does (`requests_clipped_to_context`,
from the same `workloads.clip_to_context`), in JSON and text; and a `serve` answer that does not fit memory states
the stack's front end instead of 0 s. Each failed before: serve-plan had no such field or line, and a non-fitting
deployment said `front_end_s: 0.0` with a 0.080 s front end on trtllm-0.x."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infraplan.catalog.serving_loader import load_workload
from infraplan.cli import main
from infraplan.serving.capacity import search_capacity
from infraplan.serving.engines import load_engine
from infraplan.serving.results import ServingPlanResult, ServingResult
from infraplan.serving.serve_inputs import build_requests
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.workloads import clip_to_context

# summarization's long prompts on Llama 3 8B's 8,192-token context: a preset whose tail is truncated
PLAN_ARGS = ["serve-plan", "llama3-8b", "--system", "dgx-h100-superpod", "--rate", "1", "--workload", "summarization",
             "--requests", "300"]


@pytest.fixture(scope="module")
def plan() -> ServingPlanResult:
    return search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, workload="summarization", requests=300)


def test_serve_plan_counts_the_full_runs_truncated_requests_as_serve_does(plan: ServingPlanResult) -> None:
    assert plan.feasible and plan.full_run_requests is not None and plan.deployment is not None
    assert plan.gpus is not None
    raw = build_requests(load_workload("summarization"), None, None, None, plan.full_run_requests, 1.0, 0)
    expected = clip_to_context(raw, 8192)[1]
    assert 0 < expected < plan.full_run_requests
    assert plan.requests_clipped_to_context == expected
    # serve with the chosen deployment and the full run's requests (serve-plan's "the full run again" line)
    d = plan.deployment
    served = estimate_serving("llama3-8b", "dgx-h100-superpod", plan.gpus, tp=d.tp, pp=d.pp, dtype=d.dtype,
                              kv_dtype=d.kv_dtype, max_batch=d.max_batch, token_budget=d.token_budget,
                              workload="summarization", rate=1.0, requests=plan.full_run_requests, seed=0)
    assert isinstance(served, ServingResult)
    assert served.requests_clipped_to_context == plan.requests_clipped_to_context


def test_serve_plan_prints_the_count_and_fixed_lengths_clip_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*PLAN_ARGS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    clipped, full = data["requests_clipped_to_context"], data["full_run_requests"]
    assert clipped > 0
    assert main(PLAN_ARGS) == 0
    assert f"{clipped:,} of the full run's {full:,} requests were truncated to llama3-8b's context" in \
        capsys.readouterr().out
    fixed = search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, input_len=1024, output_len=128, ttft_slo=2.0,
                            tpot_slo=0.1, requests=300)
    assert fixed.feasible and fixed.requests_clipped_to_context == 0


def test_an_infeasible_plan_still_counts_its_probe_streams_truncated_requests() -> None:
    # a TTFT SLO below trtllm-0.x's front end: no deployment of any size meets it
    r = search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, workload="summarization", requests=300,
                        ttft_slo=0.001, max_gpus=1)
    assert not r.feasible
    raw = build_requests(load_workload("summarization"), None, None, None, 300, None, 0)
    assert r.requests_clipped_to_context == clip_to_context(raw, 8192)[1] > 0


FRONT_END_S = load_engine("trtllm-0.x").request_latency_s
NOT_FITTING: dict[str, Any] = dict(input_len=100, output_len=10, requests=50)  # 70B bf16 weights on one 80 GB H100


@pytest.mark.parametrize("layout", [dict(gpus=1, tp=1), dict(gpus=2, tp=1, prefill_gpus=1)],
                         ids=["colocated", "disaggregated"])
def test_a_deployment_that_does_not_fit_states_the_stacks_front_end(layout: dict[str, Any]) -> None:
    assert FRONT_END_S > 0
    r = estimate_serving("llama3-70b", "dgx-h100-superpod", rate=1.0, **layout, **NOT_FITTING)
    assert isinstance(r, ServingResult) and not r.fits and r.why
    assert r.deployment.front_end_s == FRONT_END_S
    fitting = estimate_serving("llama3-8b", "dgx-h100-superpod", rate=1.0, **layout, **NOT_FITTING)
    assert isinstance(fitting, ServingResult) and fitting.fits
    assert fitting.deployment.front_end_s == FRONT_END_S  # the same figure as when it fits
    offline = estimate_serving("llama3-70b", "dgx-h100-superpod", offline=True, **layout, **NOT_FITTING)
    assert isinstance(offline, ServingResult) and not offline.fits
    assert offline.deployment.front_end_s == 0.0  # offline: no front end, as when it fits
