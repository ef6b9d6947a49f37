"""First token under SGLang's scheduler receive interval: new requests are taken in every n decode iterations.

SGLang's `--scheduler-recv-interval n` (server_args.py `scheduler_recv_interval: int = 1`, sglang 0.5.8.post1 :605,
0.5.9 :630, 0.5.10.post1 :664; help "The interval to poll requests in scheduler. Can be set to >1 to reduce the
overhead of this", 0.5.9 :4742-4747) makes the scheduler skip its receive poll: `Scheduler.recv_requests` returns no
request unless `SchedulerRecvSkipper.handle` says so (0.5.9 managers/scheduler.py:1218-1227), which adds the last
batch's weight to a counter and polls when it reaches n (managers/scheduler_recv_skipper.py:13-37): weight 1 after a
decode (or target-verify) iteration and while idle, 1000 after any other (prefill / mixed) iteration
(environ.py:232-235 `SGLANG_SCHEDULER_RECV_SKIPPER_WEIGHT_*`), so the loop polls right after a prefill and then once
every n decode iterations. Default 1: no skipper (`maybe_create`, :8-11), every loop head polls, as the model's
loops take arrivals. Not with attention DP (the skipper asserts `not enable_dp_attention`, :15):
`attention_dp_refusal`, which `serve` and `serve-plan` ask.

A request that reaches the scheduler during a stretch of decode iterations waits for the next poll: 0 to n - 1
iterations more than it would with every loop head polling, (n - 1) / 2 on average. Priced after the engine's run,
as `serving.schedule_ahead` prices its one-iteration lag (`shift_s`): each request's first token and finish move by
(n - 1) / 2 of its own mean decode iterations, (finish - first token) / decode steps. ASSUMPTIONS: the request's
arrival falls at a uniformly random phase of the poll cycle (the closed-loop clients' requests end at unrelated
iterations), the engine is decoding when it arrives (closed-loop benchmarks keep it busy), and the wait does not
delay the client's next request in the simulated loop (as the schedule-ahead lag, `serving.client_loop`). Where
n > 1 is set: the stack's `recv_interval_iterations` (no shipped profile sets it: SGLang's default is 1; the
Blackwell set's InferenceX SGLang campaigns run it, `validation.campaign_settings.sglang_recv_interval`).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.engines import serving_profile
from infraplan.serving.schedule_ahead import shift_s

RECV_INTERVAL = True  # the stacks' `recv_interval_iterations` priced (module docstring); False: every loop head polls


def recv_interval(stack: str) -> int:
    """Decode iterations between two receive polls of `stack`'s scheduler: its serving profile's
    `recv_interval_iterations` with `RECV_INTERVAL` on, else 1 (every loop head polls)."""
    profile = serving_profile(stack) if RECV_INTERVAL else None
    return profile.recv_interval_iterations if profile is not None else 1


def attention_dp_refusal(stack: str, attention_dp: int) -> str | None:
    """Why `stack` cannot run a replica of `attention_dp` > 1 attention ranks, else None: its receive interval n > 1
    is SGLang's skipper, which refuses attention DP (module docstring: `maybe_create` asserts `not
    enable_dp_attention`, scheduler_recv_skipper.py:15), so `serve` and `serve-plan` refuse it rather than price a
    server that does not start."""
    interval = recv_interval(stack)
    if attention_dp <= 1 or interval <= 1:
        return None
    return (f"stack {stack}: a receive interval of {interval} decode iterations (recv_interval_iterations, SGLang's "
            f"--scheduler-recv-interval) does not run with attention DP {attention_dp} (sglang 0.5.9 "
            "managers/scheduler_recv_skipper.py:15 asserts not enable_dp_attention); use attention DP 1 or a stack "
            "with recv_interval_iterations 1")


def poll_wait_s(first_token_s: np.ndarray, finish_s: np.ndarray, decode_steps: np.ndarray,
                interval: int) -> np.ndarray:
    """Mean seconds a request waits for the next receive poll (module docstring): (interval - 1) / 2 of its own mean
    decode iterations; 0 for a request without decode steps or at interval 1."""
    return (interval - 1) / 2.0 * shift_s(first_token_s, finish_s, decode_steps)


def polled(stack: str, first_token_s: np.ndarray, finish_s: np.ndarray,
           decode_steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first token, finish) seconds of a colocated run on `stack`, moved by `poll_wait_s` where its scheduler polls
    for new requests every n > 1 decode iterations; unchanged otherwise."""
    interval = recv_interval(stack)
    if interval <= 1:
        return first_token_s, finish_s
    wait = poll_wait_s(first_token_s, finish_s, decode_steps, interval)
    return first_token_s + wait, finish_s + wait
