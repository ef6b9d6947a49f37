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

The floor is what a refusal reads; what a sweep is EXPECTED to cost is another figure, `SweepWork.expected_cpu_s`
(hP77): the floor was 50x under a serving sweep's CPU (examples/sweeps/llama3-70b-serving.yaml: 0.38 CPU-s said,
2.2-2.6 CPU-s of driver and workers measured here, 10.6 s wall on a loaded VM) because a sweep pays, beside its
points, a start-up the floor leaves out: the driver imports the function's modules once (`serve`: 0.8 CPU-s of
serving imports), each worker warms its caches on its first point (`campus`: 0.44 s, a `serve` point 0.1-0.2 s), and
a worker whose `serve` runs pass `serving.fcfs_loop.COMPILE_AFTER` requests loads the loop's numba build (0.4 s from
numba's disk cache); and a short `serve` run goes through the loop as written (7.6-16 us a request, fcfs_loop.py),
not at the compiled 2.1 us of the 1 M-request benchmark. `expected_cpu_s` = `start_cpu_s` (driver + each worker used)
+ the points at their typical cost (`serve`: requests as written up to COMPILE_AFTER a worker, compiled past it);
measured on this code on the 2-core dev VM at load 4-5 (`process_time`, /tmp/hP/imp.py, /tmp/hP/measure.py). Not a
floor, not a bound: within ~2x on an idle-to-loaded machine; where numba's disk cache holds no build yet (a fresh
install) each worker builds it instead (`numba_cached`: 4.3 CPU-s a worker); a `search` or `serve-plan` point varies
with its question.
"""

from __future__ import annotations

import statistics
import warnings
from dataclasses import dataclass, replace
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
SERVE_AS_WRITTEN_REQUEST_CPU_S = 1.0e-5  # a request through the loop as written: 7.6-16 us (fcfs_loop.COMPILE_AFTER's
# note); 2,000-request Llama 3 70B points measured 28-54 ms before a worker's numba load, 11-19 ms after (hP77)
SERVE_NUMBA_LOAD_CPU_S = 0.4  # a worker's load of the loop's numba build from its disk cache: 0.41 s measured (hP77)
SERVE_NUMBA_COMPILE_CPU_S = 4.3  # ... and its build with no disk cache yet (a fresh install or clone): the serving
# example's workers took 10.4 CPU-s with an empty NUMBA_CACHE_DIR, 1.8 with it filled (2 workers; 3.9 s in one process)
DRIVER_START_CPU_S: dict[str, float] = {
    "serve": 0.8,  # the serving imports `resolve_callable` makes in the driver (forked workers inherit them): 0.79-0.83
    "serve-plan": 0.8,  # the same imports (capacity search): 0.79 s measured
    "train": 0.28, "search": 0.23,  # train_run's imports: 0.23-0.28 s
}
"""Registered function -> the driver's one-off CPU seconds before its first point (its modules' imports; hP77)."""
WORKER_START_CPU_S: dict[str, float] = {
    "serve": 0.1,  # a worker's first point over its later ones: 0.097-0.19 s (2,000-request Llama 3 70B)
    "serve-plan": 0.6,  # first point 0.66 s, second 0.08 s (Llama 3 8B chat on H100, 5-10 requests/s)
    "campus": 0.44,  # first point 0.44 s, later ones 2-6 ms (the catalog's and the layer model's caches)
    "collective": 0.37,  # first point 0.37 s, later ones 1 ms (the fabric's caches)
    "train": 0.1,  # a worker's CPU on the 192-point example, 0.13-0.15 s, less its points at 0.15 ms: ~0.1 s
}
"""Registered function -> each worker's one-off CPU seconds on its first point over its later ones (hP77)."""


class SweepWorkWarning(UserWarning):
    """A sweep estimated to take more than `SWEEP_WARN_CPU_S` of CPU."""


@dataclass(frozen=True)
class SweepWork:
    """The estimate: points, the floor of a point's CPU seconds, their product; `of`: the spec's points where only
    `points` of them are still to run (a resumed sweep), else None."""

    points: int
    point_cpu_s: float
    of: int | None = None
    expected_points_cpu_s: float | None = None
    """The points at their typical cost (not the floor), CPU seconds; None: the floor's product (`expected_cpu_s`)."""
    start_cpu_s: float = 0.0
    """The one-off start-up the floor leaves out: the driver's imports, each worker's first point, a numba load."""

    @property
    def cpu_s(self) -> float:
        """The floor: points x the floor of a point (what a refusal reads)."""
        return self.points * self.point_cpu_s

    @property
    def expected_cpu_s(self) -> float:
        """What the sweep is expected to cost, driver and workers together (module docstring): start-up + points."""
        points = self.cpu_s if self.expected_points_cpu_s is None else self.expected_points_cpu_s
        return self.start_cpu_s + points


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


def serve_points_cpu_s(points: int, requests: Any, workers: int) -> tuple[float, int]:
    """`points` `serve` points of `requests` requests each (None: the default) on `workers` processes: their typical
    CPU seconds (each worker runs its first COMPILE_AFTER requests as written, the rest compiled) and the number of
    workers that load the numba build (module docstring)."""
    from infraplan.serving.fcfs_loop import COMPILE_AFTER

    count = requests if isinstance(requests, int | float) and not isinstance(requests, bool) else None
    total = points * float(count or SERVE_DEFAULT_REQUESTS)
    used = max(min(workers, points), 1)
    as_written = used * min(total / used, float(COMPILE_AFTER))
    loads = used if total / used > COMPILE_AFTER else 0
    cpu_s = (points * SERVE_FIXED_CPU_S + as_written * SERVE_AS_WRITTEN_REQUEST_CPU_S
             + (total - as_written) * SERVE_REQUEST_CPU_S)
    return cpu_s, loads


def numba_cached() -> bool:
    """Whether the serving loop's numba build is in numba's disk cache (its index under NUMBA_CACHE_DIR where that is
    set, else beside `fcfs_core` in __pycache__): a worker then loads it (`SERVE_NUMBA_LOAD_CPU_S`), else builds it."""
    import os
    from pathlib import Path

    from infraplan.serving import fcfs_core

    pattern = "fcfs_core.fcfs_run-*.nbi"
    beside = Path(fcfs_core.__file__).parent / "__pycache__"
    folder = os.environ.get("NUMBA_CACHE_DIR")
    return any(Path(folder).rglob(pattern)) if folder else any(beside.glob(pattern))


def expected_work(spec: SweepSpec, work: SweepWork | None, workers: int) -> SweepWork | None:
    """`work` with its expected cost on `workers` processes (a local pool's, a Ray cluster's CPUs): the driver's and
    each worker used's start-up, and for `serve` its points at their typical cost (module docstring)."""
    if work is None:
        return None
    from infraplan.sweep.functions import default_batch_size

    batches = -(-work.points // max(spec.batch_size or default_batch_size(spec.function), 1))
    used = max(min(workers, batches), 1) if work.points else 0
    start = (DRIVER_START_CPU_S.get(spec.function, 0.0) if work.points else 0.0) + used * WORKER_START_CPU_S.get(
        spec.function, 0.0)
    points_cpu_s = None
    if spec.function == "serve" and work.points:
        points_cpu_s, loads = serve_points_cpu_s(work.points, _mean_argument(spec, "requests"), used)
        start += loads * (SERVE_NUMBA_LOAD_CPU_S if not loads or numba_cached() else SERVE_NUMBA_COMPILE_CPU_S)
    return replace(work, expected_points_cpu_s=points_cpu_s, start_cpu_s=start)


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
