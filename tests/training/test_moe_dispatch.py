"""EP dispatcher physics: DeepEP sends a token once per destination node over the scale-out network."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.training.estimate import estimate_training
from infraplan.training.expert_dispatch import deepep_own_node_factor
from infraplan.training.step_time import deepep_node_dedup

STACK = load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False})  # H018: 61 layers, PP8 x VP4
DEEPEP = STACK.model_copy(update={"moe": STACK.moe.model_copy(update={"dispatcher": "deepep"})})


def _monte_carlo_ratio(experts: int, k: int, nodes: int, seed: int = 0, tokens: int = 20000) -> float:
    """Remote distinct nodes / remote expert copies per token, routing top-k of E uniformly (seeded)."""
    rng = np.random.default_rng(seed)
    chosen = np.argsort(rng.random((tokens, experts)), axis=1)[:, :k]  # k distinct experts per token
    node_of = chosen // (experts // nodes)
    source = rng.integers(0, nodes, size=(tokens, 1))
    remote_copies = (node_of != source).sum()
    remote_nodes = sum(len(set(row[row != s[0]])) for row, s in zip(node_of, source, strict=True))
    return float(remote_nodes / remote_copies)


def test_dedup_matches_sampled_routing_across_eight_h100_nodes() -> None:
    shape = load_model("deepseek-v3")  # 256 experts, top-8
    ungrouped = shape.model_copy(update={"expert_groups": 1, "expert_groups_per_token": 1})
    fabric = Cluster.resolve("dgx-h100-superpod").fabric  # 8 GPUs per NVLink domain
    ratio = float(deepep_node_dedup(ungrouped, fabric, 64, 1))  # EP64 over 8 nodes
    assert ratio == pytest.approx(_monte_carlo_ratio(256, 8, 8), rel=0.02)
    assert 0.6 < ratio < 0.7  # ~4.6 remote nodes instead of 7 remote copies per token
    # node-limited routing (4 of 8 groups, one group per node): 3.5 remote nodes of the 7 copies
    assert float(deepep_node_dedup(shape, fabric, 64, 1)) == pytest.approx(0.5)


def test_no_dedup_inside_one_domain_and_most_across_two_nodes() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    assert float(deepep_node_dedup(load_model("deepseek-v3"), fabric, 8, 1)) == 1.0
    two_nodes = float(deepep_node_dedup(load_model("qwen3-30b-a3b"), fabric, 16, 1))  # 128 experts top-8
    assert two_nodes == pytest.approx(_monte_carlo_ratio(128, 8, 2), rel=0.02)
    assert two_nodes < 0.26  # the other node is hit once, not ~4 times per token


def _h018(stack):
    return estimate_training("deepseek-v3", "dgx-h100-superpod", 1024, tp=2, pp=8, vpp=4, ep=64, etp=1,
                             seq_len=4096, global_batch=8192, micro_batch=1, dtype="fp8", zero=1,
                             order="tp-cp-dp-pp", stack=stack)


def test_deepep_cuts_the_cross_node_all_to_all_and_nothing_else() -> None:
    plain, deepep = _h018(STACK), _h018(DEEPEP)
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    ratio = float(deepep_node_dedup(load_model("deepseek-v3"), fabric, 64, 1))
    ratio *= float(deepep_own_node_factor(fabric, 64, 1))  # DeepEP's rate per node copy, the own node's included
    assert deepep.breakdown_s.ep_comm == pytest.approx(ratio * plain.breakdown_s.ep_comm, rel=0.1)  # NIC-bound
    assert deepep.breakdown_s.compute == pytest.approx(plain.breakdown_s.compute, rel=1e-12)
    inside = dict(tp=1, pp=4, ep=64, vpp=1, seq_len=4096, global_batch=1024, micro_batch=1, dtype="mxfp8",
                  order="tp-cp-dp-pp")  # EP64 inside one NVL72 domain: nothing crosses the NICs
    a = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 256, stack=STACK, **inside)
    b = estimate_training("deepseek-v3", "gb200-nvl72-superpod", 256, stack=DEEPEP, **inside)
    assert a.breakdown_s.ep_comm == pytest.approx(b.breakdown_s.ep_comm, rel=1e-12)
    assert a.breakdown_s.compute == pytest.approx(b.breakdown_s.compute, rel=1e-12)
    # DeepEP's own permute of the received rows, no chunk sort (`ops.moe_routing`, round 13b): less element-wise work
    assert b.breakdown_s.other < a.breakdown_s.other
