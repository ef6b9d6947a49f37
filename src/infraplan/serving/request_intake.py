"""When an engine loop takes a new request into an iteration, as a delay to its first token: schedule-ahead loops
(`lagged`, `shift_s`) and SGLang's scheduler receive interval (`polled`, `poll_wait_s`).

Both are the engine's scheduling loop, not the GPU's work: a request that arrives while iteration i runs joins a
later one, by the loop's own rule. Merged by hR62 from `serving.schedule_ahead` and `serving.sglang_recv_poll`
(moves only; the second prices its wait through the first's `shift_s`); their docstrings follow, in that order.

First token under a schedule-ahead engine loop: a new request joins the iteration after the one already launched.

Some engine loops schedule and launch iteration i + 1 before they wait for iteration i's results, so that the host's
scheduling hides under the GPU's work (the stack's `schedule_ahead`):

* vLLM with async scheduling, on by default in 0.16.0 and 0.18.0 (config/scheduler.py `async_scheduling` default
  None, resolved to True in config/vllm.py:647-687 of 0.16.0 / :718-752 of 0.18.0 unless speculative decoding other
  than EAGLE / MTP, or an executor other than mp / uni / external_launcher) and off in 0.12.0 (config/scheduler.py:131
  `async_scheduling: bool = False`, "we won't reach here until async scheduling is enabled by default",
  config/vllm.py:559-580). With it the executor keeps two batches in flight (`max_concurrent_batches` 2:
  v1/executor/multiproc_executor.py:469-472, uniproc_executor.py:62-63 of 0.18.0) and EngineCore.step_with_batch_queue
  (v1/engine/core.py:419-509) schedules and launches batch i + 1, then blocks on batch i; the busy loop drains new
  requests between two steps (run_busy_loop / _process_input_queue, :1127-1166).
* SGLang's overlap scheduler, on by default (server_args `disable_overlap_schedule: bool = False`: 0.5.1.post1 :250,
  0.5.6.post2 :522, 0.5.9 :596): `event_loop_overlap` receives requests at the loop head, schedules and launches
  batch i + 1, then processes batch i's result (managers/scheduler.py:800-828 / :1005-1055 / :1141-1173).

A request that arrives while iteration i runs is first scheduled when i's results are in, into iteration i + 2,
behind the i + 1 already launched: it waits one iteration more than under a synchronous loop, and its prefill and
every later token move by that iteration (TTFT and end-to-end latency grow, TPOT does not). Its first token still
leaves as its own iteration ends (the loop blocks on that iteration's results next).

Priced after the engine's run (`shift_s`): each request's first token and finish move by one of its own mean
decode iterations, (finish - first token) / decode steps, as `serving.disaggregated.decode_first_token_s` prices a
decode worker's pick-up. ASSUMPTIONS: the engine is busy when the request arrives (closed-loop benchmarks keep it
so); the iteration launched ahead lasts the request's mean decode iteration; the shift does not delay the client's
next request in the simulated loop unless `serving.client_loop.LAG_IN_CYCLE` is on (off: measured worse on the sets,
that module's docstring). A request with no decode step (one output token) is not moved. TensorRT-LLM's PyTorch
executor has an overlap scheduler too (aggregated workers run it: AIConfigurator 0.2.0 cli/backends/trtllm.py:116
`disable_overlap_scheduler` False), but its loop is not readable here (PyPI's tensorrt-llm wheels are stubs): the
TensorRT-LLM profiles leave the flag off (`serving.disaggregated` assumes it for decode pick-up only). Measured on
the Hopper serving sets: validation/notes/serving_hopper_moe_tried.md, round 13.

SGLang with speculative decoding (EAGLE, MTP as NEXTN) runs neither loop nor iteration mix of its profile
(`SGLANG_SPECULATIVE_LOOP`): `_handle_speculative_decoding` sets `disable_overlap_schedule = True` unless the
experimental SGLANG_ENABLE_SPEC_V2 is set (default False: environ.py:318 / :414), and `enable_mixed_chunk = False`
("Mixed chunked prefill is disabled because of using eagle speculative decoding"): sglang 0.5.6.post2
srt/server_args.py:1754-1765, 0.5.9 :2383-2395. So a drafting SGLang deployment is priced synchronous
(`schedules_ahead`: no one-iteration lag) and prefill-first (`loop_scheduler`: "sglang-adder", the mixed-chunk
PrefillAdder, or any other mixing policy a profile names, becomes SGLang's default "prefill-first";
`serving.schedulers`). vLLM keeps async scheduling under
EAGLE / MTP (above); TensorRT-LLM's profiles do not schedule ahead. Not modelled: the same function's default of 48
running requests when --max-running-requests is unset (0.5.6.post2 :1739-1743, 0.5.9 :2361-2365; the profiles carry
no "unset"). No scored validation row runs SGLang with drafts (every set bit-identical; what the 2026-03-25 SGLang
0.5.9 DeepSeek-R1 fp8 series would read as MTP with it: validation/notes/serving_blackwell_tried.md, round 20).

First token under SGLang's scheduler receive interval: new requests are taken in every n decode iterations.

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
as the schedule-ahead rule prices its one-iteration lag (`shift_s`): each request's first token and finish move by
(n - 1) / 2 of its own mean decode iterations, (finish - first token) / decode steps. ASSUMPTIONS: the request's
arrival falls at a uniformly random phase of the poll cycle (the closed-loop clients' requests end at unrelated
iterations), the engine is decoding when it arrives (closed-loop benchmarks keep it busy), and the wait does not
delay the client's next request in the simulated loop (as the schedule-ahead lag, `serving.client_loop`). Where
n > 1 is set: the stack's `recv_interval_iterations` (no shipped profile sets it: SGLang's default is 1; the
Blackwell set's InferenceX SGLang campaigns run it, `validation.campaign_settings.sglang_recv_interval`).
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.engines import ServingEngine, serving_profile

SCHEDULE_AHEAD = True  # the stacks' `schedule_ahead` priced (module docstring); False: every loop synchronous
SGLANG_SPECULATIVE_LOOP = True  # SGLang's drafts turn its overlap loop and mixed chunk off (module docstring)


def shift_s(first_token_s: np.ndarray, finish_s: np.ndarray, decode_steps: np.ndarray) -> np.ndarray:
    """Seconds each request's first token and finish move under a schedule-ahead loop: one of its own mean decode
    iterations (module docstring); 0 for a request without decode steps."""
    steps = np.asarray(decode_steps, dtype=np.float64)
    span = np.asarray(finish_s, dtype=np.float64) - np.asarray(first_token_s, dtype=np.float64)
    return np.where(steps > 0, span / np.maximum(steps, 1.0), 0.0)


def _sglang_drafts(engine: str, speculative_tokens: int) -> bool:
    """Whether SGLang runs drafts here, so its speculative settings hold (module docstring)."""
    return SGLANG_SPECULATIVE_LOOP and speculative_tokens > 0 and engine == "sglang"


def schedules_ahead(stack: str, speculative_tokens: int = 0) -> bool:
    """Whether `stack`'s loop is priced as scheduling ahead: its serving profile's `schedule_ahead`, with
    `SCHEDULE_AHEAD` on, but not SGLang's with `speculative_tokens` > 0 draft tokens (module docstring)."""
    profile = serving_profile(stack) if SCHEDULE_AHEAD else None
    return (profile is not None and profile.schedule_ahead
            and not _sglang_drafts(profile.engine, speculative_tokens))


def loop_scheduler(engine: ServingEngine, speculative_tokens: int = 0) -> str:
    """The iteration policy the engine runs (`serving.schedulers`): its profile's, but SGLang's default prefill-first
    with `speculative_tokens` > 0 draft tokens, whatever mixing policy the profile names (the mixed-chunk
    PrefillAdder, or fcfs as the mixed-chunk profile was until round 19: `enable_mixed_chunk = False` turns any mix
    off, module docstring; hR55: a profile's fcfs was kept)."""
    if _sglang_drafts(engine.engine, speculative_tokens):
        return "prefill-first"
    return engine.scheduler


def lagged(stack: str, first_token_s: np.ndarray, finish_s: np.ndarray,
           decode_steps: np.ndarray, speculative_tokens: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(first token, finish) seconds of a colocated run on `stack` (drafting `speculative_tokens` a step): moved by
    `shift_s` where its loop schedules ahead (`schedules_ahead`), unchanged otherwise; `serve` and serve-plan's
    probes both read it, so they judge one TTFT."""
    if not schedules_ahead(stack, speculative_tokens):
        return first_token_s, finish_s
    lag = shift_s(first_token_s, finish_s, decode_steps)
    return first_token_s + lag, finish_s + lag


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
