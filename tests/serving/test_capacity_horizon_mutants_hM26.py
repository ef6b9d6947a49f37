"""Mutation wave hM26 on `serving.capacity_horizon.settling_replicas` (session 47, hQ51): the fewest replicas whose
queue's relaxation, `margin` x longer, a run of at most HORIZON_MAX_REQUESTS covers, by hand on a made-up law.

A queue's time constant of T / r seconds on r replicas (monkeypatched `law_time_constants`; the real one falls with
r too) settles within the cap where rate x RELAXATIONS x margin x T / r <= HORIZON_MAX_REQUESTS: at 1,000 requests/s,
8 relaxations and T = 5,000 s that is r >= 100 (r = 100 reads exactly 400,000: a run of the cap covers it, as
`unsettled` says of the same time constant), and r >= 400 at a margin of 4.
"""

from __future__ import annotations

import pytest

from infraplan.serving import capacity_horizon
from infraplan.serving.capacity_horizon import HORIZON_MAX_REQUESTS, RELAXATIONS, settling_replicas, unsettled

RATE, T = 1000.0, 5000.0
LAW = ([], 1.0, 1.0, 1.0)  # not read by the stand-in below


@pytest.fixture
def one_over_r(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capacity_horizon, "law_time_constants", lambda rate, law, r: [T / r])


def test_the_hand_count_and_its_edge(one_over_r: None) -> None:
    assert RATE * RELAXATIONS * T / 100 == HORIZON_MAX_REQUESTS  # the edge is exact in floats
    assert not unsettled(RATE, [T / 100]) and unsettled(RATE, [T / 99])  # the cap covers its own length
    assert settling_replicas(RATE, LAW, 1, 10_000) == 100
    assert settling_replicas(RATE, LAW, 1, 10_000, margin=4.0) == 400
    assert settling_replicas(RATE, LAW, 150, 10_000) == 150  # already settled at the first count
    assert settling_replicas(RATE, LAW, 1, 99) is None  # none up to `most`


@pytest.mark.parametrize("first", [1, 37, 99, 100])
def test_the_bisection_finds_the_least_count_from_any_start(one_over_r: None, first: int) -> None:
    for most in (100, 101, 128, 5000):
        assert settling_replicas(RATE, LAW, first, most) == 100, most
    assert settling_replicas(RATE, LAW, 100, 100) == 100  # a range of one count that settles
