"""hL (session 76): a decoding sequence with K drafts takes 1 + K tokens of a mixed iteration's token budget.

vLLM's scheduler schedules a running request's `num_tokens_with_spec` less its computed tokens (the token and its K
drafts) before any waiting prompt's chunk (vllm 0.12.0 v1/core/sched/scheduler.py:254-264, :364, :416);
TensorRT-LLM's micro-batch scheduler counts a generating request's draft tokens against max_num_tokens (recalled).
The loops charged 1 token a sequence (hS76's "left alone"): a prompt beside d decoding sequences got budget - d, not
budget - d (1 + K). `speculative.budget_tokens`; toggle `speculative.MIXED_DRAFT_BUDGET`. Each of the three loops:
the general one (vLLM's on-demand KV), the FCFS one (TensorRT-LLM's reserve_full) and the lock-step one (attention DP).
"""

from __future__ import annotations

import pytest

from infraplan.serving import speculative
from infraplan.serving.deployment import Deployment
from infraplan.serving.serving_api import estimate_serving


def test_the_rule() -> None:
    assert speculative.budget_tokens(Deployment(speculative_tokens=3, acceptance=0.8)) == 4
    assert speculative.budget_tokens(Deployment()) == 1


def _ttft(stack: str, adp: int, rate: float, on: bool, monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(speculative, "MIXED_DRAFT_BUDGET", on)
    r = estimate_serving("deepseek-v3", "hgx-h200", 8, tp=8 // adp, attention_dp=adp, ep=adp if adp > 1 else 1,
                         dtype="fp8", workload="chat", rate=rate, requests=300, speculative_tokens=1, acceptance=0.85,
                         stack=stack, max_batch=256, token_budget=1024, seed=3)
    return r.ttft_s.mean


@pytest.mark.parametrize(("stack", "adp", "rate"), [("vllm-0.x", 1, 8.0), ("trtllm-0.x", 1, 8.0),
                                                    ("trtllm-0.x", 8, 8.0)],
                         ids=["general-loop", "fcfs-loop", "lockstep-loop"])
def test_drafts_leave_the_prompts_less_room(stack: str, adp: int, rate: float, monkeypatch: pytest.MonkeyPatch) -> None:
    on, off = _ttft(stack, adp, rate, True, monkeypatch), _ttft(stack, adp, rate, False, monkeypatch)
    if adp == 1:
        assert on > 1.02 * off  # the chunks beside the decode batch are smaller: prompts wait longer
    else:  # one rank a replica's eighth of the load: few prompts share an iteration with decodes; it moves (+0.02 %;
        assert on != off  # at 40 req/s it moved TTFT the other way, -0.9 %: the ranks' lock-step waits reorder)
