"""A serving run's progress, for a caller that shows it or stops it: the share of the run's requests simulated.

The web's `serve` job (`web.jobs`) said 0 % to its end, 5-12 s for the web's 200,000 requests in a closed loop or a
wide-EP lock-step pool, and a cancel took effect only then (hB76's note). A caller that wants a run's progress runs it
inside `reporting(report)`: the run's `RunProgress` counts the requests its engines finish, and `report(share)` hears
the share done (0..1) as each pool's pass begins and then at most every `REPORT_EVERY` requests. `report` may raise:
its exception leaves the simulation as it is (a web job's `JobCancelled`), so a cancel stops a run within the next
`REPORT_EVERY` requests.

The work (`expect`, told by the simulation as a pass begins): each pool's pass over the requests, a colocated run's
requests once (`serving_sim.simulate_deployment`), a disaggregated run's twice (its prefill and its decode pool,
`serving_sim.simulate_disaggregated`), a wide-EP pool's measuring passes once more each
(`wide_ep_lockstep.run_lockstep_pool`). Counted where requests end: `serving_sim.run_pool` after each engine it runs
whole (an open loop: its compiled loop reports nothing inside, so one engine of 200,000 requests runs 0.1-2 s
unreported), and request by request in the stepped closed loops (`client_loop.closed_loop_engine`,
`pair_loop.closed_pair_loop`, every pool's engines) and on the lock-step ranks (`lockstep_loop.lockstep_replica`).

An image run (`serving.diffusion`, whose pools run through `run_pool` with no pass expected) reports nothing: its
200,000 images run in <= 0.9 s. Unused (no `reporting` scope: the CLI, the capacity search, validation), `current()`
is None: each of those drivers reads one context variable per call and counts nothing. Either way the run's answer is
the same (tests/serving/test_run_progress_hB77.py). A context variable, not an argument: each thread (a web job's) has
its own, and the drivers sit four calls below the runner that asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

REPORT_EVERY = 256
"""Requests ended between two reports (a closed loop ends ~40,000 a CPU second: a report every ~6 ms)."""

Report = Callable[[float], None]
"""The caller's callback: the run's share done, 0..1; it may raise to stop the run."""


class RunProgress:
    """The requests a run's pools have to pass (`total`) and have passed (`done`), told to `report`."""

    __slots__ = ("_next", "done", "report", "total")

    def __init__(self, report: Report) -> None:
        self.report, self.total, self.done, self._next = report, 0, 0, REPORT_EVERY

    def share(self) -> float:
        """The share of the work done (0 before any is expected; 1 at most: the closed pair loop's padding)."""
        return min(self.done / self.total, 1.0) if self.total > 0 else 0.0

    def expect(self, requests: int) -> None:
        """A pass over `requests` requests begins (told before its work, so a caller hears the run's inputs read)."""
        self.total += requests
        self.report(self.share())

    def ended(self, requests: int) -> None:
        """`requests` more requests have ended in a pool's pass; every `REPORT_EVERY`, the share is told. Before any
        pass is expected nothing is counted (an image run's pools: `serving.diffusion` sizes and runs them unreported),
        so a run's first report is always its first pass's start."""
        if self.total > 0:
            self.done += requests
            if self.done >= self._next:
                self._next = self.done + REPORT_EVERY
                self.report(self.share())


_CURRENT: ContextVar[RunProgress | None] = ContextVar("infraplan_serving_run_progress", default=None)


def current() -> RunProgress | None:
    """The progress of the run under way in this context, or None where nobody asked (count nothing)."""
    return _CURRENT.get()


def expect(requests: int) -> None:
    """`RunProgress.expect` of the run under way, if any."""
    progress = _CURRENT.get()
    if progress is not None:
        progress.expect(requests)


@contextmanager
def reporting(report: Report | None) -> Iterator[RunProgress | None]:
    """Within: the serving runs of this context tell `report` their progress (None: nothing is told)."""
    if report is None:
        yield None
        return
    progress = RunProgress(report)
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)
