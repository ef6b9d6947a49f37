"""Mutation wave hM80 (session 50): `serving.backlog_growth` rules no test held.

Hand counts on a made-up stream (the module's rule: the requests in the system grow by more than BACKLOG_SHARE of
the later half's arrivals and, below `held` at both counts, by more than BACKLOG_Z sqrt(first + last), the standard
deviation bound of a difference of two independent Poisson counts whose variances are their means, Skellam).

The stream: a request every 0.1 s for 20 s (200 requests, the window whole): the later half is requests 100 .. 199,
10.0 .. 19.9 s, 100 arrivals (share 10). Each request leaves 0.05 s after it arrives but the `long` ones, which
stay: at 10.0 s the requests in the system are request 100 (just arrived) and the long ones among 0 .. 100; at
19.9 s request 199 and the long ones among 0 .. 199.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.serving.backlog_growth import BACKLOG_Z, backlog_grows, backlog_span, in_system, keeps_up

ARRIVAL = np.arange(200) / 10.0
WINDOW = np.arange(200)


def _finish(long_before: int, long_after: int) -> np.ndarray:
    """`long_before` requests among 0 .. 99 and `long_after` among 101 .. 198 never leave."""
    finish = ARRIVAL + 0.05
    finish[:long_before] = np.inf
    finish[101:101 + long_after] = np.inf
    return finish


def _counts(finish: np.ndarray) -> tuple[float, float]:
    span = backlog_span(ARRIVAL, WINDOW)
    assert span is not None and (span.start_s, span.end_s, span.arrivals) == (10.0, 19.9, 100)
    first, last = in_system(ARRIVAL, np.sort(finish), np.array([span.start_s, span.end_s]))
    return float(first), float(last)


def test_the_poisson_bound_reads_both_counts_not_twice_the_larger() -> None:
    """first 20 (19 long + request 100), last 50 (49 long + request 199): growth 30 over the share's 10; the bound
    3 sqrt(20 + 50) = 25.1 is passed (a backlog below the caps that grows), where 3 sqrt(2 x 50) = 30 would not be."""
    finish = _finish(19, 30)
    assert _counts(finish) == (20.0, 50.0)
    span = backlog_span(ARRIVAL, WINDOW, 100)
    assert span is not None
    assert BACKLOG_Z * np.sqrt(20 + 50) < 30.0 <= BACKLOG_Z * np.sqrt(2 * 50)
    assert backlog_grows(ARRIVAL, finish, span)
    assert not keeps_up(ARRIVAL, finish, WINDOW, 100)


def test_a_growth_equal_to_the_poisson_bound_does_not_pass_it() -> None:
    """first 35, last 65: growth 30 = 3 sqrt(35 + 65) exactly (sqrt(100) = 10 in floats). The growth must pass
    (exceed) each bound to read as an overload, as a growth equal to the share keeps up
    (tests/serving/test_coverage_hM15_backlog.py); one more request left running passes it."""
    finish = _finish(34, 30)
    assert _counts(finish) == (35.0, 65.0)
    span = backlog_span(ARRIVAL, WINDOW, 100)
    assert span is not None and BACKLOG_Z * np.sqrt(35.0 + 65.0) == 30.0
    assert not backlog_grows(ARRIVAL, finish, span)
    more = _finish(34, 31)
    assert _counts(more) == (35.0, 66.0)
    assert backlog_grows(ARRIVAL, more, span)  # 31 > 3 sqrt(101) = 30.15


def test_a_request_finishing_at_a_count_time_has_left() -> None:
    """Arrivals at 0, 1, 2 s, each done 1 s later: at 1 s request 1 has arrived and request 0 has left (one in the
    system: the request before leaves as the next arrives), at 2 s likewise; at 0.5 s one, at 3 s none."""
    arrival = np.array([0.0, 1.0, 2.0])
    got = in_system(arrival, arrival + 1.0, np.array([0.5, 1.0, 2.0, 3.0]))
    assert got.tolist() == [1.0, 1.0, 1.0, 0.0]


def test_two_requests_in_the_later_half_make_a_span() -> None:
    """A steady window of 4 requests: its later half, requests 7 and 8 (7 s and 8 s), is two requests a second
    apart: a span (fewer than two would not be). Both still running at 8 s: growth 1 (request 8 arrived, none left)
    over the share of 2 arrivals, 0.2: not kept up with."""
    arrival = np.arange(20, dtype=np.float64)
    steady = np.array([5, 6, 7, 8])
    span = backlog_span(arrival, steady)
    assert span is not None and (span.start_s, span.end_s, span.arrivals) == (7.0, 8.0, 2)
    finish = arrival + 0.5
    finish[7:9] = np.inf
    assert not keeps_up(arrival, finish, steady)
    assert keeps_up(arrival, arrival + 0.5, steady)


@pytest.mark.parametrize("held", [0, 50])
def test_at_or_above_the_caps_the_share_alone_decides(held: int) -> None:
    """first 20, last 50 with the replica holding 50 (the last count at its caps: a queue) or unknown (0): the
    growth of 30 over the share of 10 is an overload whatever the Poisson bound says."""
    span = backlog_span(ARRIVAL, WINDOW, held)
    assert span is not None
    assert backlog_grows(ARRIVAL, _finish(19, 30), span)
    assert not backlog_grows(ARRIVAL, _finish(19, 9), span)  # growth 9 <= 10: the share holds it
