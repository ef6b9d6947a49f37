"""Mutation tests on hT74's `serving.pipeline_hops.hops_note` (hM74): the line says the hops the price charges.

Stage groups of TP x attention DP are packed in stage order, D // group a domain, a replica starting at a domain
edge: hop j -> j + 1 crosses where stage j + 1 opens a domain (every hop where a group spans domains). Counted here
by hand on 8-GPU DGX H100 nodes.
"""

from __future__ import annotations

from dataclasses import replace

from infraplan.cluster import Cluster
from infraplan.network.collectives import Fabric
from infraplan.serving.pipeline_hops import hops_note


def _fabric() -> Fabric:
    fabric = Cluster.resolve("dgx-h100-superpod").fabric
    assert fabric.scale_up_domain == 8 and not fabric.placement_unit
    return fabric


def test_attention_dp_widens_the_stage_group() -> None:
    """TP2 x attention DP 2 = 4 GPUs a stage, 2 a node: of PP 4's 3 hops only 1 -> 2 leaves the node."""
    assert hops_note(_fabric(), 2, 4, 2, "GPU", "decode") == (
        "PP 4 (decode pool) on 8-GPU scale-up domains (2 stage groups of 4 a domain, in stage order; a replica starts "
        "at a domain edge): 1 of its 3 stage hops (stage 1 -> 2) crosses to the next domain over the NICs, 2 over the "
        "scale-up links (serving.pipeline_hops)")


def test_stage_groups_spanning_domains_cross_at_every_hop() -> None:
    assert hops_note(_fabric(), 16, 3, 1, "GPU") == (
        "PP 3 on 8-GPU scale-up domains (each stage's 16 GPUs span domains; a replica starts at a domain edge): 2 of "
        "its 2 stage hops (stage 0 -> 1, 1 -> 2) cross to the next domain over the NICs (serving.pipeline_hops)")


def test_the_placement_unit_is_the_domain_the_line_counts() -> None:
    """A fabric placed on 4-GPU units (`Fabric.placement_unit`, as `pipeline_hops_time` reads it): TP2 PP3 holds
    2 stage groups a unit, so hop 1 -> 2 crosses; on the 8-GPU node none would (no line)."""
    fabric = _fabric()
    assert hops_note(fabric, 2, 3, 1, "GPU") is None
    note = hops_note(replace(fabric, placement_unit=4), 2, 3, 1, "GPU")
    assert note is not None and note.startswith("PP 3 on 4-GPU scale-up domains (2 stage groups of 2 a domain")
    assert "1 of its 2 stage hops (stage 1 -> 2) crosses" in note
