"""Image capacity judges a probe's backlog as serve-plan judges a replica's (hQ80): `keeps_up` given the images the
accelerator holds at once (its batch cap; serve-plan's `Candidate.held`, engines x batch cap, one engine here), so a
stable probe whose count swings below the cap is not read as an overload by the 10 % share bound alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.planning import image_capacity
from infraplan.serving.backlog_growth import backlog_grows, backlog_span, keeps_up
from infraplan.serving.capacity_candidate import steady_window

BATCH = 32


def _swinging_probe() -> tuple[np.ndarray, np.ndarray]:
    """128 images a second apart, each done 1.5 s after it arrives but six (88-93) held 100 s: 2 images in the
    system at the later half's first arrival (t = 64 s), 8 at its last (t = 95 s). The growth, 6, passes the share
    bound (10 % of the half's 32 arrivals: 3.2) and not the swing bound below the cap (3 sqrt(2 + 8) = 9.5)."""
    arrival = np.arange(128, dtype=np.float64)
    finish = arrival + 1.5
    finish[88:94] = arrival[88:94] + 100.0
    return arrival, finish


def test_the_probe_is_what_its_docstring_says() -> None:
    arrival, finish = _swinging_probe()
    steady = steady_window(arrival, BATCH)
    span = backlog_span(arrival, steady, BATCH)
    assert span is not None and (span.start_s, span.end_s, span.arrivals) == (64.0, 95.0, 32)
    assert backlog_grows(arrival, finish, span._replace(held=0))  # the share alone: an overload
    assert keeps_up(arrival, finish, steady, BATCH)  # serve-plan's rule for a replica holding BATCH


def test_image_capacity_and_serve_plan_give_one_verdict(monkeypatch: pytest.MonkeyPatch) -> None:
    arrival, finish = _swinging_probe()
    monkeypatch.setattr(image_capacity, "image_times", lambda *a, **k: (arrival, finish))
    p99 = image_capacity._p99("image-generation", None, "h100-sxm", 1.0, BATCH, len(arrival))
    serve_plan = keeps_up(arrival, finish, steady_window(arrival, BATCH), BATCH)  # Candidate._meets_now's test
    assert serve_plan and math.isfinite(p99)  # was inf: the share bound alone
    steady = steady_window(arrival, BATCH)
    assert p99 == pytest.approx(np.percentile((finish - arrival)[steady], 99.0))


def test_an_overload_is_still_a_miss(monkeypatch: pytest.MonkeyPatch) -> None:
    """Served at half the arrival rate: the count grows past the cap; both judges say so."""
    arrival = np.arange(400, dtype=np.float64)
    finish = 2.0 * arrival + 1.0
    monkeypatch.setattr(image_capacity, "image_times", lambda *a, **k: (arrival, finish))
    assert image_capacity._p99("image-generation", None, "h100-sxm", 1.0, BATCH, len(arrival)) == math.inf
    assert not keeps_up(arrival, finish, steady_window(arrival, BATCH), BATCH)
