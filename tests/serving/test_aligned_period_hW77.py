"""`aligned_gpus` of one pool counted a period of its placement at a time (hW77).

serve-plan ranks each option by the accelerators its replica bound holds (`replica_search.SearchJob.gpus`), which
walked every replica's every stage group: at `--rate 1e8` (within `limits.MAX_ARRIVAL_RATE_PER_S`) Llama 3 8B's
bounds were millions of replicas and `serve-plan llama3-8b --system h100-sxm --rate 1e8 --workload chat` took 133 s
(1e9: about 20 min extrapolated; a fleet-mix LLM service at that rate ran past 5 min) to say no deployment fits 8
GPUs. The count is checked here against the replica-by-replica walk over `replica_starts`, the placement itself.
"""

from __future__ import annotations

import pytest

from infraplan.serving import replica_packing
from infraplan.serving.replica_packing import aligned_gpus, replica_starts


def walked(pools: list[tuple[int, int]], unit: int, domain: int) -> int:
    """The placement's held accelerators, slot by slot (the module docstring's rule)."""
    if unit > domain:
        return sum(n * pp * unit for n, pp in pools)
    per, used = domain // unit, {}
    pps = [pp for n, pp in pools for _ in range(n)]
    for start, pp in zip(replica_starts(pools, unit, domain), pps, strict=True):
        for slot in range(start, start + pp):
            used[slot // per] = used.get(slot // per, 0) + 1
    return sum(g * unit if g < per else domain for g in used.values())


@pytest.mark.parametrize("domain", [8, 12, 16, 72])
def test_one_pool_matches_the_walk(domain: int) -> None:
    for unit in range(1, domain + 2):
        for pp in range(1, 10):
            for replicas in [*range(0, 30), 97, 1001]:
                assert aligned_gpus([(replicas, pp)], unit, domain) == walked([(replicas, pp)], unit, domain), (
                    domain, unit, pp, replicas)


def test_two_pools_still_match_the_walk() -> None:
    for unit in (3, 5, 6, 7, 16, 20):
        for pools in ([(3, 2), (2, 3)], [(5, 1), (4, 4)], [(1, 5), (7, 2)]):
            assert aligned_gpus(pools, unit, 72 if unit > 8 else 8) == walked(pools, unit, 72 if unit > 8 else 8)


def test_a_million_replicas_take_one_period(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = replica_packing._start_at

    def counted(cursor: int, pp: int, per: int) -> int:
        calls.append(cursor)
        return real(cursor, pp, per)

    assert aligned_gpus([(200_003, 5)], 16, 72) == walked([(200_003, 5)], 16, 72)  # (the walk: unpatched)
    monkeypatch.setattr(replica_packing, "_start_at", counted)
    assert aligned_gpus([(1_000_000, 3)], 6, 8) == 1_000_000 * 24  # TP 6 PP 3 on 8-GPU nodes: 3 nodes a replica
    # TP 16 PP 5 on NVL72: 4 replicas fill 5 racks whole (360 held), then 3 more hold 3 racks and 3 groups
    assert aligned_gpus([(1_000_003, 5)], 16, 72) == 250_000 * 360 + 3 * 72 + 3 * 16
    assert len(calls) <= 2 * (8 // 6) + 2 * (72 // 16) + 4  # a period walked, not a million replicas
