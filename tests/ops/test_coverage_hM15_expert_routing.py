"""Coverage wave hM15 (session 42): `ops.expert_routing` cases that fall back to unrestricted routing, untested.

Per the module docstring, layouts the group-limited formula does not cover take the unrestricted one,
P_miss = C(E - E/N, k) / C(E, k): a mean node count that is not whole (no whole groups per node), and a router
choosing fewer experts than groups (k < M: a selected group need not contribute its best expert). The oracle is
scipy's gamma-function binomial (which takes E - E/N non-whole), not the module's product; and for whole counts a
brute-force enumeration of the k-subsets of a small layout."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import binom

from infraplan.catalog import load_model
from infraplan.ops.expert_routing import expected_nodes_per_token, node_hit_probability

V3 = load_model("deepseek-v3")  # 256 experts, top-8, 8 groups, top-4 groups


def _unrestricted_hit(experts: int, k: int, nodes: float) -> float:
    return 1.0 - binom(experts - experts / nodes, k) / binom(experts, k)


@pytest.mark.parametrize("nodes", [2.5, 6.4, 12.8])
def test_a_mean_node_count_that_is_not_whole_takes_the_unrestricted_formula(nodes: float) -> None:
    got = node_hit_probability(V3, np.array([nodes, 4.0]))
    assert got[0] == pytest.approx(_unrestricted_hit(256, 8, nodes), rel=1e-12)
    # the whole count beside it keeps node-limited routing: 4 of 8 groups, 2 groups per node: C(6, 4) / C(8, 4)
    assert got[1] == pytest.approx(1.0 - binom(6, 4) / binom(8, 4), rel=1e-12)


def test_fewer_experts_than_groups_takes_the_unrestricted_formula() -> None:
    """k = 2 experts from the top-4 of 8 groups: the docstring's formula needs k >= M; unrestricted instead, on 8
    nodes: 1 - C(224, 2) / C(256, 2); at most k nodes per token either way."""
    shape = V3.model_copy(update={"experts_per_token": 2})
    assert shape.is_group_limited
    hit = node_hit_probability(shape, 8)
    assert float(hit) == pytest.approx(1.0 - binom(224, 2) / binom(256, 2), rel=1e-12)
    assert float(expected_nodes_per_token(shape, 8)) <= 2.0


def test_unrestricted_matches_a_brute_force_over_every_subset() -> None:
    """12 experts on 3 nodes (4 each), top-3 of every 3-subset equally likely: the share of subsets that miss
    node 0, counted."""
    shape = V3.model_copy(update={"num_experts": 12, "experts_per_token": 3, "expert_groups": 1,
                                  "expert_groups_per_token": 1})
    assert not shape.is_group_limited
    subsets = list(itertools.combinations(range(12), 3))
    missed = sum(1 for s in subsets if all(e // 4 != 0 for e in s))
    assert float(node_hit_probability(shape, 3)) == pytest.approx(1.0 - missed / len(subsets), rel=1e-12)
