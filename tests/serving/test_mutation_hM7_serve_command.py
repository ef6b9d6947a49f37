"""Mutation wave 7 (hM7, session 37): serving/capacity.py's `serve_command`, the `infraplan serve` line that reruns
a plan's chosen deployment: each flag from the deployment, the SLOs and the stack, asserted from its source; each
test fails on a one-line mutant the earlier tests let through (validation/notes/test_suite_cost_tried.md)."""

from __future__ import annotations

import shlex
from types import SimpleNamespace
from typing import Any

import pytest

from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_answer import serve_command  # its home (capacity_answer calls it, hB59)
from infraplan.serving.results import ServingPlanResult

HEAD = ["infraplan", "serve", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--tp", "1", "--pp", "1"]
TAIL = ["--dtype", "bf16", "--kv-dtype", "bf16", "--max-batch", "256"]  # no budget given: serve's default (hS77)


@pytest.fixture(scope="module")
def plan() -> ServingPlanResult:
    return search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, input_len=100, output_len=50, requests=50,
                           max_gpus=2, ttft_slo=2, tpot_slo=0.2)


def _argv(plan: ServingPlanResult, stack: str | None = None, **deployment: Any) -> list[str]:
    r = plan.model_copy(update={"deployment": plan.deployment.model_copy(update=deployment)})  # type: ignore[union-attr]
    line = serve_command(r, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, stack)
    assert line is not None
    return shlex.split(line)


def test_the_line_names_every_flag_of_the_chosen_deployment(plan: ServingPlanResult) -> None:
    d = plan.deployment
    assert d is not None and (d.tp, d.pp, d.attention_dp, d.ep, d.disaggregated) == (1, 1, 1, 1, False)
    assert _argv(plan) == [*HEAD, *TAIL, "--input-len", "100", "--output-len", "50", "--rate", "1", "--requests",
                           str(plan.full_run_requests), "--seed", "0", "--ttft-slo", "2", "--tpot-slo", "0.2",
                           "--stack", plan.stack]


def test_the_cap_searched_and_a_given_budget_are_named(plan: ServingPlanResult) -> None:
    """hS77: the batch cap searched, not the batch an iteration runs, and a --token-budget only where one was given,
    so `serve` of the line asks what serve-plan was asked."""
    line = serve_command(plan, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None, 2048, 4096)
    argv = shlex.split(line or "")
    assert argv[argv.index("--max-batch") + 1] == "2048" and argv[argv.index("--token-budget") + 1] == "4096"


def test_attention_dp_and_ep_only_above_one(plan: ServingPlanResult) -> None:
    argv = _argv(plan, attention_dp=2, ep=2)
    assert argv[len(HEAD):len(HEAD) + 4] == ["--attention-dp", "2", "--ep", "2"]
    assert "--ep" not in _argv(plan, ep=1) and "--attention-dp" not in _argv(plan, attention_dp=1)


def test_a_disaggregated_deployment_names_its_prefill_gpus(plan: ServingPlanResult) -> None:
    same = SimpleNamespace(gpus=4, tp=1, attention_dp=1, ep=1, moe_tp=1)  # the decode pool's layout (hY53 reads it)
    argv = _argv(plan, disaggregated=True, prefill=same)
    assert argv[argv.index("--prefill-gpus") + 1] == "4" and "--prefill-tp" not in argv
    own = _argv(plan, disaggregated=True, prefill=SimpleNamespace(gpus=4, tp=4, attention_dp=1, ep=1, moe_tp=1,
                                                                  token_budget=8192))
    assert own[own.index("--prefill-tp") + 1] == "4"  # a prefill layout of its own (`capacity_layouts`)
    assert "--prefill-token-budget" not in own  # the decode pool's budget: --token-budget says it
    own = _argv(plan, disaggregated=True, prefill=SimpleNamespace(gpus=4, tp=1, attention_dp=4, ep=4, moe_tp=1,
                                                                  token_budget=2048))
    assert own[own.index("--prefill-token-budget") + 1] == "2048"  # its own ranks' (SGLang's chunk // DP, hG73)
    assert "--prefill-gpus" not in _argv(plan, disaggregated=True, prefill=None)


def test_the_stack_is_the_one_asked_else_the_plans(plan: ServingPlanResult) -> None:
    other = plan.model_copy(update={"stack": "vllm-0.x"})
    line = serve_command(other, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None)
    assert line is not None and shlex.split(line)[-2:] == ["--stack", "vllm-0.x"]
    assert _argv(plan, stack="sglang-0.x")[-2:] == ["--stack", "sglang-0.x"]
