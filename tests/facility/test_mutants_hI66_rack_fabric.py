"""hI66 mutation wave on `facility.rack_fabric` (hO65): mutants F4, F7, F8, F10.

* Leaf domains laid out from GPU 0 (`split_leaf_domains`): two 16-GPU leaves in a 40-GPU rack hold GPUs 0-31, both
  inside rack 0 (F10 counted leaves 1-2, GPUs 16-47, one across the edge at 40).
* A rack holds servers x GPUs a server: MTIA v1's rack is 21 systems of 12 (252, its one rack switch's domain) and
  MTIA 2i's 3 chassis of 24 (72, one rack switch): each leaf whole in its rack, no note (F4 took 8 GPUs a server).
* The note's optics by hand (catalog/network_prices/links.yaml at 400G: $900 and 12 W a transceiver, $100 of fibre,
  $150 a DAC): RoCE 24K in 40-GPU racks splits 307 of 1,536 leaves of 16 NIC links, 4,912 links, each 2
  transceivers + fibre - DAC = $1,750: $8,596,000 and 9,824 x 12 W = 117,888 W (F7 / F8 priced the optics alone).
"""

from __future__ import annotations

import pytest

from infraplan.facility.facility import size_facility
from infraplan.facility.rack_fabric import split_leaf_domains


@pytest.mark.parametrize(("domains", "domain_gpus", "rack_gpus", "split"), [(2, 16, 40, 0), (3, 16, 40, 1),
                                                                            (1, 40, 40, 0), (2, 40, 40, 0)])
def test_leaves_are_laid_out_from_gpu_0(domains: int, domain_gpus: int, rack_gpus: int, split: int) -> None:
    assert split_leaf_domains(domains, domain_gpus, rack_gpus) == split


@pytest.mark.parametrize(("system", "rack"), [("mtia-v1-rack", 252), ("mtia-v2-rack", 72)])
def test_racks_of_servers_wider_than_8_hold_their_leaf_whole(system: str, rack: int) -> None:
    result = size_facility(system=system, cooling="air")
    assert result.accelerators_per_rack == rack
    assert result.rack_fabric_note is None


def test_the_notes_optics_by_hand() -> None:
    note = size_facility(system="meta-genai-roce-24k", cooling="liquid").rack_fabric_note or ""
    links = 307 * 16
    assert f"{2 * links:,} transceivers" in note
    assert f"${links * (2 * 900 + 100 - 150):,}" in note and f"{2 * links * 12:,} W" in note, note
