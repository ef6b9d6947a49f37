"""First token under a schedule-ahead engine loop: a new request joins the iteration after the one already launched.

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
the Hopper serving sets: `validation.serving_hopper_moe` docstring, round 13.
"""

from __future__ import annotations

import numpy as np

from infraplan.serving.engines import serving_profile

SCHEDULE_AHEAD = True  # the stacks' `schedule_ahead` priced (module docstring); False: every loop synchronous


def shift_s(first_token_s: np.ndarray, finish_s: np.ndarray, decode_steps: np.ndarray) -> np.ndarray:
    """Seconds each request's first token and finish move under a schedule-ahead loop: one of its own mean decode
    iterations (module docstring); 0 for a request without decode steps."""
    steps = np.asarray(decode_steps, dtype=np.float64)
    span = np.asarray(finish_s, dtype=np.float64) - np.asarray(first_token_s, dtype=np.float64)
    return np.where(steps > 0, span / np.maximum(steps, 1.0), 0.0)


def schedules_ahead(stack: str) -> bool:
    """Whether `stack`'s loop is priced as scheduling ahead: its serving profile's `schedule_ahead`, with
    `SCHEDULE_AHEAD` on."""
    profile = serving_profile(stack) if SCHEDULE_AHEAD else None
    return profile is not None and profile.schedule_ahead


def lagged(stack: str, first_token_s: np.ndarray, finish_s: np.ndarray,
           decode_steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first token, finish) seconds of a colocated run on `stack`: moved by `shift_s` where its serving profile
    schedules ahead (`schedule_ahead: true`, with `SCHEDULE_AHEAD` on), unchanged otherwise; `serve` and serve-plan's
    probes both read it, so they judge one TTFT."""
    if not schedules_ahead(stack):
        return first_token_s, finish_s
    lag = shift_s(first_token_s, finish_s, decode_steps)
    return first_token_s + lag, finish_s + lag
