"""Mutation spot-check (hH2, session 33): the replica search never probes a count it already saw miss."""

from __future__ import annotations

from infraplan.serving.replica_search import fewest_replicas


def test_doubling_then_bisection_probes_each_count_once() -> None:
    """Smallest r with r >= 5 in [1, 100], by hand: doubling probes 1, 2, 4 (miss) and 8 (meets), so the answer
    lies in [5, 8]; bisection probes 6 (meets) and 5 (meets). Six probes, none repeated (4 is known to miss)."""
    probes: list[int] = []

    def meets(r: int) -> bool:
        probes.append(r)
        return r >= 5

    assert fewest_replicas(meets, 1, 100) == 5
    assert probes == [1, 2, 4, 8, 6, 5]
