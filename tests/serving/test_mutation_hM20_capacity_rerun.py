"""Mutation wave hM20 (session 44) on `serving.capacity_answer.serve_command`: the seed and the KV dtype are the ones
given, not a default (hM7's tests ran seed 0 and one dtype for weights and KV, so either flag's source was free)."""

from __future__ import annotations

import shlex

import pytest

from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_answer import serve_command
from infraplan.serving.results import ServingPlanResult


@pytest.fixture(scope="module")
def plan() -> ServingPlanResult:
    return search_capacity("llama3-8b", "dgx-h100-superpod", 1.0, input_len=100, output_len=50, requests=50,
                           max_gpus=2, ttft_slo=2, tpot_slo=0.2)


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_the_seed_is_the_one_given(plan: ServingPlanResult, seed: int) -> None:
    line = serve_command(plan, "llama3-8b", "dgx-h100-superpod", None, 100, 50, seed, None)
    assert line is not None and _flag(shlex.split(line), "--seed") == str(seed)


def test_weights_and_kv_dtypes_each_from_their_own_field(plan: ServingPlanResult) -> None:
    assert plan.deployment is not None
    r = plan.model_copy(update={"deployment": plan.deployment.model_copy(update={"dtype": "bf16",
                                                                                "kv_dtype": "fp8"})})
    line = serve_command(r, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None)
    assert line is not None
    argv = shlex.split(line)
    assert (_flag(argv, "--dtype"), _flag(argv, "--kv-dtype")) == ("bf16", "fp8")


def test_an_answer_without_a_deployment_has_no_line_and_a_miss_keeps_its_line(plan: ServingPlanResult) -> None:
    """No deployment: nothing to rerun, whatever fields a caller's copy still holds. A miss (its probes met the SLOs,
    its full run did not: `feasible` false since hJ57, `meets_slo_full_run` false) keeps its deployment and its line:
    plan and fleet-mix rerun it with the miss said (hG57), so the line is the run they price (was: `feasible` false
    meant no answer, hM20)."""
    assert serve_command(plan, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None) is not None
    r = plan.model_copy(update={"feasible": False, "deployment": None})
    assert serve_command(r, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None) is None
    miss = plan.model_copy(update={"feasible": False, "meets_slo_full_run": False})
    assert serve_command(miss, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None) == \
        serve_command(plan, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None)


def test_a_fractional_rate_is_written_as_asked(plan: ServingPlanResult) -> None:
    r = plan.model_copy(update={"rate_per_s": 2.5})
    line = serve_command(r, "llama3-8b", "dgx-h100-superpod", None, 100, 50, 0, None)
    assert line is not None and _flag(shlex.split(line), "--rate") == "2.5"
