"""Steady-state output rate of an open-loop run: output tokens completed while requests still arrive, and the
steady served rate the per-token cost and energy are taken over.

The serving report's `output_tokens_per_s` is the whole run's: all output tokens over first arrival to last finish,
the drain tail after the last arrival included. That is the benchmark convention (vLLM `benchmark_serving.py`
`calculate_metrics`: `output_throughput = total_output / dur_s`, `dur_s` the benchmark's wall time until the last
response; MLPerf LoadGen's Server "Completed tokens per second", results.cc:446-455, token_count over the time until
the last-issued query is done, `validation.loadgen`), and it stays as it is: validation scores it.

Beside it, `output_tokens_per_s_while_arriving`: the output tokens completed between the first and the last arrival,
over that window W (definition of this project, not a benchmark's: tokens counted while the load is applied). It
leaves the drain tail out; the ramp-up stays in (the window opens on an empty engine), so a run that keeps up with
its load (offered rate: arrival rate x mean output) reads low by about E / (2 W), E the mean end-to-end latency,
where the whole-run figure reads low by about E / (W + E): 400 requests at 4 req/s, 512 output tokens, Llama 3 8B
FP8 on one H100 (E = 2.57 s, W = 99.75 s): -1.2 % against -2.2 % (tests/serving/test_steady_state.py). An overloaded
run reads its capacity here, and a lower whole-run figure still (the queue drains after the last arrival).

Token times: a request's first token at its first-token time; its other `out - 1` tokens evenly spaced up to its
finish (ASSUMPTION: a steady decode pace within a request, the serving report's own TPOT definition, (finish -
first) / (out - 1)). All times are what the client sees (the front-end time included), as for the whole-run figure.
None when the window is empty (offline: every request at t = 0; a single request).

`served_tokens_per_s` (`steady_output_tokens_per_s`, hJ57): the rate a fleet serving this load around the clock
serves, which its per-token cost and energy are taken over (`serving_metrics.summarize`): a provider's $ per million
tokens is its fleet's cost per second over the tokens it serves per second at a sustained load. Where the run keeps
up, the offered rate (arrival rate x mean output, `offered_tokens_per_s`): conservation; neither measured rate gives
it (the whole run's drain, the window's ramp: Llama 3 70B chat at 2,000 requests/s on 632 H100, serve-plan's answer
of README's plan example: whole run 193.7 k, while arriving 311.2 k, offered 385.8 k tokens/s, hG57). Where it does
not, its capacity C: the work waiting grows by (offered - C) tokens a second and a new arrival waits for it at C, so
the end-to-end latency of later arrivals grows by g = offered / C - 1 per second of arrival (first-come first-served,
the fluid limit: conservation, no distribution assumed), and the served rate is C = offered / (1 + g) (`wait_growth`,
least squares over the requests arriving in the later half of the arrival window: the first holds the ramp). A run
that keeps up reads g = 0 up to its sampling noise (clipped at 0; a positive draw reads the rate low by g: 1 H100,
Llama 3 8B fp8, chat at 10 requests/s, 4,000 requests: 1,957.6 of 1,958.3 tokens/s offered). Checked on an overload
(the same at 40 requests/s: offered 7,833, g = 0.370, C = 5,718 tokens/s; tokens completed over the later half of the
window 5,636, the last quarter 5,785, the whole window 5,299 with its ramp, the whole run 5,357). A closed loop's
arrivals are its clients' cycles: its offered rate is the loop's own while they cycle. Over all its sends it reads
high: its N clients send their first requests together at the start (N sends at once, then N a cycle), so n sends over
n / N - 1 cycles read N (n - 1) / (n - N) a cycle, 11 % high at serve's default 10 requests a client (Llama 3 8B fp8 on
one H100, 32 clients, 512 / 256 tokens: 5,797 tokens/s at 320 requests, 5,397 at 1,280, 5,306 at 5,120, hO58). Where
its dynamic draw is read over a window (`serving.window_marks.ClosedCuts`: the middle request's send to the end of the
first client's last request, every client cycling), its served rate is the output tokens completed in that window
per second (`window_tokens_per_s`, `CLOSED_WINDOW_RATE`), a measure that fixed-length clients' waves do not bias
(their sends come N at a time: sends counted over a span read one wave too many, 5,521 tokens/s at 1,280 requests
above and 5,335 at 5,120 over the later half of the sends); per-token energy and cost over one window.

`short_run_note`: an open-loop `serve --rate` run whose arrivals span fewer than serve-plan's STEADY_SPANS mean
end-to-end latencies (`serving.capacity_candidate`: a probe sends at least STEADY_SPANS x the requests a replica holds,
rate x latency by Little's law) is mostly warm-up and drain: its latencies and SLO attainment are those of an engine
still filling, and an overload's queue has no time to build. Found on a published MLPerf row (hO, session 53,
validation/notes/out_of_sample_s53/serving_oos.py): Llama 2 70B fp8 on 8 H200 at 100 requests/s, 300 / 290 tokens,
read 100 % SLO attainment (TTFT <= 2 s, TPOT <= 200 ms; TTFT p99 0.27 s; 2,000 requests over 20 s, mean end-to-end
14 s) where 20,000 requests read 17.6 % (TTFT p50 15.2 s: the backlog grows; serve-plan asks 9 H200 at 101.8
requests/s and its own serve command sends 36,864 requests).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from infraplan.units import significant_text

# What the per-token cost and energy are taken over (serving_metrics.summarize), said in the output
STEADY_BASIS = ("per output token at the steady served rate (steady_output_tokens_per_s): a fleet that serves the "
                "load around the clock pays its accelerators' price and idle + host power every second over the "
                "tokens it serves each second, the dynamic energy per token on top; the served rate is the "
                "offered rate (arrival rate x mean output) where the run keeps up, its capacity where it does not "
                "(offered / (1 + g), g the end-to-end latency growth per second of arrival over the later half of "
                "the arrival window); offline (every request at once): the whole run")
# a closed loop with window marks (`serving.window_marks.ClosedCuts`) reads its served rate over the window of its
# dynamic draw (module docstring, hO58); False: over all its sends, the first wave's cycles in
CLOSED_WINDOW_RATE = True
STEADY_SPANS = 4  # mean latencies an open-loop run must span to read a steady state (serve-plan's probes:
# `capacity_candidate`'s steady-state comment; `short_run_note`)


def tokens_in_window(first_s: np.ndarray, finish_s: np.ndarray, output_tokens: np.ndarray,
                     start_s: float, end_s: float, tpot_s: np.ndarray | None = None) -> float:
    """Output tokens completed in [start_s, end_s]: first token at `first_s`, the rest evenly up to `finish_s`.

    `tpot_s`: the caller's (finish - first) / (output - 1) where output > 1 (any value elsewhere), if it has it."""
    first = np.asarray(first_s, dtype=np.float64)
    out = np.asarray(output_tokens).astype(np.int64, copy=False)
    first_in = np.count_nonzero((first >= start_s) & (first <= end_s) & (out >= 1))
    decode = out - 1
    np.maximum(decode, 0, out=decode)
    # decode token k (1..decode) completes at first + k * step; a request without one counts none whatever its
    # step: k_hi <= decode = 0 < k_lo
    step = (np.asarray(finish_s, dtype=np.float64) - first) / np.maximum(decode, 1) if tpot_s is None else tpot_s
    with np.errstate(invalid="ignore", divide="ignore"):
        k_hi = np.subtract(end_s, first)
        np.divide(k_hi, step, out=k_hi)
        np.floor(k_hi, out=k_hi)
        rising = step > 0
        flat = np.flatnonzero(~rising)  # step 0 or NaN: few
        if flat.size:
            k_hi[flat] = np.where(first[flat] <= end_s, decode[flat], 0)
        np.nan_to_num(k_hi, copy=False, nan=0.0)
        np.minimum(k_hi, decode, out=k_hi)  # integer-valued floats, each <= decode < 2^53
        # k_lo = 1 where the first token is at or after the start and step > 0 (ceil((start - first) / step) <= 0,
        # -inf or NaN: 1 after nan_to_num and the clip), so the count k_hi - k_lo + 1 is k_hi there (integers below
        # 2^53, or at most -2^53: none either way); the formula on the rest
        early = np.flatnonzero(~((first >= start_s) & rising))
        if early.size:
            f, s = first[early], step[early]
            k_lo = np.where(s > 0, np.ceil((start_s - f) / s), np.where(f >= start_s, 1, decode[early] + 1))
            k_hi[early] = k_hi[early] - np.clip(np.nan_to_num(k_lo, nan=1.0), 1, None) + 1
    return float(first_in + np.maximum(k_hi, 0, out=k_hi).sum())


def tokens_per_s_while_arriving(arrival_s: np.ndarray, first_s: np.ndarray, finish_s: np.ndarray,
                                output_tokens: np.ndarray, tpot_s: np.ndarray | None = None) -> float | None:
    """Output tokens completed between the first and the last arrival over that window, tokens/s; None if empty
    (`tpot_s`: as `tokens_in_window`'s)."""
    if len(arrival_s) < 2:
        return None
    start_s, end_s = float(arrival_s.min()), float(arrival_s.max())
    if end_s <= start_s:
        return None
    return tokens_in_window(first_s, finish_s, output_tokens, start_s, end_s, tpot_s) / (end_s - start_s)


def offered_tokens_per_s(arrival_s: np.ndarray, output_tokens: np.ndarray) -> float | None:
    """The offered output rate, tokens/s: the arrival rate over the arrival window ((n - 1) gaps over its W seconds,
    the rate a Poisson stream's sample estimates) times the mean output length; None offline (W = 0)."""
    n = len(arrival_s)
    window = float(arrival_s.max() - arrival_s.min()) if n > 1 else 0.0
    return float(np.mean(output_tokens)) * (n - 1) / window if window > 0.0 else None


def wait_growth(arrival_s: np.ndarray, e2e_s: np.ndarray) -> float:
    """The least-squares slope of end-to-end latency on arrival time over the requests arriving in the later half of
    the arrival window (the first holds the ramp from an empty engine; rows in any order), seconds per second, at
    least 0."""
    if len(arrival_s) < 2:
        return 0.0
    later = (arrival_s >= 0.5 * (float(arrival_s.min()) + float(arrival_s.max()))) & np.isfinite(e2e_s)
    t, e = arrival_s[later], e2e_s[later]
    if t.size < 2:
        return 0.0
    dt = t - t.mean()
    spread = float(dt @ dt)
    return max(0.0, float(dt @ (e - e.mean())) / spread) if spread > 0.0 else 0.0


def served_tokens_per_s(arrival_s: np.ndarray, e2e_s: np.ndarray, output_tokens: np.ndarray) -> float | None:
    """The steady served output rate, tokens/s (`STEADY_BASIS`): the offered rate over 1 + the later arrivals' wait
    growth; None offline, and None for a run too short to read a steady state: its arrivals span fewer than
    STEADY_SPANS end-to-end latencies of its first tenth of arrivals (the latency before any queue: an overload's own
    growth must not count, as `short_run_note`'s mean would), so no queue has time to build and the wait growth reads
    an overload as keeping up (tests/cli/test_honest_output.py's 200 requests in 1.1 s read 35.4 k tokens/s "served"
    of 40 k offered where the whole run did 2.6 k, hO57): the caller then takes the whole run's rate."""
    offered = offered_tokens_per_s(arrival_s, output_tokens)
    if offered is None:
        return None
    arrival = np.asarray(arrival_s, dtype=np.float64)
    e2e = np.asarray(e2e_s, dtype=np.float64)[np.argsort(arrival, kind="stable")]
    first_e2e_s = float(e2e[:max(1, len(e2e) // 10)].mean())
    if float(arrival.max() - arrival.min()) < STEADY_SPANS * first_e2e_s:
        return None
    return offered / (1.0 + wait_growth(arrival_s, e2e_s))


def window_tokens_per_s(first_s: np.ndarray, finish_s: np.ndarray, output_tokens: np.ndarray,
                       window: tuple[float, float] | None, tpot_s: np.ndarray | None = None) -> float | None:
    """A closed loop's served rate (`CLOSED_WINDOW_RATE`, module docstring): the output tokens completed in its window
    (`serving.window_marks.closed_window`) over its seconds; None without one."""
    if window is None or not CLOSED_WINDOW_RATE or not window[1] > window[0]:
        return None
    return tokens_in_window(first_s, finish_s, output_tokens, window[0], window[1], tpot_s) / (window[1] - window[0])


def short_run_note(arrival_s: np.ndarray, result: dict[str, Any]) -> list[str]:
    """The note of an open-loop run (its arrivals, its serving report `result`) whose arrivals span fewer than
    STEADY_SPANS mean end-to-end latencies (module docstring), with the requests that would span them at the run's
    own latency (a floor: a run that fills more lasts longer); none for a longer run, one request, arrivals all at
    once, or a deployment that does not fit (no latencies)."""
    e2e_mean_s = float((result.get("e2e_s") or {}).get("mean") or 0.0)
    n = len(arrival_s)
    window = float(arrival_s.max() - arrival_s.min()) if n > 1 else 0.0
    if window <= 0.0 or not e2e_mean_s > 0.0 or window >= STEADY_SPANS * e2e_mean_s:
        return []
    need = math.ceil(STEADY_SPANS * e2e_mean_s * (n - 1) / window) + 1
    # the figures as every note writes them (`units.significant_text`: 1,234 s, not .3g's 1.23e+03 s, hL53)
    return [f"open loop: the {n:,} requests arrive over {significant_text(window, 3)} s, under {STEADY_SPANS} mean "
            f"end-to-end latencies ({significant_text(e2e_mean_s, 3)} s): the run is mostly the engine filling and "
            "draining, so its latencies and SLO attainment are not the steady state's (an overload's queue has no time "
            f"to build; serve-plan probes {STEADY_SPANS} latencies at least, serving.capacity_candidate) and its "
            "throughput reads low by about "
            f"E / (W + E) = {e2e_mean_s / (window + e2e_mean_s):.0%}; give --requests {need:,} or more"]
