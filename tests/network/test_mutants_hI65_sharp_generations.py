"""hI65 mutation wave on `network.sharp.sharp_switches`' generation rule (hL64): a tier priced per port takes the SHARP
of its port speed's NVIDIA Quantum generation only on InfiniBand (SHARP is Quantum InfiniBand's: NVIDIA's SHARP
documentation; the RoCE Ethernet switches of Meta's 24k cluster, Arista 7800 / Minipack2, do no in-network
reduction), and only where that generation does SHARP."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from infraplan.catalog import load_system
from infraplan.catalog.network_price_loader import InfinibandGeneration, load_switch_catalog
from infraplan.network.sharp import sharp_switches
from infraplan.network.topology import build_topology

# Meta's RoCE fabric with a 400G rack tier of a radix no catalogued switch has (priced per port): 400G is NDR's
# speed, whose InfiniBand generation does SHARPv3, but an Ethernet tier is not InfiniBand
ROCE_UNCATALOGUED = """
display_name: Meta's RoCE cluster, a 400G rack tier of radix 80 (test fixture)
source: a user's what-if (test fixture)
extends: meta-genai-roce-24k
network:
  tiers:
    - {name: rack, group_size: 16, oversubscription: 1, hop_latency_s: 2.0e-6, switch_radix: 80,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: pod, group_size: 3072, oversubscription: 7, hop_latency_s: 5.0e-6, switch_radix: 576,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: cluster, group_size: 24576, oversubscription: 1, hop_latency_s: 1.0e-5, switch_radix: 576,
       port_bandwidth_bytes_per_s: 400Gbps}
"""


def test_an_ethernet_tier_priced_per_port_does_no_sharp(tmp_path: Path) -> None:
    path = tmp_path / "roce.yaml"
    path.write_text(ROCE_UNCATALOGUED, encoding="utf-8")
    topo = build_topology(load_system(str(path)), 1024)
    assert topo.kind != "infiniband"
    reason = sharp_switches(topo)
    assert reason is not None and "rack tier: no catalog switch model" in reason


def test_a_generation_without_sharp_does_none() -> None:
    """A switch catalog whose 800G InfiniBand generation does no in-network reduction: the GB200 SuperPOD's rack tier
    (800G, priced per port) is refused, as a catalogued model that does none is."""
    catalog = load_switch_catalog()
    plain = InfinibandGeneration(port_bandwidth_bytes_per_s=800e9 / 8, generation="an 800G switch without SHARP",
                                 in_network_reduction="none")
    catalog = catalog.model_copy(update={"infiniband_generations": (plain,)})
    reason = sharp_switches(build_topology(load_system("gb200-nvl72-superpod"), 576), catalog)
    assert reason is not None and "leaf tier: no catalog switch model" in reason  # (hN65: the RA's SU leaves)


def test_a_generation_names_a_sharp_version_or_none() -> None:
    """`in_network_reduction` takes "none" or a SHARP version (v2 Quantum HDR, v3 Quantum-2 NDR, v4 Quantum-X800 XDR):
    a catalog file's "yes" says no version and is refused, not read as SHARP."""
    with pytest.raises(ValidationError):
        InfinibandGeneration(port_bandwidth_bytes_per_s=800e9 / 8, generation="XDR", in_network_reduction="yes")
