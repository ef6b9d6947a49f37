"""A mutant of `serving.decode_book.DecodeBook.preempt` the suite let live (hI, session 70): a request preempted
twice kept its second prefill's end as its first-token time. vLLM V1's recompute preemption
(vllm/v1/core/sched/scheduler.py, `self.running.pop()`) re-prefills the prompt and the generated tokens; the
request's first token was streamed at its first prefill, so its TTFT stays that one however often it is preempted."""

from __future__ import annotations

from collections import deque

from infraplan.serving.decode_book import DecodeBook
from infraplan.serving.loop_stepping import NEVER


def test_a_twice_preempted_request_keeps_its_first_first_token() -> None:
    # one request: a 100-token prompt, 40 decode steps, 16-token blocks, first token at 1.5 s
    todo, ctx0, steps, need, fin, first = [100], [0], [40], [7], [0], [1.5]
    book = DecodeBook(todo, ctx0, steps, need, fin, first, 16, 1, True)
    heap, grow, waiting = [NEVER], [0] * 16, deque[int]()
    book.join(0, 100, 0, heap, grow)
    book.live[0] = True
    # preempted after 10 decode iterations: 110 tokens cached (7 blocks), 111 to prefill again, 29 steps left
    assert book.preempt([0], deque(), heap, grow, None, 10, waiting) == (7, 1, 110)
    assert (todo[0], steps[0]) == (111, 29)
    first[0] = 9.0  # the loop writes its re-prefill's end
    book.join(0, 111, 12, heap, grow)  # back at iteration 12 with its 111 tokens: ends at 12 + 29 = 41
    book.live[0] = True
    # preempted again at 20: 21 steps left, 140 - 21 = 119 tokens cached (8 blocks), 120 to prefill, 20 steps
    assert book.preempt([0], deque(), heap, grow, None, 20, waiting) == (8, 1, 119)
    assert (todo[0], steps[0], book.preemptions, book.recomputed) == (120, 20, 2, 111 + 120)
    first[0] = 25.0
    book.restore_first()
    assert first[0] == 1.5
