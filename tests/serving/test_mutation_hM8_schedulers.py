"""hM8 (mutation wave 8): the prefill policies' edges by hand (serving/schedulers.py).

`schedule_prefill(prefill, budget)` cuts the token budget into the started prompts' chunks; entries are [request,
prompt tokens left, tokens in the KV cache]; query-key pairs of a chunk of c tokens after p cached: c (p + (c + 1)/2).
"""

from __future__ import annotations

from collections import deque

import pytest

from infraplan.serving.schedulers import SglangPrefillAdder, WholePromptScheduler


def test_whole_prompts_take_a_prompt_that_fills_the_budget_exactly() -> None:
    # TensorRT-LLM with chunked prefill off: a prompt joins if all of it fits the budget left (100 <= 100)
    queue = deque([[0, 100, 0]])
    assert WholePromptScheduler().schedule_prefill(queue, 100) == (100, 100 * (0 + 101 / 2), [0])
    assert not queue


def test_whole_prompts_wait_for_the_budget_if_they_fit_the_widest_and_fail_only_past_it() -> None:
    policy = WholePromptScheduler()
    assert policy.schedule_prefill(deque(), 100) == (0, 0.0, [])  # the first iteration: the whole budget, 100
    queue = deque([[0, 100, 0]])
    # 60 tokens left after the decode tokens: the 100-token prompt (= the widest budget) waits, it is not refused
    assert policy.schedule_prefill(queue, 60) == (0, 0.0, [])
    assert queue[0] == [0, 100, 0]
    with pytest.raises(ValueError, match="101-token prompt exceeds the 100-token budget"):
        policy.schedule_prefill(deque([[1, 101, 0]]), 60)


def test_sglang_adder_stops_a_further_prompt_whose_input_equals_the_budget_left() -> None:
    # add_one_req (schedule_policy.py:594 / :613): a further request stops the batch when its input is >= the input
    # budget left; with a 1,000-token budget (below the 8,192 chunk) the head takes 600 and a 400-token prompt waits
    policy = SglangPrefillAdder()
    queue = deque([[0, 600, 0], [1, 400, 0]])
    assert policy.schedule_prefill(queue, 1000) == (600, 600 * (0 + 601 / 2), [0])
    assert list(queue) == [[1, 400, 0]]
    # 399 tokens join whole
    queue = deque([[0, 600, 0], [1, 399, 0]])
    assert policy.schedule_prefill(queue, 1000) == (999, 600 * 601 / 2 + 399 * 400 / 2, [0, 1])
