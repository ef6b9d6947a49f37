"""Iteration-level scheduling policies of a serving engine, chosen by name from `SCHEDULERS`.

A policy decides, at every iteration of `serving_engine.simulate_engine`, which waiting requests start
(`pick`, called until it returns None) and how the token budget left after the decode tokens is cut into
prefill chunks (`schedule_prefill`). The engine owns everything else: KV block accounting, decode, the clock
and the closed-form decode jumps.

* `FcfsScheduler` ("fcfs"): continuous batching (Orca, Yu et al. OSDI'22) with chunked prefill (Sarathi-Serve,
  Agrawal et al. OSDI'24): requests start in arrival order while the batch has room and the KV cache holds
  their whole prompt and output (TensorRT-LLM's GUARANTEED_NO_EVICT: no preemption); every decoding sequence
  gets its token first, the rest of the budget goes to prompts in the order they started.
* `PrefillFirstScheduler` ("prefill-first"): SGLang's default event loop (python/sglang/srt/managers/scheduler.py,
  `get_next_batch_to_run`: a new prefill batch, if one can be formed, runs before the running decode batch;
  `--enable-mixed-chunk` is off by default, so prefill and decode never share an iteration; `--schedule-policy`
  "fcfs" for requests without a shared prefix; prompts longer than `--chunked-prefill-size` are chunked). While
  any started prompt has tokens left the iteration is prefill only, with the whole token budget, and every
  decoding sequence waits; decode resumes when no prompt is pending. Clients that arrive together therefore
  prefill together and decode together (waves), unlike the mixed policy where each iteration carries both.
* `WholePromptScheduler` ("fcfs-whole"): "fcfs" with chunked prefill off (TensorRT-LLM's default): prompts are
  never cut; one that does not fit the budget left waits, with every prompt behind it.
* `SglangPrefillAdder` ("sglang-adder"): SGLang's PrefillAdder with `--enable-mixed-chunk` and a
  `--max-prefill-tokens` below `--chunked-prefill-size` (AIConfigurator's generated SGLang workers): the head prompt
  takes what is left of it, a further prompt joins only whole and only below the input budget left; it is never cut
  into the remainder. Decode tokens first, as "fcfs".

SGLang's two ("prefill-first", "sglang-adder") admit under its PrefillAdder's output reserve on an on-demand engine
(`reserves_output`; `serving.output_reserve`: a prompt starts only with room for its output and a decaying share of the
running requests' outputs left), which the engine loops bind per run (`bind_reserve`) and keep up to date.

A new policy is one class with these methods plus one `SCHEDULERS` entry.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

from infraplan.errors import InputError
from infraplan.serving.output_reserve import OutputReserve

PrefillEntry = list[int]  # [request, prompt tokens left, tokens already in the KV cache]


class Scheduler(Protocol):
    """The policy of one engine; the engine calls it once per iteration (never per token)."""

    # True if a request never starts before one that waits ahead of it: arrivals behind a blocked queue then
    # cannot start either, so the engine may jump pure-decode stretches past them (closed form).
    head_of_line: bool
    # True if an iteration with prefill work runs prefill only (the decode batch waits); False: decode tokens
    # first, prefill in the rest of the budget (mixed iterations).
    prefill_first: bool
    # what the last `schedule_prefill` cut, for the iteration's price (`IterationCost.time`): its longest sequence,
    # cached + chunk (SGLang's short DSA path, hC64), its prompts' cached + chunk tokens (DeepGEMM's prefill clean pass
    # on vLLM, hC64) and its prompt chunks, finished or not (each samples a row, hC66); `FcfsScheduler` keeps them
    longest: int
    keys: int
    prompts: int
    # SGLang's output reservation at admission (`serving.output_reserve`), bound for an on-demand engine run by
    # `bind_reserve`; None: the prompt's blocks are the whole test
    reserve: OutputReserve | None

    def bind_reserve(self, todo: list[int], steps: list[int], growth: float, block_tokens: int,
                     on_demand: bool = True, scale: float = 1.0) -> OutputReserve | None:
        """An engine run starts: the policy's output reserve over its request lists (on demand only), or None;
        `scale`: its ratio's factor (`IterationCost.reserve_scale`)."""
        ...

    def pick(self, waiting: deque[int], need: list[int], free: int) -> int | None:
        """Remove and return the next waiting request to start now, or None to start no more this iteration.

        Called only while the batch is below its cap; `need[j]` KV blocks of the `free` ones are reserved
        for request j's whole prompt and output.
        """
        ...

    def schedule_prefill(self, prefill: deque[PrefillEntry], budget: int) -> tuple[int, float, list[int]]:
        """Cut at most `budget` tokens into prefill chunks of the started prompts in `prefill`.

        Updates the entries (tokens left, tokens done) and removes the finished ones, and sets `longest`, `keys` and
        `prompts`; returns (prefill tokens this iteration, query-key pairs of their attention, requests whose prompt
        finished).
        """
        ...


class FcfsScheduler:
    """First come, first served continuous batching with chunked prefill (TensorRT-LLM GUARANTEED_NO_EVICT)."""

    head_of_line = True
    prefill_first = False
    widest = 0  # the largest budget seen: the whole budget, from the first iteration (nothing decodes yet)
    longest = 0  # the last `schedule_prefill`'s longest sequence, cached + chunk (SGLang's short DSA path, hC64)
    keys = 0  # and its prompts' cached + chunk tokens (DeepGEMM's prefill clean pass on vLLM, hC64)
    prompts = 0  # and its prompt chunks, finished or not: each samples a row (`IterationCost`, hC66)
    reserves_output = False  # SGLang's policies: True (`serving.output_reserve`)
    reserve: OutputReserve | None = None

    def bind_reserve(self, todo: list[int], steps: list[int], growth: float, block_tokens: int,
                     on_demand: bool = True, scale: float = 1.0) -> OutputReserve | None:
        self.reserve = (OutputReserve(todo, steps, growth, block_tokens, scale) if self.reserves_output and on_demand
                        else None)
        return self.reserve

    def pick(self, waiting: deque[int], need: list[int], free: int) -> int | None:
        j = waiting[0]
        if need[j] <= free and (self.reserve is None or self.reserve.admits(j, free)):
            return waiting.popleft()
        return None

    def take(self, rest: int, budget: int, started: bool) -> int | None:
        """Tokens of a prompt with `rest` left to prefill in this iteration, with `budget` tokens left and `started`
        when an earlier prompt is already in it; None: this prompt and every one behind it wait. FCFS: any prompt
        is cut to the budget left."""
        return rest if rest < budget else budget

    def schedule_prefill(self, prefill: deque[PrefillEntry], budget: int) -> tuple[int, float, list[int]]:
        self.widest = max(self.widest, budget)
        p_tok = longest = keys = prompts = 0
        pairs = 0.0
        finished: list[int] = []
        for entry in prefill:
            c = self.take(entry[1], budget, p_tok > 0)
            if c is None:
                break
            prompts += 1
            pairs += c * (entry[2] + (c + 1) / 2.0)
            longest = max(longest, entry[2] + c)
            keys += entry[2] + c
            p_tok += c
            budget -= c
            entry[1] -= c
            entry[2] += c
            if entry[1] == 0:
                finished.append(entry[0])
            if budget <= 0:
                break
        for _ in finished:  # prompts finish in the order they started
            prefill.popleft()
        self.longest, self.keys, self.prompts = longest, keys, prompts
        return p_tok, pairs, finished


class PrefillFirstScheduler(FcfsScheduler):
    """SGLang's default: FCFS admission under its output reserve, prefill-only iterations ahead of decode, no mixed
    chunks."""

    prefill_first = True
    reserves_output = True


class WholePromptScheduler(FcfsScheduler):
    """FCFS mixed iterations with chunked prefill off ("fcfs-whole"): a prompt joins an iteration only if all of it
    fits the budget left after the decode tokens, and the prompts behind it wait (TensorRT-LLM with
    `enable_chunked_prefill: false`, its LLM API default and AIConfigurator's Dynamo engine templates, 0.2.0
    cli/templates/trtllm/dynamo/extra_engine_args.1.0.0rc3.yaml.j2:19; its micro-batch scheduler stops at the
    first context request over max_num_tokens, recalled from TensorRT-LLM's microBatchScheduler.cpp, not re-read).
    A prompt longer than the whole budget can never run (TensorRT-LLM rejects it): ValueError."""

    def take(self, rest: int, budget: int, started: bool) -> int | None:
        if rest <= budget:
            return rest
        if not started and rest > self.widest:
            raise ValueError(f"a {rest}-token prompt exceeds the {self.widest}-token budget with chunked prefill off")
        return None


class SglangPrefillAdder(FcfsScheduler):
    """SGLang's PrefillAdder on a mixed-chunk worker ("sglang-adder"). Source: sglang 0.5.6.post2
    managers/scheduler.py:1770-1780 (the adder gets max_prefill_tokens and chunked_prefill_size, each less the running
    decode batch when mixed chunk is on; schedule_policy.py:338-341), schedule_policy.py:454-470 (the chunked head
    request takes min(its rest, rem_chunk)), :570-660 `add_one_req` (a further request stops the batch when its input
    is >= the input budget left, :594 / :613; it joins whole when it fits the chunk budget left, :616, and is cut
    only when it does not, :634); 0.5.9 the same (:393-401, :591, :719-786). The budget passed here is the engine's
    `token_budget` (max_prefill_tokens, at most chunked_prefill_size) less the decode tokens; the first call has no
    decode batch, so `widest` is the whole budget. When the budget is the chunk size (max_prefill_tokens >= it, as
    SGLang's defaults 16384 / 8192) a further prompt is cut into the rest, as "fcfs". `CHUNKED_PREFILL_TOKENS`:
    SGLang's default chunked_prefill_size on 35-160 GiB GPUs (0.5.6.post2 server_args.py:803-817; 16384 above;
    ASSUMPTION: 8192 on every GPU; the GPU's, 16384 on the Blackwell set's SGLang ISL-8192 rows, whose budget ISL +
    1500 then never cuts a further prompt, moved 30 rows and that set 19.735 -> 19.742 %, hJ71: not adopted). The
    head prompt is capped at the budget too (SGLang caps it at the chunk budget
    only: differs with over 1,500 decoding sequences, never in the measured rows)."""

    CHUNKED_PREFILL_TOKENS = 8192
    reserves_output = True  # the same adder's output reserve (`serving.output_reserve`)

    def take(self, rest: int, budget: int, started: bool) -> int | None:
        cut_rest = self.widest >= self.CHUNKED_PREFILL_TOKENS  # the budget is the chunk: a further prompt is cut
        if started and rest >= budget and not cut_rest:  # add_one_req: input >= the input budget left
            return None
        return rest if rest < budget else budget


SCHEDULERS: dict[str, type[Scheduler]] = {"fcfs": FcfsScheduler, "prefill-first": PrefillFirstScheduler,
                                          "fcfs-whole": WholePromptScheduler, "sglang-adder": SglangPrefillAdder}


def make_scheduler(policy: str | Scheduler) -> Scheduler:
    """A scheduler instance from its registered name (or the instance itself)."""
    if isinstance(policy, str):
        if policy not in SCHEDULERS:
            raise InputError(f"unknown scheduler {policy!r} (a serving stack's `serving.scheduler`); choose from "
                             f"{', '.join(SCHEDULERS)}")  # a stack YAML's typo: one line, not a traceback
        return SCHEDULERS[policy]()
    return policy
