"""SGLang's prefill admission: a new request starts only if the KV pool keeps room for the outputs still to come.

What SGLang does (`PrefillAdder`, python/sglang/srt/managers/schedule_policy.py; read in the wheels of the releases
the measured rows run, 0.5.1 / 0.5.6.post2 / 0.5.8.post1, PyPI):
* a waiting request joins the next prefill batch only if its extend tokens + min(its output left, 4096) are below
  `rem_total_tokens` (`add_one_req`: 0.5.1 :497-510, 0.5.6.post2 :570-591, 0.5.8.post1 :687-712; `total_tokens >=
  self.rem_total_tokens` returns NO_TOKEN and stops the batch; 0.5.1 counts the whole max_new_tokens, the later
  releases the output left, which differ only for a retracted request); `CLIP_MAX_NEW_TOKENS` 4096 (:39 / :42 / :50);
* `rem_total_tokens` = free + evictable pool tokens less, for every running (decoding) request, min(its output left,
  4096) x `new_token_ratio` (0.5.1 :303-311, 0.5.6.post2 :372-379, 0.5.8.post1 :434-441), less the extend tokens and
  the whole min(output, 4096) of each request the same batch already took (`_update_prefill_budget`);
* `new_token_ratio` starts at SGLANG_INIT_NEW_TOKEN_RATIO 0.7 x schedule_conservativeness 1.0, falls by (0.7 -
  0.7 x SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR 0.14) / SGLANG_NEW_TOKEN_RATIO_DECAY_STEPS 600 at every decode batch run
  without a retraction, down to 0.098 (`update_running_batch`: 0.5.8.post1 scheduler.py:789-801, :2222-2226;
  environ.py:215-218; 0.5.1 global_config.py:24-39, scheduler.py:460-473); a decode batch out of memory retracts
  requests and sets it to min(1, (tokens decoded + 20 x requests kept) / (their max_new_tokens + 1)) over the batch
  kept (`retract_decode`, SGLANG_RETRACT_DECODE_STEPS 20: 0.5.8.post1 schedule_batch.py:1846-1908; 0.5.1 :1514-1517
  without the + 1); an idle scheduler resets it to 0.7 (`self_check_during_idle`: 0.5.1 scheduler.py:1338-1341,
  0.5.6.post2 scheduler_runtime_checker_mixin.py:285-302, 0.5.8.post1 :317-334).
Under DP attention (`--enable-dp-attention`) `_handle_data_parallelism` scales schedule_conservativeness by 0.3
(0.5.9 server_args.py:2114-2115, 0.5.6.post2 :1569), so each rank's ratio starts at 0.21, floors at 0.21 x 0.14 and
decays between them over the same 600 batches (scheduler.py:811-823); a retraction's ratio is not scaled. The
stack's `output_reserve_scale_by_attention_dp` (sglang-0.x: 0.3) reaches the loops as `IterationCost.reserve_scale`
at attention DP > 1 (hG73).
The ignore_eos shortcut (`add_one_req_ignore_eos`) runs only with the radix cache disabled: not modelled.

How the engine loop (`serving.engine_loop`) carries it, on demand only (prompt blocks at admission): the reserve
is the loop state above, in tokens (pool blocks x block size; a step's output T tokens with drafts). A request
admitted and still prefilling holds its whole clipped output (as the batch that took it; ASSUMPTION: a prompt
chunked over several iterations keeps it until it decodes, where SGLang counts it only at its last chunk); a decoding
one min(output left, 4096) x the ratio. A pure-decode stretch leapt in closed form stops before the iteration after
which the decaying ratio lets the queue's head start (`leap_cap`), so leaps keep the one-by-one loop's times.
"""

from __future__ import annotations

import numpy as np

INIT_RATIO = 0.7  # SGLANG_INIT_NEW_TOKEN_RATIO x schedule_conservativeness (1.0)
MIN_FACTOR = 0.14  # SGLANG_MIN_NEW_TOKEN_RATIO_FACTOR: the floor is the start x this
DECAY_STEPS = 600  # SGLANG_NEW_TOKEN_RATIO_DECAY_STEPS: from the start to the floor in this many decode batches
MIN_RATIO = INIT_RATIO * MIN_FACTOR
DECAY = (INIT_RATIO - MIN_RATIO) / DECAY_STEPS  # per decode batch
CLIP_TOKENS = 4096  # CLIP_MAX_NEW_TOKENS: a request's output counted at most this much
RETRACT_STEPS = 20  # SGLANG_RETRACT_DECODE_STEPS: tokens per kept request in the ratio after a retraction
NEVER = 1 << 100  # the engine loops' heap sentinel (`loop_stepping.NEVER`)


class OutputReserve:
    """One engine run's reserve state (module docstring). `todo`, `steps`: the loop's lists (prompt tokens left to
    compute, decode steps after the first token; read as the loop mutates them at a preemption); `growth`: tokens a
    decode step appends; `block_tokens`: tokens per pool block. The loop keeps `dec_end` (the decoding requests'
    sum of last decode iteration) and `ratio`; `open` before a round of picks, `admits` per pick."""

    def __init__(self, todo: list[int], steps: list[int], growth: float, block_tokens: int,
                 scale: float = 1.0) -> None:
        self.todo, self.steps, self.g, self.bt = todo, steps, growth, block_tokens
        # `scale`: schedule_conservativeness (0.3 under SGLang's DP attention, `IterationCost.reserve_scale`, hG73):
        # the start, floor and decay all scale with it (scheduler.py:811-823); a retraction's ratio does not
        self.init = min(INIT_RATIO * scale, 1.0)
        self.floor = self.init * MIN_FACTOR
        self.step = (self.init - self.floor) / DECAY_STEPS
        # output tokens (in steps) of each request admitted, for the retraction ratio; whether one is clipped (both at
        # its first admission: a stepped engine's lists fill as its requests arrive, `serving.pair_loop`)
        self.max_new: dict[int, int] = {}
        self.clipped = False
        self.base, self.decays = self.init, 0  # the ratio: base less `decays` x its step, floored (`ratio`)
        self.dec_end = 0  # sum over decoding requests of the decode iteration of their last token
        self.held: dict[int, float] = {}  # admitted, not yet decoding: its whole clipped output (tokens)
        self.fresh = 0.0  # their sum
        self.offset = 0.0  # what the round's picks keep back from the free tokens

    def ratio(self, more: int = 0) -> float:
        """`new_token_ratio` now, or after `more` decode batches (counted as an int: leapt = stepped)."""
        r = self.base - (self.decays + more) * self.step
        return r if r > self.floor else self.floor

    def left(self, now: int, n_dec: int, heap: list[int], n: int) -> float:
        """Output tokens the decoding requests have left, each clipped at 4096, after `now` decode iterations
        (`heap`: the loop's finish keys, last iteration x `n` + request, `NEVER` at the bottom)."""
        if not self.clipped:
            return (self.dec_end - n_dec * now) * self.g
        return sum(min((k // n - now) * self.g, CLIP_TOKENS) for k in heap if k < NEVER)

    def open(self, now: int, n_dec: int, heap: list[int], n: int) -> None:
        """Start a round of picks: keep back the decoding outputs x the ratio and the prefilling requests' outputs."""
        self.offset = self.ratio() * self.left(now, n_dec, heap, n) + self.fresh

    def admits(self, j: int, free: int) -> bool:
        """Whether request j starts now with `free` pool blocks (its prompt blocks then leave them); if so it holds
        its clipped output until it decodes (`joined`)."""
        out = min((self.steps[j] + 1) * self.g, CLIP_TOKENS)
        if self.todo[j] + out >= free * self.bt - self.offset:
            return False
        if j not in self.max_new:
            self.max_new[j] = self.steps[j] + 1
            self.clipped = self.clipped or (self.steps[j] + 1) * self.g > CLIP_TOKENS
        if self.todo[j] > 0:  # it prefills here (a request arriving with its KV joins the decode batch at once)
            self.offset += out
            self.fresh += out
            self.held[j] = out
        return True

    def joined(self, finished: list[int] | tuple[int, ...], end_at: list[int]) -> None:
        """Prompts that finished: each decodes from now to its last iteration `end_at[j]` (none if no steps)."""
        for j in finished:
            self.fresh -= self.held.pop(j, 0.0)
            if self.steps[j] > 0:
                self.dec_end += end_at[j]

    def dropped(self, j: int) -> None:
        """A prefilling request preempted: it holds nothing until admitted again."""
        self.fresh -= self.held.pop(j, 0.0)

    def idle(self) -> None:
        """An idle scheduler: the ratio back to its start (`self_check_during_idle`)."""
        self.base, self.decays = self.init, 0

    def retracted(self, now: int, heap: list[int], n: int) -> None:
        """After a preemption: the ratio over the decoding requests kept (`retract_decode`). Tokens decoded: their
        max_new_tokens less the iterations each has left, summed as whole numbers over the heap's keys at C speed
        (hS2-77: a Python loop with a divmod a key; an SGLang serve-plan at --max-batch 16384 took 25.6 CPU s, now
        19.5 s; the same sums, so the same ratio)."""
        live = [k for k in heap if k < NEVER]
        ends, rows = np.divmod(np.array(live, dtype=np.int64), n)  # (keys: iteration x n + request, < 2**63)
        kept = len(live)
        total = sum(map(self.max_new.__getitem__, rows.tolist()))
        decoded = total - int(ends.sum()) + kept * now
        self.base, self.decays = min(1.0, (decoded * self.g + RETRACT_STEPS * kept) / (total * self.g + 1)), 0

    def leap_cap(self, k_max: int, head: int, need: int, now: int, n_dec: int, free: int, grow: list[int],
                 heap: list[int], n: int) -> int:
        """The decode iterations of a pure-decode stretch of at most `k_max` to leap (the event iteration runs one by
        one after them): one fewer than the first m <= k_max + 1 after which the queue's `head` (needing `need` prompt
        blocks) passes `admits`, each of the m decaying the ratio, taking its blocks (`grow`, per block residue, of
        `free`) and a step of every decoding request's output; k_max if none. Exact: the same sums `admits` takes."""
        bt, g = self.bt, self.g
        want = self.todo[head] + min((self.steps[head] + 1) * g, CLIP_TOKENS)
        left = self.left(now, n_dec, heap, n)
        for m in range(1, k_max + 2):
            free -= grow[(now + m) % bt]
            if need > free:  # the pool only shrinks in a pure-decode stretch: the head waits past it
                return k_max
            left = self.left(now + m, n_dec, heap, n) if self.clipped else left - n_dec * g
            if want < free * bt - self.ratio(m) * left - self.fresh:
                return m - 1 if m - 1 < k_max else k_max
        return k_max
