"""hD (session 77): `serve` and `serve-plan` refuse a token budget below the batch by one rule in one place.

`serving.raised_budget.given_budget_refusal` repeated `deployment.check_deployment`'s words for `serve-plan` (hT76);
now both call `deployment.budget_refusal` (`serve` of the deployment it builds, `serve-plan` of the batch a given
budget runs: `raised_budget.run_deployment`), so a change of that rule moves both. On the base
`test_a_changed_rule_moves_serve_and_serve_plan` failed (no `budget_refusal` to change; the copy stayed in place).
"""

from __future__ import annotations

import pytest

import infraplan.serving.capacity as capacity
import infraplan.serving.deployment as deployment
from infraplan.errors import InputError
from infraplan.serving.serving_api import estimate_serving

ASK = {"input_len": 64, "output_len": 16, "dtype": "fp8"}


class _Seen(Exception):
    """The first candidate `serve-plan` builds, raised out of the search (nothing after it runs)."""


def _serve_plan(monkeypatch: pytest.MonkeyPatch, stack: str, cap: int, budget: int, drafts: int) -> object:
    """`serve-plan`'s first candidate at batch cap `cap`, --token-budget `budget`: (batch, budget), or its refusal."""
    def seen(shape: object, acc: object, fabric: object, dep: object, sample: object) -> None:
        raise _Seen(dep)

    monkeypatch.setattr(capacity, "candidate_for", seen)
    try:
        capacity.search_capacity("llama3-8b", "dgx-h100-superpod", 50.0, ttft_slo=2.0, tpot_slo=0.05, dtypes=("fp8",),
                                 batch_caps=(cap,), token_budget=budget, stack=stack, speculative_tokens=drafts,
                                 acceptance=0.7 if drafts else None, input_len=64, output_len=16)
    except _Seen as caught:
        dep = caught.args[0]
        return dep.max_batch, dep.token_budget
    except InputError as refused:
        return str(refused)
    raise AssertionError("no candidate built")


def _serve(stack: str, cap: int, budget: int, drafts: int) -> object:
    try:
        served = estimate_serving("llama3-8b", "dgx-h100-superpod", 1, max_batch=cap, token_budget=budget,
                                  offline=True, requests=8, stack=stack, speculative_tokens=drafts,
                                  acceptance=0.7 if drafts else 0.0, **ASK)
    except InputError as refused:
        return str(refused)
    return served.deployment.max_batch, served.deployment.token_budget


@pytest.mark.parametrize(("stack", "cap", "budget", "drafts"), [
    ("vllm-0.x", 512, 256, 0), ("vllm-0.x", 512, 512, 0), ("trtllm-0.x", 512, 256, 0), ("trtllm-0.x", 512, 256, 3),
    ("sglang-0.x", 512, 256, 0)])
def test_one_answer(monkeypatch: pytest.MonkeyPatch, stack: str, cap: int, budget: int, drafts: int) -> None:
    assert _serve(stack, cap, budget, drafts) == _serve_plan(monkeypatch, stack, cap, budget, drafts)


def test_a_changed_rule_moves_serve_and_serve_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule that wants eight tokens a running sequence: TensorRT-LLM's 256-token budget at 64 sequences an
    iteration (1 + 3 draft tokens each), run on the base rule, is then refused by both, in the one rule's words."""
    assert _serve("trtllm-0.x", 512, 256, 3) == _serve_plan(monkeypatch, "trtllm-0.x", 512, 256, 3) == (64, 256)
    monkeypatch.setattr(deployment, "budget_refusal",
                        lambda engine, budget, run, pool="": "eight a sequence" if budget < 8 * run else None)
    assert _serve("trtllm-0.x", 512, 256, 3) == _serve_plan(monkeypatch, "trtllm-0.x", 512, 256, 3) \
        == "eight a sequence"
