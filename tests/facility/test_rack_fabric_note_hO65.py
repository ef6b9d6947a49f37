"""`facility`: racks that split the fabric's top-of-rack leaf domains are said, with what optics would add (hO65;
hJ65's walk, product_review_tried.md "Left" 4: `--system meta-genai-roce-24k --cooling liquid` built 615 racks of
40 GPUs while the fabric kept 1,536 ToRs of 16 on copper DAC, and no note said so)."""

from __future__ import annotations

import pytest

from infraplan.facility.facility import size_facility
from infraplan.facility.rack_fabric import split_leaf_domains


@pytest.mark.parametrize(("domains", "domain_gpus", "rack_gpus", "split"), [
    (1536, 16, 40, 307),  # leaves of 2 servers in racks of 5: the 3rd of every 5 leaves straddles (1,536 // 5 = 307)
    (1536, 16, 16, 0), (1536, 16, 32, 0), (1536, 16, 48, 0),  # whole leaves in each rack
    (32, 32, 16, 32),  # leaves wider than a rack: every one spans two
    (5, 16, 40, 1),  # leaves 0-4 over GPUs 0-79: leaf 2 (GPUs 32-47) crosses the rack edge at 40
])
def test_split_leaf_domains_counts_the_leaves_across_a_rack_edge(domains: int, domain_gpus: int, rack_gpus: int,
                                                                split: int) -> None:
    assert split_leaf_domains(domains, domain_gpus, rack_gpus) == split


def test_roce_24k_in_liquid_racks_says_its_split_leaves_and_their_optics() -> None:
    liquid = size_facility(system="meta-genai-roce-24k", cooling="liquid")
    air = size_facility(system="meta-genai-roce-24k", cooling="air")
    assert (liquid.accelerators_per_rack, air.accelerators_per_rack) == (40, 16)
    note = liquid.rack_fabric_note or ""
    # 307 leaves x 16 NIC links x 2 transceivers = 9,824; the fabric's bill of materials is not changed by it
    assert "1,536 top-of-rack leaf switches" in note and "hold 40" in note and "307 of the 1,536" in note
    assert "9,824 transceivers" in note
    assert air.rack_fabric_note is None  # racks of 16: one leaf a rack
    assert (liquid.capex_usd or {})["network"] == (air.capex_usd or {})["network"] == 185_468_800


@pytest.mark.parametrize("system", ["meta-rsc", "gb200-nvl72-superpod"])
def test_no_note_where_leaves_sit_in_their_own_racks_or_the_rack_is_the_leaf_domain(system: str) -> None:
    """RSC's fabric is rail-optimised (optical NIC links); an NVL72 rack is its leaves' 72-GPU domain."""
    assert size_facility(system=system, cooling="liquid").rack_fabric_note is None
