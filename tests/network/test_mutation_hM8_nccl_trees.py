"""hM8 (mutation wave 8): NCCL's pipelined tree latency by hand where the group's shape is not whole domains
(network/nccl_trees.py `tree_latency_one`).

dgx-h100-superpod: 8-GPU NVLink domains (a 3 us step inside), 256-GPU leaf groups (2 us round trip). A group of n
ranks `stride` apart that leaves its domain has k = floor(8 / stride) members in each (fabric.group_domain's rule)
and m = ceil(n / k) domains, domain d's first member at rank d k stride; the latency is 2 x (ceil(log2 k) steps of
3 us + the longest path up NCCL's trees over the m domains, a hop inside one NVLink domain at 3 us, else at the
round trip of the lowest tier holding both ends, floored at the network floor).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.fabric import Fabric
from infraplan.network.nccl_trees import tree_latency_one

US = 1e-6


@pytest.fixture(scope="module")
def h100() -> Fabric:
    spec = load_system("dgx-h100-superpod")
    return Fabric.from_system(spec, load_accelerator(spec.accelerator))


def test_a_partial_last_domain_is_a_domain_of_the_tree(h100: Fabric) -> None:
    # 12 packed ranks: k = 8, m = ceil(12 / 8) = 2 (not 1): heads 0 and 8, one leaf hop of 2 us
    assert tree_latency_one(h100, 12.0, 1.0, 0.0) == pytest.approx(2.0 * (3 * 3 * US + 2 * US), rel=1e-12)
    # the network floor (5 us) lifts the leaf hop, not the NVLink steps
    assert tree_latency_one(h100, 12.0, 1.0, 5 * US) == pytest.approx(2.0 * (3 * 3 * US + 5 * US), rel=1e-12)


def test_members_per_domain_are_floored_and_a_hop_inside_one_nvlink_domain_is_a_step(h100: Fabric) -> None:
    # 4 ranks 3 apart (0, 3, 6, 9 leave the 8-GPU domain): k = floor(8 / 3) = 2, m = 2, one in-domain step; the
    # heads sit at 0 and 2 x 3 = 6, inside one NVLink domain: the tree hop is a 3 us step, not the 2 us leaf
    assert tree_latency_one(h100, 4.0, 3.0, 0.0) == pytest.approx(2.0 * (1 * 3 * US + 3 * US), rel=1e-12)
    # inside the domain (2 ranks 3 apart: 6 <= 8) the tree pays nothing here (the caller's in-domain steps)
    assert tree_latency_one(h100, 2.0, 3.0, 0.0) == 0.0
