"""Mutation test on `serving.workloads.clip_to_context`'s count (hW74's `clipped_note` says it; hM74).

A request is clipped where its prompt or its output was cut: the output first to the context less one prompt token,
then the prompt to what is left. A one-token prompt with an output past the context keeps its prompt and loses
output tokens: clipped all the same.
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.workloads import Requests, clip_to_context, clipped_note


def test_a_request_whose_output_alone_is_cut_is_counted() -> None:
    drawn = Requests(np.zeros(3), np.array([1, 100, 2000], dtype=np.int64), np.array([5000, 100, 100], dtype=np.int64))
    served, clipped = clip_to_context(drawn, 2048)
    assert served.input_tokens.tolist() == [1, 100, 1948] and served.output_tokens.tolist() == [2047, 100, 100]
    assert clipped == 2
    note = clipped_note(drawn, served, clipped, "m", 2048)
    assert note is not None and note.startswith("2 of 3 requests were truncated to m's context of 2,048 tokens")
