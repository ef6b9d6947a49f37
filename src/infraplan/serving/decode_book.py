"""What an engine loop keeps per request between admission and its last token, and the on-demand preemption.

Both general engine loops (`serving.engine_loop.engine_steps`, one engine; `serving.lockstep_loop.lockstep_replica`,
the attention-DP ranks of a replica, each rank its own queue, decode batch and KV pool) keep a decoding sequence as
its cached tokens after its last step, the same as the cached-token reads count it (T a step with drafts,
`serving.speculative`), the decode-iteration count at its last token and its finish key in the batch's heap
(iterations x requests + request: the pair's order; `loop_stepping.NEVER` at the bottom). Under on-demand KV
admission (`serving.serving_engine` module docstring) also its block residue (a sequence takes a block at decode
iteration s iff (off + s) = 1 (mod block), off its tokens at joining less the decode-iteration count then: the
batch's table `grow[residue]` counts the sequences per residue), whether it runs, and the admission order.

`DecodeBook.preempt` is vLLM V1's preemption (`self.running.pop()`, vllm/v1/core/sched/scheduler.py): the newest
running request frees its blocks and goes to the front of the waiting queue, to be prefilled again over its prompt
and every token it generated (recompute: its first-token time stays the first one, `restore_first`) and then decode
the rest; a prompt being prefilled restarts. SGLang's output reserve (`serving.output_reserve`) is told of it.
One copy of these lines serves both loops (they were written in each, hL session 69); the loops' hot per-iteration
lines (an iteration's joins and completions) stay inline in `engine_steps`, the same arithmetic.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import MutableSequence

from infraplan.serving.output_reserve import OutputReserve


class DecodeBook:
    """The per-request lists of one loop run (module docstring): the loop's own `todo`, `ctx0`, `steps`, `need`,
    `fin_blocks` and `first` (shared, mutated in place: a preempted request's are rewritten), and, by request, its
    cached tokens after its last step (`end_ctx`), the same as reads count them (`end_read`), the decode-iteration
    count at its last token (`end_at`), its block residue (`key`), whether it runs (`live`) and decodes
    (`decoding`), and the first-token time of a preempted one (`kept_first`); `preemptions` and `recomputed`
    tokens so far."""

    __slots__ = ("n", "bt", "adv", "on_demand", "todo", "ctx0", "steps", "need", "fin_blocks", "first", "end_ctx",
                 "end_read", "end_at", "key", "live", "decoding", "kept_first", "preemptions", "recomputed")

    def __init__(self, todo: list[int], ctx0: list[int], steps: list[int], need: list[int], fin_blocks: list[int],
                 first: MutableSequence[float], block_tokens: int, adv: float, on_demand: bool) -> None:
        n = len(todo)
        self.n, self.bt, self.adv, self.on_demand = n, block_tokens, adv, on_demand
        self.todo, self.ctx0, self.steps, self.need, self.fin_blocks, self.first = (todo, ctx0, steps, need,
                                                                                    fin_blocks, first)
        self.end_ctx = [0] * n  # a decoding sequence's tokens after its last step, one a step (on demand: its blocks)
        self.end_read: list[int | float] = [0] * n  # the same as the cached-token reads count it (T a step: drafts)
        self.end_at = [0] * n  # decode-iteration count at a decoding sequence's last token
        self.key = [0] * n  # on demand: its block residue (`grow`'s index)
        self.live = [False] * n  # on demand: running (admitted, not finished or preempted)
        self.decoding = [False] * n  # on demand: in the decode batch
        self.kept_first: dict[int, float] = {}  # first-token times of preempted requests
        self.preemptions = self.recomputed = 0

    def join(self, j: int, ctx: int, now: int, heap: list[int], grow: list[int]) -> None:
        """j joins a decode batch (its finish `heap`, on demand its residue table `grow`) with ctx cached tokens
        after `now` decode iterations (the caller counts it in its batch's size and cached tokens)."""
        k = self.steps[j]
        self.end_ctx[j] = ctx + k
        self.end_read[j] = ctx + k * self.adv
        self.end_at[j] = e = now + k
        heapq.heappush(heap, e * self.n + j)
        if self.on_demand:
            self.decoding[j] = True
            self.fin_blocks[j] = -(-self.end_ctx[j] // self.bt)
            self.key[j] = r = (1 - (ctx - now)) % self.bt
            grow[r] += 1

    def preempt(self, order: list[int], prefill: deque[list[int]], heap: list[int], grow: list[int],
                reserve: OutputReserve | None, now: int, waiting: deque[int]) -> tuple[int, int, int | float]:
        """Preempt the newest running request of an on-demand batch (`order`: its admissions, oldest first, lazily
        cleaned; `prefill`: its prompts being prefilled, [request, tokens left, tokens done]; `heap`, `grow`: its
        decode batch's; `reserve`: SGLang's, or None) after `now` decode iterations, requeued first in `waiting`
        (module docstring). Returns the KV blocks it frees, 1 if it left the decode batch (else 0) and the cached
        tokens it took out of the batch's sum (the caller's counts; it also counts one request fewer running)."""
        live, n, todo = self.live, self.n, self.todo
        while not live[order[-1]]:
            order.pop()
        j = order.pop()
        live[j] = False
        left_batch: int = 0
        dropped: int | float = 0
        if self.decoding[j]:
            self.decoding[j] = False
            left = self.end_at[j] - now  # decode iterations it still had (>= 1)
            tokens = self.end_ctx[j] - left  # in its cache now
            freed = -(-tokens // self.bt)
            drop_key(heap, self.end_at[j] * n + j, reserve is None)
            if reserve is not None:
                reserve.dec_end -= self.end_at[j]
            grow[self.key[j]] -= 1
            left_batch, dropped = 1, self.end_read[j] - left * self.adv
            todo[j] = tokens + 1  # prompt and every generated token; the prefill samples the next one
            self.steps[j] = left - 1
            if j not in self.kept_first:
                self.kept_first[j] = self.first[j]
        else:  # a prompt being prefilled restarts
            drop_prompt(prefill, j)
            freed = self.need[j]
            todo[j] += self.ctx0[j]
            if reserve is not None:
                reserve.dropped(j)
        self.recomputed += todo[j]
        self.ctx0[j] = 0
        self.need[j] = -(-todo[j] // self.bt)
        self.preemptions += 1
        waiting.appendleft(j)
        if reserve is not None:
            reserve.retracted(now, heap, n)
        return freed, left_batch, dropped

    def restore_first(self) -> None:
        """At the run's end: a recomputed prompt's end is not its first token (`kept_first` back into `first`)."""
        first = self.first
        for j, t0 in self.kept_first.items():
            first[j] = t0


def drop_key(heap: list[int], key: int, sift: bool) -> None:
    """Take `key` out of a finish heap. `sift`: the last key moved into its slot and sifted, O(log n) past the look-up
    (hS2-77: `remove` + `heapify`, O(n) a preemption, 41 of 135 s under cProfile of a vLLM serve-plan at --max-batch
    16384); the heap pops the same keys in the same order either way (keys are distinct ints), and a loop reads it
    only as its minimum, a count or an all-of. Not `sift` (SGLang's output reserve, whose `left` sums floats over the
    heap in list order): `remove` + `heapify`, the list order as before."""
    if not sift:
        heap.remove(key)
        heapq.heapify(heap)
        return
    i = heap.index(key)
    last = heap.pop()
    if i < len(heap):
        heap[i] = last
        heapq._siftup(heap, i)  # type: ignore[attr-defined]  # (the stdlib's O(log n) repair, as heapq.heapreplace)
        heapq._siftdown(heap, 0, i)  # type: ignore[attr-defined]


def drop_prompt(prefill: deque[list[int]], j: int) -> None:
    """Take request j's entry out of the prompts being prefilled ([request, tokens left, tokens done], in admission
    order). The newest running request is preempted first, so its prompt is the last entry: looked for from the right
    (hS2-77: from the left, O(prompts) a preemption, most of `preempt`'s 42 s own time in the case above)."""
    for i in range(len(prefill) - 1, -1, -1):
        if prefill[i][0] == j:
            del prefill[i]
            return
