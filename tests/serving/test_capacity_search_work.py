"""Capacity search shortcuts (serving/capacity.py module doc): memoised probes, moot searches, the prefill
overload skip and probes stopped at a certain miss (`capacity_probe`) do less work and give the answer of the plain
search, probe for probe."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.serving.conftest import count_probes

from infraplan.serving import capacity, capacity_probe, replica_search
from infraplan.serving import serving_sim as sim
from infraplan.serving.capacity import search_capacity
from infraplan.serving.replica_search import fewest_replicas, overloaded_replicas
from infraplan.serving.workloads import Requests

KW = {"workload": "chat", "requests": 300}


def _probes(threshold: int, high: int, **kw: object) -> tuple[int | None, list[int]]:
    seen: list[int] = []

    def meets(r: int) -> bool:
        seen.append(r)
        return r >= threshold

    return fewest_replicas(meets, 1, high, **kw), seen  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold, high", [(1, 64), (3, 64), (37, 64), (40, 50), (300, 1000), (5000, 4096)])
@pytest.mark.parametrize("overloaded", [1.0, 2.5, 9.0, 30.0])
def test_overload_skip_only_drops_the_doubling_probes_below_it(threshold: int, high: int, overloaded: float) -> None:
    if overloaded >= threshold:
        return  # the skip is only used where those probes miss
    full, path = _probes(threshold, high)
    got, short = _probes(threshold, high, overloaded=overloaded)
    top = 1 << int(math.log2(high))  # the doubling's last power of two
    skipped = [r for r in path if r & (r - 1) == 0 and r <= overloaded and r < top]
    assert got == full
    assert short == [r for r in path if r not in skipped]
    assert len(short) < len(path)


@pytest.mark.parametrize("threshold", [1, 6, 13, 40, 100])
@pytest.mark.parametrize("cut", [0, 5, 7, 13, 35, 64])
@pytest.mark.parametrize("overloaded", [0.0, 4.0])
def test_a_moot_search_stops_only_when_its_answer_is_above_the_cut(threshold: int, cut: int,
                                                                    overloaded: float) -> None:
    if overloaded >= threshold:
        return
    full, path = _probes(threshold, 128)
    got, short = _probes(threshold, 128, moot=lambda lo: lo > cut, overloaded=overloaded)
    assert got == (None if full is None or full > cut else full)
    assert len(short) <= len(path)


def test_loose_ttft_slo_or_low_percentile_never_skips() -> None:
    req = Requests(np.zeros(100), np.full(100, 1000), np.full(100, 100))
    expected = 100.0 * 40.0 / 100 / capacity.OVERLOAD_SKIP
    assert overloaded_replicas(40.0, req, 100.0, 1.0, 99.0) == pytest.approx(expected)
    assert overloaded_replicas(40.0, req, 100.0, 20.0, 99.0) == 0.0  # the queue is not far beyond the SLO
    assert overloaded_replicas(40.0, req, 100.0, 1.0, 50.0) == 0.0  # half the requests may miss


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    engine = sim.simulate_engine

    def counted(*a: object, **k: object):  # type: ignore[no-untyped-def]
        calls[0] += 1
        return engine(*a, **k)

    monkeypatch.setattr(sim, "simulate_engine", counted)
    stepped = capacity_probe._Engine.__init__

    def counted_stepped(*a: object, **k: object) -> None:  # an engine run of a probe (`capacity_probe`)
        calls[0] += 1
        stepped(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(capacity_probe._Engine, "__init__", counted_stepped)
    return calls


def test_shortcuts_give_the_plain_search_with_fewer_simulations(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counting(monkeypatch)
    args = ("llama3-70b", "dgx-h100-superpod", 300.0)
    capacity.clear_caches()
    fast = search_capacity(*args, **KW)  # type: ignore[arg-type]
    fast_calls = calls[0]
    with monkeypatch.context() as plain:  # every probe simulated, every search to the end, from one replica
        plain.setattr(capacity, "moot_beyond", lambda *a: (lambda lo: False))
        plain.setattr(capacity, "overloaded_replicas", lambda *a: 0.0)
        plain.setattr(capacity.Candidate, "meets", lambda self, req, key, mode, slo, q, law=None:
                      self._meets_now(req, mode, slo, q, law))
        plain.setattr(capacity, "candidate_for", capacity.Candidate)
        plain.setattr(capacity.Candidate, "_times", lambda self, req, mode, *_: (  # and run whole
            (r := self.run(req, mode)).first_token_s, r.finish_s))
        capacity.clear_caches()
        calls[0] = 0
        slow = search_capacity(*args, **KW)  # type: ignore[arg-type]
    assert slow.to_json() == fast.to_json()
    missed = sum("its full run" in line for line in fast.rejected or [])  # whole runs that missed: not next-best
    assert fast.feasible and fast.meets_slo_full_run and missed >= 3  # PP 1's three best miss whole
    alternatives = fast.alternatives or []
    assert 0 < len(alternatives) <= replica_search.ALTERNATIVES
    assert all(o.gpus >= (fast.gpus or 0) for o in alternatives)  # none ranked above the answer: those missed
    assert fast_calls < calls[0]


def test_a_repeated_search_simulates_only_its_winner(monkeypatch: pytest.MonkeyPatch) -> None:
    capacity.clear_caches()
    first = search_capacity("llama3-8b", "dgx-h100-superpod", 150.0, **KW)  # type: ignore[arg-type]
    probes = count_probes(monkeypatch)
    again = search_capacity("llama3-8b", "dgx-h100-superpod", 150.0, **KW)  # type: ignore[arg-type]
    assert again.to_json() == first.to_json() and probes[0] == 0
    capacity.clear_caches()
    assert search_capacity("llama3-8b", "dgx-h100-superpod", 150.0, **KW).to_json() == first.to_json()  # type: ignore[arg-type]
    assert probes[0] > 0 and math.isfinite(float(first.gpus or 0))
