"""A sweep's work, estimated before it runs: its points x a floor on one point's CPU seconds for its function.

`sweep` took any spec of up to `spec.MAX_POINTS` (10**9) points and said nothing of the time: 10**9 `collective`
points are ~3-9 CPU-days (hH70's note, session 49: 0.75 ms a point then; 0.25 ms here). Now the estimate is taken
first: past `limits.MAX_SWEEP_CPU_S` (a CPU-day) the sweep is refused in one line naming the limit and its override
(`--max-cpu-hours`, `run_sweep(max_cpu_s=...)`), before its folder is made; past `SWEEP_WARN_CPU_S` (a CPU-hour) the
estimate and its wall time on the backend's workers are said before the first point runs (`SweepWorkWarning`, one
line on stderr).

Each figure is a FLOOR of one point's CPU seconds (CPU time of one process, `time.process_time`, after a warm-up
point; hQ80, 2026-12-04, the 2-core dev VM at load 5-8, /tmp/hQ80/time_points.py; and the README's Speed
benchmarks), taken at or below the cheapest measured point, so a refusal never overstates the work: a point that
costs more (a larger search, a flow simulation, a longer serving run) makes the sweep longer than said, not
shorter. A function outside the registry (`package.module:function`) has no figure: no estimate, no refusal.

A resumed sweep (its folder holds results) is estimated on the points it still has to run, not on all of its
spec's (hW51: `--max-cpu-hours` refused the rerun of an interrupted sweep whose rest fitted); the runner counts
them (`sweep.runner.points_to_run`).
"""

from __future__ import annotations

import statistics
import warnings
from dataclasses import dataclass
from typing import Any

from infraplan.errors import InputError
from infraplan.limits import MAX_SWEEP_CPU_S
from infraplan.sweep.spec import SweepSpec, axis_values

SWEEP_WARN_CPU_S = 3600.0
"""A sweep estimated past a CPU-hour says its estimate before it runs."""
POINT_CPU_S: dict[str, float] = {
    "train": 1.5e-4,  # batched 2,000 a task: 0.172 ms measured; 100,032 in 8.4 s on 2 workers (README Speed): 0.168
    "collective": 2.5e-4,  # analytical: 0.253 ms measured (all-reduce, 64-4,096 GPUs); 0.75 ms in hH70's note
    "facility": 4.5e-4,  # 0.497 ms measured (dgx-h100-superpod)
    "campus": 6.0e-3,  # 6.35 ms measured (100-120 MW of H100)
    "search": 0.016,  # GPT-3 175B on 4,096 H100: 16 ms (README Speed); Llama 3 70B on 256 / 1,024 GPUs: 39 ms
    "serve-plan": 0.14,  # Llama 3 8B chat, 5-10 requests/s on H100: 148 ms; 1.7 s at 150/s on H200 (limits)
}
"""Registered function -> the floor of one point's CPU seconds (module docstring); `serve` by `serve_point_cpu_s`."""
SERVE_FIXED_CPU_S = 0.01  # one `serve` point's set-up: 22 ms measured at 2,000 requests (Llama 3 8B chat, H100)
SERVE_REQUEST_CPU_S = 2.1e-6  # a simulated request: 1 M requests online in 2.15 s CPU (README Speed)
SERVE_DEFAULT_REQUESTS = 2000  # `serving.serve_inputs.DEFAULT_REQUESTS` (a closed loop may run more: a floor)


class SweepWorkWarning(UserWarning):
    """A sweep estimated to take more than `SWEEP_WARN_CPU_S` of CPU."""


@dataclass(frozen=True)
class SweepWork:
    """The estimate: points, the floor of a point's CPU seconds, their product; `of`: the spec's points where only
    `points` of them are still to run (a resumed sweep), else None."""

    points: int
    point_cpu_s: float
    of: int | None = None

    @property
    def cpu_s(self) -> float:
        return self.points * self.point_cpu_s


def _mean_argument(spec: SweepSpec, name: str) -> Any:
    """`name`'s value over the sweep's points: fixed, or the mean of its axis (each value of an axis comes in equally
    many points, in a product and a zip alike); None where it is not given or not a number."""
    if name in spec.fixed:
        return spec.fixed[name]
    for group in spec.axes:
        axis = (group.product or group.zip or {}).get(name)
        if axis is not None:
            values = [v for v in axis_values(axis) if isinstance(v, int | float) and not isinstance(v, bool)]
            return statistics.fmean(values) if values else None
    return None


def serve_point_cpu_s(requests: Any) -> float:
    """The floor of one `serve` point's CPU seconds at `requests` simulated requests (None: the default)."""
    count = requests if isinstance(requests, int | float) and not isinstance(requests, bool) else None
    return SERVE_FIXED_CPU_S + SERVE_REQUEST_CPU_S * (count or SERVE_DEFAULT_REQUESTS)


def sweep_work(spec: SweepSpec, left: int | None = None) -> SweepWork | None:
    """The sweep's estimated work, or None for a function with no figure (module docstring); `left`: the points
    still to run where the sweep resumes (None: all of them)."""
    total = spec.size()
    points, of = (total, None) if left is None or left >= total else (max(left, 0), total)
    if spec.function == "serve":
        return SweepWork(points, serve_point_cpu_s(_mean_argument(spec, "requests")), of)
    if spec.function in POINT_CPU_S:
        return SweepWork(points, POINT_CPU_S[spec.function], of)
    return None


def cpu_time_text(seconds: float) -> str:
    """CPU seconds as a reader takes them: '0.0003 CPU-s', '42 CPU-s', '3.1 CPU-hours', '1 CPU-day', '2.9 CPU-days'
    (under 10 s two significant figures: a refusal of 0.3 ms of work under a 0.1 ms limit read '0 CPU-s, above the
    limit of 0 CPU-s')."""
    if seconds < 10.0:
        return f"{seconds:.2g} CPU-s"
    if seconds < 3600.0:
        return f"{seconds:,.0f} CPU-s"
    value, unit = (seconds / 3600.0, "hour") if seconds < 86400.0 else (seconds / 86400.0, "day")
    shown = f"{value:,.1f}".removesuffix(".0")
    return f"{shown} CPU-{unit}" + ("" if shown == "1" else "s")


def _said(spec: SweepSpec, work: SweepWork) -> str:
    points = f"{work.points:,}" if work.of is None else f"{work.points:,} of {work.of:,}"
    still = "" if work.of is None else " still to run"
    return (f"{points} {spec.function} points{still} x at least {work.point_cpu_s * 1e3:.3g} ms CPU each = at least "
            f"{cpu_time_text(work.cpu_s)}")


def check_sweep_work(spec: SweepSpec, max_cpu_s: float | None = MAX_SWEEP_CPU_S,
                     left: int | None = None) -> SweepWork | None:
    """The sweep's estimate (`sweep_work`, on the `left` points still to run); InputError past `max_cpu_s` CPU
    seconds (None: no limit)."""
    work = sweep_work(spec, left)
    if work is not None and max_cpu_s is not None and work.cpu_s > max_cpu_s:
        named = "infraplan.limits.MAX_SWEEP_CPU_S" if max_cpu_s == MAX_SWEEP_CPU_S else "--max-cpu-hours"
        hours = -(-work.cpu_s // 3600.0)
        raise InputError(f"sweep of {_said(spec, work)}, above the limit of {cpu_time_text(max_cpu_s)} ({named}); "
                         f"split its axes, or pass --max-cpu-hours {hours:.0f} (or more) to run it")
    return work


def warn_sweep_work(spec: SweepSpec, work: SweepWork | None, workers: int) -> None:
    """A `SweepWorkWarning` with the estimate and its wall time on `workers` processes (the backend's: a local pool's,
    a Ray cluster's CPUs) where it passes `SWEEP_WARN_CPU_S`."""
    if work is not None and work.cpu_s > SWEEP_WARN_CPU_S:
        wall = cpu_time_text(work.cpu_s / max(workers, 1)).replace(" CPU-", " ")
        warnings.warn(f"sweep of {_said(spec, work)}: ~{wall} on {workers} workers at best (Ctrl-C saves what "
                      "finished; the same command resumes)", SweepWorkWarning, stacklevel=2)
