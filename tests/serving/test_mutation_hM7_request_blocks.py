"""Mutation wave 7 (hM7, session 37): serving/loop_stepping.py's request lists (hP8): a request reserves the KV
blocks of prompt + decode steps + 1 tokens (`request_tokens`' docstring), handed to `fcfs_steps` as whole floats;
fails on a mutant that drops the + 1 (validation/notes/test_suite_cost_tried.md, "hM7 (session 37)")."""

from __future__ import annotations

import numpy as np

from infraplan.serving.loop_stepping import fcfs_request_lists, request_tokens


def test_blocks_hold_prompt_steps_and_one_more_token() -> None:
    prefill, cached, steps = np.array([16, 15, 8, 0]), np.array([0, 0, 8, 16]), np.array([0, 0, 15, 15])
    tokens, blocks = request_tokens(prefill, cached, steps, 16, 1.0, 0)
    assert tokens == [16.0, 15.0, 31.0, 31.0]
    assert blocks == [2, 1, 2, 2]  # ceil(17 / 16), ceil(16 / 16), ceil(32 / 16), ceil(32 / 16)
    lists = fcfs_request_lists(prefill, cached, steps, 16)
    assert lists[3] == [2.0, 1.0, 2.0, 2.0] and all(type(b) is float for b in lists[3])
    _, blocks = request_tokens(np.array([16]), np.array([0]), np.array([1]), 16, 1.0, 0)
    assert blocks == [2]  # 16 + 1 step + 1 = 18 tokens
