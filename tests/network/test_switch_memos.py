"""The latency switches and the collective memos (hX, session 36): a process that priced other collectives first
(`--algorithm sharp` among them) answers with a switch flipped as a fresh interpreter does.

The cause of session 35's order dependence: `fabric.group_link_one` is an lru_cache, which holds 64 and 64.0 as
one key, and it priced integer arguments on integer arrays, so `collective --algorithm sharp` (n and stride as
ints) kept a link latency of 0 for a group crossing domains but no tier; the tree with `PIPELINED_TREE_LATENCY`
off (2 ceil(log2 n) steps at that latency) read it back. And `ring_latency_one` (an lru_cache, and the float
path's memos) kept the ring's latency without `PIPELINED_RING_LATENCY`, which the function reads.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from infraplan.cluster import Cluster
from infraplan.network import collectives, fabric
from infraplan.network.collective_schedules import estimate_collective

MIB = 2.0**20


def _forget() -> None:
    """Every kept collective value: what a fresh interpreter starts with."""
    collectives.forget_float_values()
    fabric.group_link_one.cache_clear()  # (forget_float_values clears it too since hX; before, it did not)


def _answers(cluster: Cluster, algorithm: str) -> list[float | None]:
    out: list[float | None] = []
    for gpus in (16, 64, 512, 4096):
        for size in (8.0, MIB):
            result = estimate_collective("all-reduce", cluster, gpus, size, "packed", algorithm)
            out.append(result.time_s)
    out.append(estimate_collective("all-reduce", cluster, 64, MIB, "packed", algorithm, sim="flow").analytical_time_s)
    out.append(float(collectives.collective_seconds(cluster.fabric, "all_reduce", MIB, 64.0, 1.0)))
    return out


def _prime(cluster: Cluster) -> None:
    """What test_review_hq35 runs before: SHARP answers (n and stride as ints), and every algorithm switched on."""
    for gpus in (16, 64, 512, 4096):
        estimate_collective("all-reduce", cluster, gpus, 2.0**30, algorithm="sharp", sharp=True)
        for algorithm in ("ring", "tree", "auto"):
            _answers(cluster, algorithm)


@pytest.mark.parametrize("switch", ["PIPELINED_TREE_LATENCY", "PIPELINED_RING_LATENCY"])
@pytest.mark.parametrize("algorithm", ["ring", "tree", "auto"])
def test_a_switch_flipped_after_sharp_answers_as_a_fresh_interpreter(monkeypatch: pytest.MonkeyPatch, switch: str,
                                                                     algorithm: str) -> None:
    cluster = Cluster.resolve("dgx-h100-superpod")
    _forget()
    _prime(cluster)
    monkeypatch.setattr(fabric, switch, False)
    primed = _answers(cluster, algorithm)
    _forget()
    assert primed == _answers(cluster, algorithm)  # fresh: the same bits


def test_group_link_one_takes_ints_as_floats() -> None:
    # the cause: an int call first kept latency 0 (np.full_like of an int array) under the key a float call finds
    dgx = replace(Cluster.resolve("dgx-h100-superpod").fabric, concurrent_groups=1)
    _forget()
    first = fabric.group_link_one(dgx, 64, 1, False)
    _forget()
    assert first == fabric.group_link_one(dgx, 64.0, 1.0, False) == (pytest.approx(first[0]), 2e-6)
