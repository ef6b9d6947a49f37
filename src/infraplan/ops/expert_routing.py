"""Where a token's routed experts live: the expected number of distinct nodes one MoE token reaches.

An EP group of n ranks spread over N nodes (scale-up domains) holds the E routed experts contiguously,
E / N per node (Megatron-Core and DeepEP place expert e on rank floor(e / (E / n))). A token picks k experts.
A dispatcher that sends a token once per destination node (DeepEP normal kernels) moves bytes in
proportion to the distinct nodes it reaches, so their expected count sets the scale-out traffic.

* Unrestricted routing, balanced (every k-subset of the E experts equally likely: top-k of i.i.d. scores,
  as `moe_router_force_load_balancing` draws them): a given node is missed with
  P_miss = C(E - E/N, k) / C(E, k) (computed as a product, so N need not divide E).
* Group-limited routing (DeepSeek-V2 arXiv:2405.04434 sec. 2.2.3 "device-limited routing"; DeepSeek-V3
  arXiv:2412.19437 sec. 2.1.2 and 3.2.2 "node-limited routing": the 256 experts form 8 groups, one per node,
  and each token's top-8 experts come from the M = 4 groups with the highest sum of their top-2 scores, "each
  token will be sent to at most 4 nodes"). HF configs: `n_group` G, `topk_group` M. The group score is
  the sum of the group's best experts, so a selected group practically always contributes its best expert
  to the top-k; the other k - M experts fall on the M (E/G - 1) remaining candidates. With c_g = E/G experts
  per group, a node touches g_n groups with c of its experts in each (N <= G: g_n = G/N whole groups, c = c_g;
  N > G: one group, c = E/N). j of the node's groups are selected with the hypergeometric probability
  H(j) = C(g_n, j) C(G - g_n, M - j) / C(G, M), and then the node is missed only if no selected group's best
  expert is on it, (1 - c/c_g)^j, and none of the other k - M picks is either:
      P_miss = sum_j H(j) (1 - c/c_g)^j C(M (c_g - 1) - j c, k - M) / C(M (c_g - 1), k - M).
  With groups on nodes (N <= G) this is C(G - g_n, M) / C(G, M) and a token reaches at most M nodes. A seeded
  Monte-Carlo of the DeepSeek-V3 router (`tests/ops/test_ops_expert_routing.py`) agrees within 1 % at
  N = 2 ... 32; the uniform "k of the selected groups' experts" model undercounts by up to 9 % at N = 8.
  Layouts where neither of N and G divides the other, and k < M, use the unrestricted formula (an upper
  bound: limiting groups only concentrates a token's experts).

The expected distinct nodes per token is N (1 - P_miss) (every node alike by symmetry).
"""

from __future__ import annotations

from math import comb

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer_records import ArrayLike


def _unrestricted_miss(experts: float, k: int, nodes: np.ndarray) -> np.ndarray:
    miss = np.ones(np.shape(nodes))
    for i in range(k):  # C(E - E/N, k) / C(E, k) as a product
        miss = miss * np.maximum(experts - experts / nodes - i, 0.0) / (experts - i)
    return miss


def _group_limited_miss(experts: int, k: int, groups: int, chosen: int, nodes: int) -> float | None:
    """P(a given node gets none of a token's experts) under group-limited routing; None: not aligned."""
    if k < chosen or experts % groups or nodes < 1:
        return None
    per_group = experts // groups
    if nodes <= groups and groups % nodes == 0:
        node_groups, on_node = groups // nodes, per_group
    elif nodes > groups and nodes % groups == 0 and experts % nodes == 0:
        node_groups, on_node = 1, experts // nodes
    else:
        return None
    return _limited_miss(k, groups, chosen, per_group, node_groups, on_node)


def _limited_miss(k: int, groups: int, chosen: int, per_group: int, node_groups: int, on_node: int) -> float:
    """The module docstring's group-limited P_miss of a node on `node_groups` groups, `on_node` experts in each."""
    others = chosen * (per_group - 1)
    miss = 0.0
    for j in range(min(node_groups, chosen) + 1):
        selected = comb(node_groups, j) * comb(groups - node_groups, chosen - j) / comb(groups, chosen)
        best_elsewhere = (1.0 - on_node / per_group) ** j
        rest_elsewhere = comb(max(others - j * on_node, 0), k - chosen) / comb(others, k - chosen)
        miss += selected * best_elsewhere * rest_elsewhere
    return miss


def node_hit_probability(shape: TransformerShape, nodes: ArrayLike) -> np.ndarray:
    """P(a given one of N nodes holds at least one of a token's k routed experts), per element of `nodes`."""
    n = np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)
    experts, k = shape.num_experts, shape.experts_per_token
    miss = _unrestricted_miss(float(experts), k, n)
    if shape.is_group_limited:
        for value in np.unique(n):
            if value != int(value):
                continue
            grouped = _group_limited_miss(experts, k, shape.expert_groups, shape.expert_groups_per_token,
                                          int(value))
            if grouped is not None:
                miss = np.where(n == value, grouped, miss)
    return np.asarray(1.0 - miss, dtype=np.float64)


def expected_nodes_per_token(shape: TransformerShape, nodes: ArrayLike) -> np.ndarray:
    """Mean distinct nodes (of N) a token's routed experts live on: N (1 - P_miss); at most M when G >= N."""
    n = np.maximum(np.asarray(nodes, dtype=np.float64), 1.0)
    return np.asarray(n * node_hit_probability(shape, n), dtype=np.float64)


def expected_nodes_over(shape: TransformerShape, ranks: tuple[int, ...]) -> float:
    """Mean distinct domains a token's routed experts live on, for an EP group whose ranks sit `ranks[i]` in domain i
    (consecutive ranks, the E experts contiguous over them): the sum of each domain's hit probability, its share
    c = E x ranks[i] / n of the experts (hE76: groups straddling a domain edge, EP32 on 60-GPU segments, 28 | 4
    up to 16 | 16, where "8 domains of 4" read 4.0 domains a token on DeepSeek-V3; its slowest group reaches 1.97).
    Group-limited routing where a domain's experts are whole groups or lie in one group (the module docstring's
    P_miss with its own g_n, c), else unrestricted. Equal shares: `expected_nodes_per_token` of len(ranks) domains."""
    experts, k, n = shape.num_experts, shape.experts_per_token, sum(ranks)
    per_group = experts // shape.expert_groups if shape.is_group_limited and k >= shape.expert_groups_per_token else 0
    reached, first = 0.0, 0
    for count in ranks:
        share, start = experts * count / n, experts * first / n
        first += count
        miss = float(_unrestricted_miss(float(experts), k, np.asarray(experts / share))[()])
        if per_group and share == int(share) and start == int(start):
            lo, size = int(start), int(share)
            if lo % per_group == 0 and size % per_group == 0:
                miss = _limited_miss(k, shape.expert_groups, shape.expert_groups_per_token, per_group,
                                     size // per_group, per_group)
            elif lo // per_group == (lo + size - 1) // per_group:
                miss = _limited_miss(k, shape.expert_groups, shape.expert_groups_per_token, per_group, 1, size)
        reached += 1.0 - miss
    return reached
