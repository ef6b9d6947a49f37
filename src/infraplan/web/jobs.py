"""Long work as jobs, and every result cached by the content hash of its request.

Every command is deterministic for a given request (random choices take the request's explicit seed), so a
result is cached under `content_hash(request)`: SHA-256 of the command and the request's canonical JSON (sorted
keys, every default filled in: two spellings of the same question share one entry). The cache holds the JSON
text, least recently used first out.

A request `is_long` (a scaling sweep of several GPU counts, a capacity search, a serving simulation of many
requests, a scenario plan or compare bigger than plan-minimal, a fleet-mix with an LLM service) runs as a job:
`JobStore.submit` returns its id at once (HTTP 202), a small thread pool runs it, `get` reports status and
progress (0..1) and, when done, the result JSON or the one-line error; `cancel` stops it (DELETE /api/jobs/{id}).
A job whose request is already cached is born done. The number of queued and running jobs is bounded
(`MAX_PENDING`): beyond it `submit` refuses with `Busy` (HTTP 429), so the server's work stays bounded.

Refusal is decided before a job is queued (`check_input`, hB77): `submit` runs the command in the request's own thread
up to its first progress report, where every runner has read and checked its input and its work begins (a search's
first block of plans, the start of serve-plan's first level and of fleet-mix's sizing, a plan's first stage, serve's
first pool: `serving.run_progress`), and stops it there. Input the command refuses is the InputError's one line (HTTP
400), whatever the load; the job then runs from the start (the part before that report twice: 0.00-0.21 s warm; a
search 0.03-0.5 s CPU, deepseek-v3 on 2,048 GB200 by memory 0.49; serve-plan and fleet-mix <= 0.03, hR77: they
reported after their first level's layouts, 9.1 s for deepseek-v3 at fp8 and nvfp4 with MTP tried, and their first
pair's searches, 1.5 s with an LLM service first; a serve of 200,000 requests 0.09-0.21). A run that ends before
any report (an image `serve`: <= 0.9 s for 200,000 images) is answered by the check, its job born done. hB76 waited
0.3 s for the job's own refusal: under load, or behind other jobs, the same input was a 202 and a failed job.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from infraplan.catalog.serving_loader import load_workload
from infraplan.errors import InputError
from infraplan.serving.diffusion import steady_run_length
from infraplan.serving.serve_inputs import DEFAULT_REQUESTS
from infraplan.serving.serving_api import IMAGE_MAX_BATCH
from infraplan.web import fleet_mix
from infraplan.web.infrastructure_requests import CompareRequest, PlanRequest
from infraplan.web.requests import SearchRequest, ServePlanRequest, ServeRequest, WebRequest
from infraplan.web.runners import run, serve_requests
from infraplan.web.scenarios import SYNC_SCENARIO_WORK, request_work, resolve_request
from infraplan.web.uploads import on_disk, ref

SYNC_SWEEP_POINTS = 2
"""A `search` over more GPU counts than this is a job."""
SYNC_SERVE_REQUESTS = 20_000
"""A `serve` simulation of more requests than this is a job (2,000 take ~0.05 s)."""
MAX_PENDING = 8
"""Jobs queued or running at once; more are refused with 429."""
CACHE_ENTRIES = 512
"""Results kept (JSON text; a search result is a few tens of KiB)."""
JOBS_KEPT = 256
"""Finished jobs remembered for polling."""


class Busy(Exception):
    """Too many jobs pending: try again later (HTTP 429)."""


class JobCancelled(Exception):
    """Raised by a cancelled job's progress callback: its run stops at its next progress report."""


class _WorkBegins(Exception):  # noqa: N818 (a point reached, not an error)
    """Raised by `check_input`'s progress callback at the run's first report: its input is read and checked."""


def _work_begins(_fraction: float) -> None:
    raise _WorkBegins


def check_input(request: WebRequest) -> str | None:
    """Run `request` up to its first progress report and stop it there (module docstring): InputError passes
    through; None: the input passed (or the run met a model bug, which its job then reports as a failure, not a
    refusal); the result JSON where the run ended before reporting."""
    try:
        return run(request, _work_begins).model_dump_json()
    except _WorkBegins:
        return None
    except InputError:
        raise
    except Exception:  # a model bug: the job's to report (a 202 and "internal error (...)", as hM76 holds)
        return None


def content_hash(request: WebRequest) -> str:
    """SHA-256 of the command and the canonical JSON of the request (defaults included, keys sorted)."""
    text = request.command + "\n" + json.dumps(request.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def serve_size(request: ServeRequest) -> int:
    """The requests (images) a web `serve` simulates: `runners.serve_requests` (a closed loop's 10 per client), and
    an image run at a rate without `requests` the steady-state length it runs (`serving.image_steady_state`:
    10,000 to 200,000 images, as `serving.diffusion` sizes it; it was sized as 2,000, hF46); else the default."""
    count = serve_requests(request)
    if count is None and request.rate is not None and request.workload is not None:
        try:  # a bad request is refused by its run, inline: sized as the default here
            with on_disk(request) as (local, _):  # an uploaded workload, model or system, read as the run reads it
                spec = load_workload(ref(local.workload) or "")  # given (the test above): its path or preset
                length = steady_run_length(spec, ref(local.system), request.gpus, request.rate,
                                           request.max_batch or IMAGE_MAX_BATCH, request.dtype, ref(local.model)) \
                    if spec.kind == "diffusion" else "not an image run"
        except InputError:
            length = "refused"
        if not isinstance(length, str):
            count = length.run_images
    return count or DEFAULT_REQUESTS


def is_long(request: WebRequest) -> bool:
    """Whether the request runs as a job (202) rather than inline (200)."""
    if isinstance(request, SearchRequest):
        return len(request.gpus) > SYNC_SWEEP_POINTS
    if isinstance(request, ServePlanRequest):
        return True
    if isinstance(request, ServeRequest):
        return serve_size(request) > SYNC_SERVE_REQUESTS
    if isinstance(request, PlanRequest | CompareRequest):  # validates the scenarios first: bad ones get 400 at once
        work = request_work(request, resolve_request(request))  # --optimality-gap prices every server count
        return work > SYNC_SCENARIO_WORK or (isinstance(request, PlanRequest) and request.optimality_gap)
    if isinstance(request, fleet_mix.FleetMixRequest):  # likewise; a fleet with an LLM service (serve-plan searches)
        return fleet_mix.is_long(request)
    return False


class ResultCache:
    """Content hash -> result JSON text, least recently used out first; thread-safe."""

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._data: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> str | None:
        with self._lock:
            text = self._data.get(key)
            if text is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return text

    def put(self, key: str, text: str) -> None:
        with self._lock:
            self._data[key] = text
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)

    def compute(self, request: WebRequest) -> str:
        """The cached JSON of `request`, computing (and caching) it on a miss; InputError passes through."""
        key = content_hash(request)
        text = self.get(key)
        if text is None:
            text = run(request).model_dump_json()
            self.put(key, text)
        return text


@dataclass
class Job:
    """One long request: status, progress 0..1, and the result JSON or the error line when finished."""

    id: str
    command: str
    key: str
    status: Literal["queued", "running", "done", "failed", "cancelled"] = "queued"
    progress: float = 0.0
    result_json: str | None = None
    error: str | None = None
    refused: bool = False  # failed on its input (InputError) after its first report: `error` is the command's line
    finished: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)
    cancel_asked: bool = False  # `JobStore.cancel` on a running job: it stops at its next progress report
    future: Future[None] | None = field(default=None, repr=False, compare=False)


class JobStore:
    """Runs long requests on a small thread pool; remembers the last `JOBS_KEPT` jobs for polling."""

    def __init__(self, cache: ResultCache, workers: int = 2) -> None:
        self.cache = cache
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, request: WebRequest) -> Job:
        """A job for `request`: born done where its answer is cached (or its check answered it), else queued;
        InputError where its command refuses its input (`check_input`, before any job is made), Busy past
        `MAX_PENDING`."""
        key = content_hash(request)
        job = Job(id=uuid.uuid4().hex, command=request.command, key=key)
        cached = self.cache.get(key)
        if cached is None and (cached := check_input(request)) is not None:  # ended before its first report
            self.cache.put(key, cached)
        with self._lock:
            if cached is not None:  # born done (hV76: was answered after hB76's 0.3 s refusal wait)
                job.status, job.progress, job.result_json = "done", 1.0, cached
                job.finished.set()
            else:
                pending = sum(j.status in ("queued", "running") for j in self._jobs.values())
                if pending >= MAX_PENDING:
                    raise Busy(f"{pending} jobs are pending (the limit is {MAX_PENDING}); try again later")
            self._jobs[job.id] = job
            while len(self._jobs) > JOBS_KEPT:
                oldest = next(iter(self._jobs))
                if self._jobs[oldest].status in ("queued", "running"):
                    break
                self._jobs.pop(oldest)
        if job.status == "queued":
            with self._lock:
                if self._pool is None:  # made on first use, again after a shutdown (a server restart)
                    self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="infraplan-job")
                job.future = self._pool.submit(self._run, job, request)
        return job

    def cancel(self, job_id: str) -> Job | None:
        """Cancel a job (hB76: a page's long compare or serve-plan could not be stopped, and held one of the
        `MAX_PENDING` slots to its end): a queued one is taken off the pool at once; a running one stops at its
        next progress report (a sweep's count, a plan's stage, a capacity search's step, a `serve`'s requests every
        `serving.run_progress.REPORT_EVERY`: hB77); a finished one is left as it is. None: no such job."""
        job = self.get(job_id)
        if job is not None and job.status in ("queued", "running"):
            job.cancel_asked = True
            if job.future is not None and job.future.cancel():  # not started: it never will
                job.error, job.status = "cancelled before it started", "cancelled"
                job.finished.set()
        return job

    def _run(self, job: Job, request: WebRequest) -> None:
        try:
            self._compute(job, request)
        finally:
            job.finished.set()

    def _compute(self, job: Job, request: WebRequest) -> None:
        job.status = "running"

        def progress(fraction: float) -> None:
            if job.cancel_asked:
                raise JobCancelled
            job.progress = min(max(fraction, 0.0), 0.99)

        try:
            progress(0.0)  # (cancelled between its start and here)
            text = run(request, progress).model_dump_json()
        except JobCancelled:
            job.error, job.status = f"cancelled at {job.progress:.0%}", "cancelled"
            return
        except InputError as exc:
            job.error, job.refused, job.status = str(exc), True, "failed"
            return
        except Exception as exc:  # a model bug: reported as one line, never a traceback
            job.error, job.status = f"internal error ({type(exc).__name__})", "failed"
            return
        self.cache.put(job.key, text)
        job.result_json, job.progress, job.status = text, 1.0, "done"

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
