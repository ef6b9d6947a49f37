"""Mutation spot-check (hH2, session 33): the overload skip's fluid-queue wait, by hand."""

from __future__ import annotations

from typing import cast

import pytest

from infraplan.serving.replica_search import OVERLOAD_SKIP, SLO_MARGIN, overloaded_replicas
from infraplan.serving.workloads import Requests


def test_the_later_half_waits_three_eighths_of_the_offline_run() -> None:
    """Offered 4x what a replica completes offline (T = 10 s for N requests), request i arrives at i T / (4 N) and
    finishes at about i T / N, so it waits i T / N x (1 - 1/4); the later half (i >= N / 2) waits at least
    (1 - 1/4) / 2 x T = 3.75 s. Skipped without a probe only when that exceeds SLO_MARGIN (2) x the TTFT SLO:
    yes at a 1.8 s SLO (3.6 s), no at 1.9 s (3.8 s). When skipped, counts up to rate x T / N / 4 miss."""
    assert (OVERLOAD_SKIP, SLO_MARGIN) == (4.0, 2.0)
    req = cast(Requests, [None] * 100)  # only its length is read
    rate = 40.0  # requests per second: 4 x the 100 requests / 10 s completed offline
    assert overloaded_replicas(10.0, req, rate, 1.8, 99.0) == pytest.approx(rate * 10.0 / 100 / 4.0)
    assert overloaded_replicas(10.0, req, rate, 1.9, 99.0) == 0.0
