"""Coverage wave hM15 (session 42): `serving.backlog_growth.keeps_up` / `backlog_span` cases no test reached.

Hand arithmetic on `keeps_up`'s rule (its docstring): over the later half of the steady window, requests in the
system (arrived, not finished) may grow by at most BACKLOG_SHARE (10 %, an ASSUMPTION in the module) of the
requests arriving in it (hK71: a replica holding fewer than `held` at both counts may also grow by BACKLOG_Z
Poisson standard deviations; `held` not given here, 0: the share decides alone); a window with no span in time (an
offline burst, fewer than two requests) has nothing to judge."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving.backlog_growth import BACKLOG_SHARE, BacklogSpan, backlog_span, keeps_up
from infraplan.serving.capacity_candidate import steady_window

ARRIVAL = np.arange(20, dtype=np.float64)  # one request a second, 0 .. 19 s
WINDOW = np.arange(20)  # judged whole; the later half is requests 10 .. 19: 10 s to 19 s, 10 arrivals


def test_the_span_is_the_later_half_of_the_window() -> None:
    assert BACKLOG_SHARE == 0.10
    span = backlog_span(ARRIVAL, WINDOW)
    assert span == BacklogSpan(10.0, 19.0, 10, 0)  # the growth over 10 .. 19 s, `held` not known
    assert span is not None and span.share_allowed == pytest.approx(1.0)  # 10 % of 10 arrivals


def test_a_replica_serving_at_the_arrival_rate_keeps_up() -> None:
    """Each request done 0.5 s after it arrives: one in the system at 10 s (11 arrived, 10 done) and at 19 s; done
    1 s after: one at every time (the request before leaves as the next arrives)."""
    assert keeps_up(ARRIVAL, ARRIVAL + 0.5, WINDOW)
    assert keeps_up(ARRIVAL, ARRIVAL + 1.0, WINDOW)


@pytest.mark.parametrize(("late", "ok"), [([18], True), ([17, 18], False)])
def test_the_backlog_may_grow_by_the_share_and_no_more(late: list[int], ok: bool) -> None:
    """Requests still running at 19 s beyond the steady one: one more (growth 1 = 10 % of 10 arrivals) passes, two
    more do not."""
    finish = ARRIVAL + 0.5
    finish[late] = np.inf
    assert keeps_up(ARRIVAL, finish, WINDOW) is ok


def test_a_replica_serving_at_half_the_rate_falls_behind() -> None:
    """Request i done at 2 i + 0.5 s: at 10 s 11 arrived, 5 done (6 in the system); at 19 s 20 arrived, 10 done (10):
    growth 4 > 1."""
    assert not keeps_up(ARRIVAL, 2 * ARRIVAL + 0.5, WINDOW)


@pytest.mark.parametrize("steady", [np.array([3]), np.array([], dtype=np.int64)])
def test_a_window_of_fewer_than_two_requests_has_no_span(steady: np.ndarray) -> None:
    assert backlog_span(ARRIVAL, steady) is None
    assert keeps_up(ARRIVAL, np.full(20, np.inf), steady)  # nothing judged: however late, it passes here


def test_an_offline_burst_has_no_span_and_is_judged_whole() -> None:
    """Every request at 0 s (an offline run): the steady window is the whole stream, and its later half spans no
    time, so the backlog rule judges nothing (the percentiles and the full run do)."""
    burst = np.zeros(40)
    steady = steady_window(burst, 5)
    assert steady.tolist() == list(range(40))
    assert backlog_span(burst, steady) is None
    assert keeps_up(burst, np.linspace(1.0, 100.0, 40), steady)
