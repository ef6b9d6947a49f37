"""The toy RoCE fabrics the flow-simulator tests share: TOY, 512 GPUs, 16-GPU racks with 16 single-link uplinks
each to 16 pod switches per 128-GPU pod, 1:4 above the pods; TINY, two 16-GPU leaves under one spine, 8:1;
`nic_toy`, 256 GPUs under 400G ports with the NICs (and the pod's ratio) varied (hN58, hN62)."""

TOY = """
display_name: toy RoCE cluster (512 GPUs, 1:4 above 128-GPU pods)
source: test fixture
accelerator: h100-sxm
total_accelerators: 512
node: {accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}
network:
  kind: roce
  collective_efficiency: 0.9
  ecmp_flows_per_pair: 16
  tiers:
    - {name: rack, group_size: 16, oversubscription: 1, switch_radix: 32, port_bandwidth_bytes_per_s: 400Gbps}
    - {name: pod, group_size: 128, oversubscription: 4, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}
    - {name: cluster, group_size: 512, oversubscription: 1, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}
"""

# two 16-GPU leaves, each with 2 x 400G uplinks (one bundle of 2 links) to one spine: 8:1 above the leaves
TINY = """
display_name: tiny two-leaf RoCE fabric (32 GPUs, 2 uplinks per leaf)
source: test fixture
accelerator: h100-sxm
total_accelerators: 32
node: {accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}
network:
  kind: roce
  collective_efficiency: 1.0
  ecmp_flows_per_pair: 16
  tiers:
    - {name: leaf, group_size: 16, oversubscription: 8, switch_radix: 18, port_bandwidth_bytes_per_s: 400Gbps}
    - {name: spine, group_size: 32, oversubscription: 1, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}
"""


# DGX B200 leaf domains at 1:4 that build no rails: a double binary tree crossing an oversubscribed tier (hN70, hM80)
O4 = """
display_name: o4, DGX B200 leaf domains at 1:4 that build no rails
source: test fixture (hF65's what-if)
accelerator: b200
total_accelerators: 2048
node: {accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: 400Gbps}
network:
  kind: infiniband
  # unrailed wiring stated (hI56): a rail-optimised domain at 1:4 now builds 8 railed leaves
  # (`rail_leaves.railed_leaf_count`); this fixture keeps the 6 unrailed leaves its hand counts are of
  rail_optimized: false
  collective_efficiency: 0.94
  tiers:
    - {name: leaf, group_size: 256, oversubscription: 4, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: spine, group_size: 2048, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
"""

def unrailed_mi300x(folder) -> str:  # type: ignore[no-untyped-def]
    """A what-if file in `folder`: the catalog's mi300x-cluster with its leaves wired unrailed (NIC link i of a
    64-GPU leaf domain on leaf i // 32: nodes 0-3 / 4-7), as it was built before its rail groups (hN70)."""
    from pathlib import Path

    import infraplan.catalog

    text = (Path(infraplan.catalog.__file__).parent / "systems" / "mi300x-cluster.yaml").read_text()
    assert text.count("rail_optimized: true") == 1
    path = Path(folder) / "mi300x-unrailed.yaml"
    path.write_text(text.replace("rail_optimized: true", "rail_optimized: false"))
    return str(path)


# 256 GPUs: 16-GPU racks (one 32-port leaf, 16 down, 16 up), `pod`:1 above 128-GPU pods; ports at 400G, NICs varied
NIC_TOY = """
display_name: toy RoCE fabric, {nic} NICs under 400G ports
source: test fixture
accelerator: h100-sxm
total_accelerators: 256
node: {{accelerators_per_node: 8, scale_up_domain: 8, nics_per_node: 8, nic_bandwidth_bytes_per_s: {nic}}}
network:
  kind: roce
  collective_efficiency: 0.9
  ecmp_flows_per_pair: 16
  tiers:
    - {{name: rack, group_size: 16, oversubscription: 1, switch_radix: 32, port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: pod, group_size: 128, oversubscription: {pod}, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}}
    - {{name: cluster, group_size: 256, oversubscription: 1, switch_radix: 64, port_bandwidth_bytes_per_s: 400Gbps}}
"""


def nic_toy(nic: str, pod: float = 4, radix: bool = True) -> str:
    """NIC_TOY's text for `nic` NICs and a `pod`:1 pod tier; without `radix` no tier names its switch radix (the
    fabric does not build: the configured-ratio fallback prices it)."""
    text = NIC_TOY.format(nic=nic, pod=pod)
    return text if radix else text.replace(", switch_radix: 32", "").replace(", switch_radix: 64", "")


# hN65: the GB200 NVL72 SuperPOD's tiers until 2026-12-06, 2 top-of-rack leaves of radix 72 per 72-GPU rack under
# radix-64 superpod switches: leaves that form no rails (1 or 2 a rack for 4 NICs a tray)
TOR_NVL72_TIERS = """  tiers:
    - {name: rack, group_size: 72, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 72,
       port_bandwidth_bytes_per_s: 800Gbps}
    - {name: superpod, group_size: 576, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 800Gbps}
"""


def tor_nvl72_superpod(folder, railed: bool, balancing: str = "adaptive") -> str:  # type: ignore[no-untyped-def]
    """A what-if file in `folder`: the catalog's gb200-nvl72-superpod on its pre-hN65 tiers (`TOR_NVL72_TIERS`,
    the fabric ECMP collides on between racks), declaring `rail_optimized: railed` and `load_balancing: balancing`
    (the catalog's adaptive routing, or hashed flows: "ecmp", hF73)."""
    from pathlib import Path

    import infraplan.catalog

    text = (Path(infraplan.catalog.__file__).parent / "systems" / "gb200-nvl72-superpod.yaml").read_text()
    assert text.count("rail_optimized: true") == 1 and text.count("  tiers:\n") == 1
    text = text[:text.index("  tiers:\n")] + TOR_NVL72_TIERS
    assert text.count("load_balancing: adaptive\n") == 1
    text = text.replace("load_balancing: adaptive\n", f"load_balancing: {balancing}\n")
    path = Path(folder) / f"gb200-nvl72-superpod-tor-{railed}-{balancing}.yaml"
    path.write_text(text.replace("rail_optimized: true", f"rail_optimized: {str(railed).lower()}"))
    return str(path)


# hN65: gb200-nvl72's tiers until 2026-12-06: 72-GPU racks of radix 72 under radix-64 pods of 1,152 and a cluster tier
PRE_HN65_NVL72_9216_TIERS = """  tiers:
    - {name: rack, group_size: 72, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 72,
       port_bandwidth_bytes_per_s: 800Gbps}
    - {name: pod, group_size: 1152, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 800Gbps}
    - {name: cluster, group_size: 9216, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 800Gbps}
"""


def pre_hn65_nvl72_9216(folder) -> str:  # type: ignore[no-untyped-def]
    """A what-if file in `folder`: the catalog's gb200-nvl72 (9,216 GPUs) on its pre-hN65 tiers
    (`PRE_HN65_NVL72_9216_TIERS`), the arithmetic the rail-only tests count by hand."""
    from pathlib import Path

    import infraplan.catalog

    text = (Path(infraplan.catalog.__file__).parent / "systems" / "gb200-nvl72.yaml").read_text()
    assert text.count("  tiers:\n") == 1
    path = Path(folder) / "gb200-nvl72-pre-hn65.yaml"
    path.write_text(text[:text.index("  tiers:\n")] + PRE_HN65_NVL72_9216_TIERS)
    return str(path)
