"""DeepEP's copy a node for an EP group straddling a scale-up domain edge: the domains each group really spans (hE76).

`ep_domains` prices a block of n x s ranks that neither divides nor is divided by the placement unit U as N = n s /
gcd(U, n s) domains of gcd ranks: right for a per-rank all-to-all's NIC share (the smaller side's (n - d) / n leaves
the domain), but DeepEP sends a token once per domain it reaches, and "8 domains of 4" (EP32 on 60-GPU segments)
reached 4.0 domains a token on DeepSeek-V3 where every group spans 2 (28 | 4 up to 16 | 16), which a token reaches
1.97 times. Checked here by brute force: every group of a placement period, ranks to domains, the DeepSeek-V3 router
(or plain top-k) sampled per token, the slowest group's mean distinct domains.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.ops.test_ops_expert_routing import routed_experts

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.cluster.deepep import deepep_node_dedup, ep_domains, ep_node_copies, group_spans
from infraplan.ops.expert_routing import expected_nodes_over, expected_nodes_per_token
from infraplan.ops.layer import Collective
from infraplan.training.expert_dispatch import flex_dispatch_seconds


def _slowest_group_domains(n: int, stride: int, unit: int, picks: np.ndarray, experts: int) -> float:
    """Brute force: every EP group of a placement period (blocks of n s consecutive ranks, s groups interleaved in
    each; domain = rank // unit), the experts contiguous over its ranks; the largest mean distinct domains a token
    reaches over the groups."""
    block = n * stride
    period = int(np.lcm(block, unit))
    worst = 0.0
    for first in range(0, period, block):
        for offset in range(stride):
            domain_of_rank = (first + offset + stride * np.arange(n)) // unit
            domains = domain_of_rank[picks * n // experts]  # each pick's rank, then its domain
            reached = np.mean([len(set(row)) for row in domains.tolist()])
            worst = max(worst, float(reached))
    return worst


@pytest.mark.parametrize(("ep", "stride", "unit"), [(32, 1, 60), (16, 2, 60), (32, 1, 72)])
def test_a_straddling_group_is_priced_over_the_domains_it_spans(ep: int, stride: int, unit: int) -> None:
    """DeepSeek-V3 (256 experts, 8 groups, top-8 from 4): the slowest group's distinct domains a token reaches, by
    brute force over the placement (4,000 tokens, seed 0), within 2 %; the gcd's equal domains read 2x that."""
    shape = load_model("deepseek-v3")
    fabric = replace(Cluster.resolve("gb200-nvl72-superpod").fabric, placement_unit=unit)
    picks = routed_experts(256, 8, 8, 4, seed=0, tokens=4000)
    counted = _slowest_group_domains(ep, stride, unit, picks, 256)
    reached, spans = ep_node_copies(shape, fabric, ep, stride)
    assert float(reached) == pytest.approx(counted, rel=0.02)
    assert float(spans) == 2.0
    gcd_domains = float(ep_domains(fabric, ep, stride)[2])
    assert gcd_domains >= 4.0  # "4 or 8 domains of gcd ranks": the NIC share's reading, kept for NCCL
    assert float(expected_nodes_per_token(shape, gcd_domains)) > 1.5 * counted
    assert float(deepep_node_dedup(shape, fabric, ep, stride)) == pytest.approx(counted / 8, rel=0.02)


def test_unrestricted_top_k_over_unequal_spans_matches_the_brute_force() -> None:
    """Plain top-8 of 128 experts (no groups), EP 32 on 60-rank units (28 | 4 up to 16 | 16): the slowest group's
    distinct domains (seed 1) within 2 %, and each unequal split's own count (`expected_nodes_over`) too; the gcd's
    8 domains of 4 read 2.7x."""
    shape = load_model("qwen3-235b-a22b")  # 128 experts, top-8, no group limit
    assert (shape.num_experts, shape.experts_per_token, shape.is_group_limited) == (128, 8, False)
    fabric = replace(Cluster.resolve("gb200-nvl72-superpod").fabric, placement_unit=60)
    picks = routed_experts(128, 8, seed=1, tokens=4000)
    assert {(28, 4), (16, 16), (4, 28), (32,)} <= group_spans(32, 1, 60)
    counted = _slowest_group_domains(32, 1, 60, picks, 128)
    assert float(ep_node_copies(shape, fabric, 32, 1)[0]) == pytest.approx(counted, rel=0.02)
    assert float(expected_nodes_per_token(shape, 8.0)) > counted * 2.5
    for split in ((28, 4), (20, 12)):  # one domain of the split holds split[0] / 32 of the experts
        side = np.where(np.arange(32) < split[0], 0, 1)[picks * 32 // 128]
        drawn = float(np.mean([len(set(row)) for row in side.tolist()]))
        assert expected_nodes_over(shape, split) == pytest.approx(drawn, rel=0.02)


def test_aligned_groups_keep_the_equal_domains_bit_for_bit() -> None:
    """Blocks dividing the unit (inside) or divided by it (N whole domains): `expected_nodes_per_token` of
    `ep_domains`' N exactly, and the flex kernels' time with them; a straddling EP32 on 60 prices less scale-out."""
    shape = load_model("deepseek-v3")
    base = Cluster.resolve("gb200-nvl72-superpod").fabric
    for unit, ep in ((64, 32), (32, 64), (72, 8), (0, 256)):
        fabric = replace(base, placement_unit=unit)
        reached, spans = ep_node_copies(shape, fabric, np.asarray([ep, ep]), np.asarray([1, 2]))
        nodes = ep_domains(fabric, np.asarray([ep, ep]), np.asarray([1, 2]))[2]
        assert np.array_equal(spans, nodes)
        assert np.array_equal(reached, expected_nodes_per_token(shape, nodes))
    record = (Collective("all_to_all", "ep", 4096 * shape.hidden_size * 2.0 * 8, 32, 1),)
    straddling = float(flex_dispatch_seconds(shape, replace(base, placement_unit=60), record))
    aligned = float(flex_dispatch_seconds(shape, replace(base, placement_unit=64), record))
    eight = float(flex_dispatch_seconds(shape, replace(base, placement_unit=4), record))  # 8 whole domains of 4
    halves = float(flex_dispatch_seconds(shape, replace(base, placement_unit=16), record))  # 2 whole domains
    assert straddling == pytest.approx(halves, rel=1e-9)  # its slowest group, 16 | 16, reaches what 2 domains do
    assert straddling < 0.6 * eight and 0.0 < aligned < straddling  # (inside one domain: the NVLink leg only)
