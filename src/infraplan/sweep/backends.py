"""Where batches run: a local process pool, or Ray tasks on a local or an existing cluster.

Both backends take an iterator of batches and yield (batch, rows) as batches finish, in any order, with at most
`max_in_flight` batches submitted and not yet collected: the iterator is pulled only when a slot frees up, so a
million-point sweep holds a few batches in memory, never the whole point list (back-pressure).

- `LocalBackend`: `concurrent.futures.ProcessPoolExecutor` with one worker per core (or `workers`). Workers
  ignore SIGINT (Ctrl-C is the driver's to handle). A worker that dies (killed, out of memory) breaks the pool:
  the pool is rebuilt and the batches in flight are resubmitted, each at most `retries` times; a batch that
  keeps killing its worker is reported as failed rows.
- `RayBackend`: `ray.remote(max_retries=retries)` tasks (Ray resubmits a task whose worker process died);
  `address=None` starts a local Ray instance with `workers` CPUs, `address="auto"` or "ray://host:10001" joins
  an existing cluster (Ray's own semantics). Tasks are collected with `ray.wait`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeAlias, TypeVar

import pyarrow as pa

from infraplan.errors import InputError
from infraplan.sweep.functions import run_batch
from infraplan.sweep.store import rows_to_table

Batch = tuple[str, list[tuple[str, dict[str, Any]]], int]
"""(function name, [(key, arguments), ...], seed): the arguments of one `run_batch` task."""
Rows: TypeAlias = Any  # a pyarrow.Table (pyarrow ships no type stubs)
"""One batch's rows, as the Arrow table the worker built (columnar: cheap to send back and to write)."""


def run_task(name: str, points: list[tuple[str, dict[str, Any]]], seed: int) -> pa.Table:
    """The task both backends run: `run_batch`, its rows made an Arrow table in the worker."""
    return rows_to_table(run_batch(name, points, seed))


def failed_rows(batch: Batch, error: str) -> Rows:
    return rows_to_table([{"key": key, "error": error} for key, _ in batch[1]])


_Ticket = TypeVar("_Ticket")
_Entry = TypeVar("_Entry")


def top_up(in_flight: dict[_Ticket, _Entry], batches: Iterator[Batch], max_in_flight: int,
           submit: Callable[[Batch], tuple[_Ticket, _Entry]]) -> bool:
    """Submit batches until `max_in_flight` are in flight, pulling the iterator only for a free slot (the
    back-pressure both backends share); `submit` returns the batch's ticket (future, object ref) and what to
    keep with it. True once `batches` is exhausted."""
    while len(in_flight) < max_in_flight:
        batch = next(batches, None)
        if batch is None:
            return True
        ticket, entry = submit(batch)
        in_flight[ticket] = entry
    return False


class Backend(Protocol):
    name: str
    workers: int

    def map_unordered(self, batches: Iterator[Batch], max_in_flight: int) -> Iterator[tuple[Batch, Rows]]: ...

    def close(self) -> None: ...


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _noop() -> int:
    return os.getpid()


def default_workers() -> int:
    return max(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1), 1)


class LocalBackend:
    """A process pool sized to the cores; rebuilt if a worker dies."""

    name = "local"

    def __init__(self, workers: int | None = None, retries: int = 2) -> None:
        self.workers = workers or default_workers()
        self.retries = retries
        methods = multiprocessing.get_all_start_methods()
        # fork starts workers in milliseconds; they are all forked here, before any progress thread exists
        self.context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        self.pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self.context, initializer=_ignore_sigint)
        wait([pool.submit(_noop) for _ in range(self.workers)])
        return pool

    def map_unordered(self, batches: Iterator[Batch], max_in_flight: int) -> Iterator[tuple[Batch, Rows]]:
        in_flight: dict[Future[Rows], tuple[Batch, int]] = {}
        exhausted = False
        while True:
            exhausted = exhausted or top_up(in_flight, batches, max_in_flight,
                                            lambda batch: (self.pool.submit(run_task, *batch), (batch, 0)))
            if not in_flight:
                return
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken: list[tuple[Batch, int]] = []
            for future in done:
                batch, tries = in_flight.pop(future)
                try:
                    rows = future.result()
                except BrokenProcessPool:
                    broken.append((batch, tries + 1))
                    continue
                except Exception as exc:  # run_batch catches per point; this is a transport failure
                    rows = failed_rows(batch, f"{type(exc).__name__}: {exc}"[:500])
                yield batch, rows
            if broken or any(f.done() and isinstance(f.exception(), BrokenProcessPool) for f in in_flight):
                broken += [(b, t + 1) for f, (b, t) in in_flight.items()]
                in_flight.clear()
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._start()
                for batch, tries in broken:
                    if tries > self.retries:
                        yield batch, failed_rows(batch, f"WorkerDied: the worker died {tries} times on this batch")
                    else:
                        in_flight[self.pool.submit(run_task, *batch)] = (batch, tries)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class RayBackend:
    """Ray tasks with retries; starts a local Ray or joins the cluster at `address`."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, retries: int = 3) -> None:
        try:
            import ray
        except ImportError:
            raise InputError("--backend ray needs Ray: pip install 'infraplan[ray]'") from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "configure_logging": False}
            if address:
                ray.init(address=address, **options)
            else:
                ray.init(num_cpus=workers or default_workers(), **options)
            self.started = True
        self.workers = workers or max(int(ray.cluster_resources().get("CPU", 1)), 1)
        self.task: Any = ray.remote(num_cpus=1, max_retries=retries)(run_task)

    def map_unordered(self, batches: Iterator[Batch], max_in_flight: int) -> Iterator[tuple[Batch, Rows]]:
        ray = self.ray
        in_flight: dict[Any, Batch] = {}
        exhausted = False
        try:
            while True:
                exhausted = exhausted or top_up(in_flight, batches, max_in_flight,
                                                lambda batch: (self.task.remote(*batch), batch))
                if not in_flight:
                    return
                done, _ = ray.wait(list(in_flight), num_returns=1)
                for ref in done:
                    batch = in_flight.pop(ref)
                    try:
                        rows = ray.get(ref)
                    except Exception as exc:  # retries exhausted (worker died each time) or task error
                        rows = failed_rows(batch, f"{type(exc).__name__}: {str(exc).splitlines()[0]}"[:500])
                    yield batch, rows
        finally:
            for ref in in_flight:
                with contextlib.suppress(Exception):  # best effort on the way out
                    ray.cancel(ref, force=True)

    def close(self) -> None:
        if self.started:
            self.ray.shutdown()


def make_backend(name: str, workers: int | None = None, address: str | None = None) -> Backend:
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    if name == "local":
        if address:
            raise InputError("--address is for --backend ray")
        return LocalBackend(workers)
    if name == "ray":
        return RayBackend(workers, address)
    raise InputError(f"unknown backend {name!r}; choose local or ray")
