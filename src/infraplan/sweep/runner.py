"""Run a sweep: expand the spec lazily, skip finished points, batch the rest, collect rows, commit parts.

`run_sweep(spec, out, backend=..., workers=..., address=...)` is the Python API of `infraplan sweep`. The
driver walks the points in spec order, keys each one (`key`: the point's content hash together with the
infraplan version, the catalog hash, the stack hash and the contents of any file an argument names, so a point
is recomputed exactly when something it depends on changed), drops those already in the folder (and repeats
within the spec), and cuts the rest into batches of the function's size (`train`: 2,000 points through the
vectorised model per task; a serving simulation: one). Batches go to the backend with at most 2 per worker in
flight. Finished rows are buffered and committed as a part every `flush_s` seconds (and at the end), so a
crash loses at most that much work; a rerun computes the rest.

Ctrl-C: the driver stops submitting, cancels what is in flight, commits what finished and returns with
`interrupted` set (the CLI exits 130). A press is noted in a flag as well as raised (`CtrlC`), and the loop checks
the flag after every batch: a library may swallow the KeyboardInterrupt (pyarrow did, see `CtrlC`). The manifest
says `complete: false` from the start of a run until its last point is saved (`ResultStore.mark`), so `infraplan
results` tells a folder left by Ctrl-C, a kill or a crash from a finished one. A progress bar (Rich) shows points
done, points/s and the ETA.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, cast

import pyarrow as pa
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from infraplan.limits import MAX_SWEEP_CPU_S
from infraplan.sweep.backends import Backend, Batch, make_backend
from infraplan.sweep.functions import (
    check_argument_kinds,
    check_arguments,
    check_axis_kinds,
    default_batch_size,
    resolve_callable,
)
from infraplan.sweep.results import SweepRun
from infraplan.sweep.spec import SweepSpec, content_hash, load_spec, point_id
from infraplan.sweep.store import MANIFEST, ResultStore, catalog_hash, file_hash, infraplan_version, stacks_hash
from infraplan.sweep.work_estimate import SweepWork, check_sweep_work, expected_work, sweep_work, warn_sweep_work


def point_key(function: str, arguments: Mapping[str, Any], seed: int) -> tuple[str, str, str]:
    """(key, point_id, stack_hash) of a point: its identity, and what its result depends on beyond it."""
    pid = point_id(function, arguments, seed)
    files = [f"{k}={h}" for k, v in arguments.items() if isinstance(v, str) and (h := file_hash(v))]
    stack = arguments.get("stack")
    stack_hash = _stack_hash((isinstance(stack, str) and file_hash(stack)) or "")
    return content_hash(pid, _environment(), stack_hash, *sorted(files)), pid, stack_hash


@lru_cache(maxsize=64)
def _stack_hash(stack_file_hash: str) -> str:
    return content_hash(stacks_hash(), stack_file_hash, size=8)


@lru_cache(maxsize=1)
def _environment() -> str:
    """What every result depends on beyond its point: the infraplan version and the catalog's contents."""
    return f"{infraplan_version()}/{catalog_hash()}"


class CtrlC:
    """While a sweep runs: SIGINT noted in `pressed`, then handed to the handler it replaces (Python's default
    raises KeyboardInterrupt), so a press a library swallows is still acted on when the loop checks the flag.

    pyarrow swallows it: every `pa.array` of Python values without a type infers one, and each inference tries
    `import dateutil.relativedelta` and drops whatever the import raises ("These are Optional imports so swallow
    errors": pyarrow 26.0.1, src/arrow/python/inference.cc:48-57, `ImportPresentIntervalTypes`, run by every
    `TypeInferrer`, line 416). Without dateutil installed that import searches sys.path in Python (~0.5 ms), and
    a Ctrl-C handled inside it raised KeyboardInterrupt there, which pyarrow discarded: in 2 of 30 loaded runs the
    1,000-point sweep then ran to its end with rc 0 (validation/notes/test_suite_cost_tried.md, hK41). Installed
    only in the main thread over a callable handler: an ignored SIGINT (SIG_IGN) stays ignored."""

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None

    def __enter__(self) -> CtrlC:
        previous = signal.getsignal(signal.SIGINT)
        if callable(previous) and threading.current_thread() is threading.main_thread():
            self._previous = previous
            signal.signal(signal.SIGINT, self._note)
        return self

    def _note(self, signum: int, frame: FrameType | None) -> None:
        self.pressed = True
        self._previous(signum, frame)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _batches(spec: SweepSpec, done: set[str], size: int, meta: dict[str, tuple[str, str, int]],
             counters: dict[str, int]) -> Iterator[Batch]:
    batch: list[tuple[str, dict[str, Any]]] = []
    for position, arguments in enumerate(spec.points()):
        key, pid, stack_hash = point_key(spec.function, arguments, spec.seed)
        if key in done:
            counters["skipped"] += 1
            continue
        done.add(key)  # a repeat later in the spec is the same point
        meta[key] = (pid, stack_hash, position)
        batch.append((key, arguments))
        if len(batch) >= size:
            yield spec.function, batch, spec.seed
            batch = []
    if batch:
        yield spec.function, batch, spec.seed


def run_sweep(spec: SweepSpec | str | Path | Mapping[str, Any], out: str | Path, backend: str | Backend = "local",
              workers: int | None = None, address: str | None = None, flush_s: float = 1.0,
              progress: bool = True, console: Console | None = None,
              max_cpu_s: float | None = MAX_SWEEP_CPU_S) -> SweepRun:
    """Run every point of `spec` not yet in `out`; return what was done (see the module docstring). A spec whose
    estimated work passes `max_cpu_s` CPU seconds (None: no limit) is refused before the folder is made
    (`sweep.work_estimate`)."""
    spec = spec if isinstance(spec, SweepSpec) else load_spec(spec)
    resolve_callable(spec.function)
    check_arguments(spec.function, spec.argument_names())
    check_axis_kinds(spec.function, {name: axis for group in spec.axes for name, axis in
                                     (group.product or group.zip or {}).items() if isinstance(axis, list)})
    check_argument_kinds(spec.function, {**{k: [v] for k, v in spec.fixed.items()}, **{
        k: column for group in spec.axes for k, column in zip(group.names, group.columns(), strict=True)}})
    work = check_sweep_work(spec, max_cpu_s, points_to_run(spec, out, max_cpu_s))
    store = ResultStore(out, spec.function, spec.model_dump(mode="json"))  # holds the folder's writer lock
    try:
        run = _run(spec, store, out, backend, workers, address, flush_s, progress, console, work)
    finally:
        store.close()
    return run.model_copy(update={"estimated_cpu_s": None if work is None else work.cpu_s})


def points_to_run(spec: SweepSpec, out: str | Path, max_cpu_s: float | None = None) -> int | None:
    """How many of the spec's points a run into `out` still has to compute, for its work estimate (hW51): None
    where the folder holds no results (all of them) or the function has no estimate. The spec's points less the
    folder's rows, a floor (the folder may hold rows of points this spec no longer has), unless that floor fits
    `max_cpu_s` while all the points do not: then the points are keyed as `_batches` keys them and those not in the
    folder counted (a repeat counted again, as a fresh sweep's estimate counts it). A rerun within its limit, or
    refused on the floor (a 10**9-point spec), costs no walk of the spec."""
    work = sweep_work(spec)
    if work is None or not (Path(out) / MANIFEST).is_file():
        return None
    done = ResultStore(out, spec.function, create=False).done_keys()  # read only: no lock, nothing dropped
    if not done:
        return None
    total = spec.size()
    floor = max(total - len(done), 0)
    if max_cpu_s is None or total * work.point_cpu_s <= max_cpu_s or floor * work.point_cpu_s > max_cpu_s:
        return floor
    return total - sum(point_key(spec.function, arguments, spec.seed)[0] in done for arguments in spec.points())


def _run(spec: SweepSpec, store: ResultStore, out: str | Path, backend: str | Backend, workers: int | None,
         address: str | None, flush_s: float, progress: bool, console: Console | None,
         work: SweepWork | None) -> SweepRun:
    store.mark(complete=False)  # until the last point is saved: a kill or a crash leaves the folder marked incomplete
    done = store.done_keys()
    runner = make_backend(backend, workers, address) if isinstance(backend, str) else backend
    warn_sweep_work(spec, work, runner.workers)  # past a CPU-hour, the estimate on the backend's workers
    expected = expected_work(spec, work, runner.workers)  # start-up + points at their typical cost (hP77)
    size = spec.batch_size or default_batch_size(spec.function)
    meta: dict[str, tuple[str, str, int]] = {}
    counters = {"skipped": 0, "run": 0, "failed": 0}
    errors: dict[str, int] = {}  # error line -> its first point's position in the spec
    buffer: list[pa.Table] = []
    common = {"function": (spec.function, pa.string()), "sweep_seed": (spec.seed, pa.int64()),
              "infraplan_version": (infraplan_version(), pa.string()), "catalog_hash": (catalog_hash(), pa.string())}
    interrupted = finished = False
    start = last_flush = time.perf_counter()
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    bar = Progress(*columns, console=console or Console(stderr=True), disable=not progress, transient=False)
    total = spec.size()
    stream = cast(Generator[Any, None, None],
                  runner.map_unordered(_batches(spec, done, size, meta, counters), max_in_flight=2 * runner.workers))
    try:
        with bar, CtrlC() as ctrl_c:
            task = bar.add_task(f"{spec.function} ({runner.name})", total=total, rate="")
            for _, table in stream:
                ids = [meta.pop(key) for key in table.column("key").to_pylist()]
                n = table.num_rows
                for name, (value, kind) in common.items():  # typed: no inference, no swallowed Ctrl-C (CtrlC)
                    table = table.append_column(name, pa.array([value] * n, type=kind))
                table = table.append_column("point_id", pa.array([pid for pid, _, _ in ids], type=pa.string()))
                table = table.append_column("stack_hash", pa.array([h for _, h, _ in ids], type=pa.string()))
                failed = [(e, i[2]) for e, i in zip(table.column("error").to_pylist(), ids, strict=True) if e]
                counters["failed"] += len(failed)
                _keep_first_errors(errors, failed)
                buffer.append(table)
                counters["run"] += n
                elapsed = time.perf_counter() - start
                bar.update(task, completed=counters["run"], total=max(total - counters["skipped"], counters["run"]),
                           rate=f"{counters['run'] / max(elapsed, 1e-9):,.0f} points/s")
                if time.perf_counter() - last_flush >= flush_s:
                    store.append(buffer)
                    buffer, last_flush = [], time.perf_counter()
                if ctrl_c.pressed:  # a Ctrl-C whose KeyboardInterrupt a library swallowed
                    raise KeyboardInterrupt
        finished = True
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stream.close()  # cancels what is still in flight
        if isinstance(backend, str):
            runner.close()
        store.append(buffer)
        store.mark(complete=finished)
    elapsed = time.perf_counter() - start
    return SweepRun(directory=str(out), function=spec.function, backend=runner.name, workers=runner.workers,
                    points=total, points_skipped=counters["skipped"], points_run=counters["run"],
                    points_failed=counters["failed"], rows=store.rows(), interrupted=interrupted,
                    wall_time_s=elapsed, points_per_s=counters["run"] / max(elapsed, 1e-9),
                    errors=sorted(errors, key=errors.__getitem__),
                    expected_cpu_s=None if expected is None else expected.expected_cpu_s)


def _keep_first_errors(errors: dict[str, int], failed: list[tuple[str, int]], keep: int = 5) -> None:
    """Keep in `errors` the `keep` distinct lines whose first failed point comes first in the spec: batches finish
    in any order (workers, backends), and the lines a run reports must not depend on it."""
    for error, position in failed:
        errors[error] = min(position, errors.get(error, position))
        if len(errors) > keep:
            del errors[max(errors, key=errors.__getitem__)]
