"""Mutation wave hI75 on `network.priced_collective` (hE74's ECMP basis, hF74's last measured column).

`priced_collective` prices an ECMP fabric's expected hash collisions (`network.ecmp_tiers`) and says so in the basis:
the factor over the even spread, the even spread's time, and which groups were priced at once. The even spread is
what the same system answers when its fabric is balanced adaptively (every flow spread evenly: a copy of the system
file with `load_balancing: adaptive`), so the line can be checked against a second run. The all-to-all table
(catalog/nccl/simai_ata_ratio.csv) has figures up to 16 nodes (its 32-128-node columns are empty): 16 nodes is read,
17 is past it.
"""

from __future__ import annotations

import re

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective

SIZE = 64 * 2**20


def _adaptive(name: str) -> Cluster:
    spec = load_system(name)
    net = spec.network.model_copy(update={"load_balancing": "adaptive", "load_balancing_source": "test"})
    return Cluster.resolve(spec.model_copy(update={"network": net}))


def test_the_basis_factor_and_even_time_are_the_adaptive_fabrics_answer() -> None:
    """`collective all-reduce --gpus 1024` on mi355x-cluster (ECMP, one flow a pair): one ring alone collides on the
    leaves. The basis's even-spread time is the adaptive copy's answer (431 µs) and its factor is the hashed time
    over it (> 1), to the printed digits; the group priced is "this one group alone" (`collective` prices one
    group; train prices every group of a shape at once)."""
    hashed = estimate_collective("all-reduce", Cluster.resolve("mi355x-cluster"), 1024, SIZE)
    even = estimate_collective("all-reduce", _adaptive("mi355x-cluster"), 1024, SIZE)
    said = re.search(r"ECMP's expected hash collisions, ([0-9.]+)x the even spread's ([0-9,.]+) µs",
                     hashed.time_basis)
    assert said is not None
    factor, even_us = float(said[1]), float(said[2].replace(",", ""))
    assert even_us == pytest.approx(even.time_s * 1e6, abs=0.5)
    assert factor > 1.1 and factor == pytest.approx(hashed.time_s / even.time_s, abs=5e-4)
    assert "for this one group alone" in hashed.time_basis
    assert "every group of its shape at once" not in hashed.time_basis


def test_no_collision_line_where_the_hashed_time_is_the_even_spreads() -> None:
    """64 GPUs spread over meta-genai-roce-24k (ECMP, 16 flows a pair): one ring's flows never bind its uplinks, so
    the hashed time is the even spread's and the basis says nothing of collisions (not "1.000x")."""
    hashed = estimate_collective("all-reduce", Cluster.resolve("meta-genai-roce-24k"), 64, SIZE, placement="spread")
    even = estimate_collective("all-reduce", _adaptive("meta-genai-roce-24k"), 64, SIZE, placement="spread")
    assert hashed.time_s == pytest.approx(even.time_s, rel=1e-12)
    assert "ECMP" not in hashed.time_basis


@pytest.mark.parametrize(("gpus", "nodes", "past"), [(128, 16, False), (136, 17, True), (256, 32, True)])
def test_an_all_to_all_past_the_tables_last_measured_column_says_so(gpus: int, nodes: int, past: bool) -> None:
    """dgx-h100-superpod (8 GPUs a node): 128 GPUs are 16 nodes, the all-to-all table's last measured column, read
    as it is; 17 and 32 nodes take that column's figures, and the basis names it."""
    basis = estimate_collective("all-to-all", Cluster.resolve("dgx-h100-superpod"), gpus, SIZE).time_basis
    assert f"simai_ata_ratio.csv at {nodes} nodes" in basis
    assert ("its last measured column's (16 nodes)" in basis) is past
