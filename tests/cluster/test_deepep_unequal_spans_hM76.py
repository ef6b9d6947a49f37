"""hM76 mutation wave on hE76's DeepEP spans (`cluster.deepep.ep_node_copies` in `flex_dispatch_seconds`): a group
whose slowest placement splits it unequally over its domains is priced at that split's own reach, not at the
equal split's of as many domains."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.cluster.test_deepep_straddling_spans_hE76 import _slowest_group_domains
from tests.ops.test_ops_expert_routing import routed_experts

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.cluster.deepep import ep_node_copies, group_spans
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import Collective
from infraplan.training.expert_dispatch import flex_dispatch_seconds


def test_an_unequal_four_domain_span_prices_its_own_reach() -> None:
    """EP32 on 12-GPU units (3 GB200 trays a Slurm segment): blocks of 32 lie 12 | 12 | 8, 8 | 12 | 12 or
    4 | 12 | 12 | 4; the slowest, 4 domains of unequal shares, reaches fewer domains a token than 4 equal ones
    (brute force over DeepSeek-V3's router, 4,000 tokens, seed 0). Scale-out binds on both (NVLink beside it), and
    4 whole 8-GPU domains take the same RDMA rate, so the flex dispatch's time on 12 over that on 8 is the brute
    force's count over 4 equal domains' (~0.91), not 1."""
    shape = load_model("deepseek-v3")
    base = Cluster.resolve("gb200-nvl72-superpod").fabric
    assert sorted(group_spans(32, 1, 12)) == [(4, 12, 12, 4), (8, 12, 12), (12, 12, 8)]
    counted = _slowest_group_domains(32, 1, 12, routed_experts(256, 8, 8, 4, seed=0, tokens=4000), 256)
    reached, spans = ep_node_copies(shape, replace(base, placement_unit=12), 32, 1)
    assert float(spans) == 4.0 and float(reached) == pytest.approx(counted, rel=0.02)
    record = (Collective("all_to_all", "ep", 4096 * shape.hidden_size * 2.0 * 8, 32, 1),)
    straddling = float(flex_dispatch_seconds(shape, replace(base, placement_unit=12), record))
    whole = float(flex_dispatch_seconds(shape, replace(base, placement_unit=8), record))
    equal = float(expected_nodes_per_token(shape, 4.0))
    assert straddling / whole == pytest.approx(counted / equal, rel=0.02)
    assert straddling / whole < 0.95


def test_every_interleaved_group_of_a_block_is_spanned() -> None:
    """EP16 at stride 3 on 20-rank units: a block of 48 ranks holds 3 interleaved groups. The block at rank 0:
    offset 0 (ranks 0, 3, .., 45) lies 7 | 7 | 2 over domains 0-2, offset 1 (1, 4, .., 46) 7 | 6 | 3, offset 2
    (2, 5, .., 47) 6 | 7 | 3 (domain edges at 20 and 40); the groups at offsets 1 and 2 are spans too."""
    spans = group_spans(16, 3, 20)
    assert {(7, 7, 2), (7, 6, 3), (6, 7, 3)} <= spans
    assert all(sum(s) == 16 for s in spans)
