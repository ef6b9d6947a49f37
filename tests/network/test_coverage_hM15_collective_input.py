"""Coverage wave hM15 (session 42): `network.collective_schedules.estimate_collective` refusals no test made.

Bad input is one clear line (InputError), before anything is priced or simulated (the developers' guide): a group
larger than the system, an algorithm the operation does not have, an unknown model, fewer than one flow per pair."""

from __future__ import annotations

import pytest

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.collective_schedules import estimate_collective, place

SUPERPOD = Cluster.resolve("dgx-h100-superpod")  # 16,384 GPUs


def test_a_group_larger_than_the_system_is_refused() -> None:
    with pytest.raises(InputError, match="32,768 GPUs requested but the system has 16,384"):
        estimate_collective("all-reduce", SUPERPOD, 32768, 1 << 20)


def test_placement_spaces_the_group_over_the_system() -> None:
    """Spread: n GPUs total / n apart (16 of 16,384: every 1,024th); packed: neighbours."""
    members, stride = place(16384, 16, "spread")
    assert stride == 1024 and members.tolist() == [1024 * i for i in range(16)]
    members, stride = place(16384, 16, "packed")
    assert stride == 1 and members.tolist() == list(range(16))


@pytest.mark.parametrize(("op", "algorithm"), [("reduce-scatter", "tree"), ("all-gather", "nvls")])
def test_an_algorithm_the_operation_lacks_is_refused(op: str, algorithm: str) -> None:
    with pytest.raises(InputError, match=f"{op} has no {algorithm} algorithm here; choose from ring, hierarchical"):
        estimate_collective(op, SUPERPOD, 16, 1 << 20, algorithm=algorithm)


def test_an_unknown_model_is_refused() -> None:
    with pytest.raises(InputError, match="--sim must be analytical or flow, got 'packet'"):
        estimate_collective("all-reduce", SUPERPOD, 16, 1 << 20, sim="packet")


def test_fewer_than_one_flow_per_pair_is_refused() -> None:
    with pytest.raises(InputError, match="--flows-per-pair must be >= 1, got 0"):
        estimate_collective("all-reduce", SUPERPOD, 16, 1 << 20, sim="flow", flows_per_pair=0)
