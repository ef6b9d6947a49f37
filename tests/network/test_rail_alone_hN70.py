"""One collective group alone on a rail-optimised fabric climbs through its own rails' planes (hN, session 70).

A user's three-tier Clos of 24,576 H100 (rail-optimised 256-GPU leaf domains, 1:7 above each 2,048-GPU pod, built
6.4:1) answered an all-to-all of 256 MiB over 3,072 GPUs spread (one a node, every member on rail 0) in 6.85 ms,
NIC-bound, where the flow model finds 36.1 ms on the spine and its `difference_reason` blamed ECMP collisions (996
flows on the busiest spine link against 936 on average: 1.06x of the 5.3x). The analytical model gave the group its
share of the whole pod's uplinks (256 / 2,048); its bytes can only leave through the rail-0 leaves and their spine
plane, 1 / 8 of them (`fabric.RAIL_ALONE`, `tier_bandwidth.busiest_rail_share`, as spread send-recv pairs since hI56).
Before the change the first two tests failed (6.85 ms, 'nic'); no catalog system's answer moves (none has an
oversubscribed tier split by rail).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network import fabric
from infraplan.network.collective_schedules import estimate_collective

CLOS3 = """\
display_name: 3-tier Clos, 24,576 H100, 1:7 above each pod
source: test
accelerator: h100-sxm
total_accelerators: 24576
node:
  accelerators_per_node: 8
  scale_up_domain: 8
  nics_per_node: 8
  nic_bandwidth_bytes_per_s: 400Gbps
  cpus_per_node: 2
  host_power_w: 4600W
  scale_up_switch_power_w: 0W
  scale_up_switch_source: inside the host figure
network:
  kind: infiniband
  rail_optimized: true
  collective_efficiency: 0.94
  tiers:
    - {name: leaf, group_size: 256, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: spine, group_size: 2048, oversubscription: "1:7", hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
    - {name: core, group_size: 24576, oversubscription: 1, hop_latency_s: 1.0e-6, switch_radix: 64,
       port_bandwidth_bytes_per_s: 400Gbps}
"""
MIB_256 = 2**28


@pytest.fixture(scope="module")
def clos3(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    path = tmp_path_factory.mktemp("hN70") / "clos3.yaml"
    path.write_text(CLOS3)
    return Cluster.resolve(str(path))


def _fresh() -> None:
    fabric._LINK_CACHE.clear()
    fabric.group_link_one.cache_clear()


def test_a_one_rail_group_is_priced_on_its_rail_plane(clos3: Cluster) -> None:
    _fresh()
    answer = estimate_collective("all-to-all", clos3, 3072, MIB_256, "spread")
    assert answer.stride == 8 and answer.bottleneck_tier == "spine"
    # hand count: a pod's 256 members (all on rail 0) send 11/12 of their bytes to other pods through the rail-0
    # plane: 8 spines x 5 uplinks x 50 GB/s = 2 TB/s; 256 x 0.917 x 268 MB / 2 TB/s = 31.5 ms (+ latency, efficiency)
    assert 31e-3 < answer.alpha_beta_time_s < 36e-3
    flow = estimate_collective("all-to-all", clos3, 3072, MIB_256, "spread", sim="flow")
    assert flow.bottleneck_tier == "spine"
    # within 1 % under the file's adaptive routing (hF73: each flow over every equal-cost uplink); 1.0-1.10x hashed,
    # the ECMP collisions its reason named (996 / 936 flows on the busiest / mean link)
    assert 0.99 <= flow.time_s / answer.alpha_beta_time_s <= 1.01


@pytest.mark.parametrize(("gpus", "rails"), [(4096, 4), (1024, 1)])
def test_a_group_on_some_rails_shares_their_planes(clos3: Cluster, gpus: int, rails: int,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _fresh()
    new = estimate_collective("all-to-all", clos3, gpus, MIB_256, "spread")
    flow = estimate_collective("all-to-all", clos3, gpus, MIB_256, "spread", sim="flow")
    monkeypatch.setattr(fabric, "RAIL_ALONE", False)
    _fresh()
    old = estimate_collective("all-to-all", clos3, gpus, MIB_256, "spread")
    _fresh()
    assert old.bottleneck_tier == "nic" and new.bottleneck_tier == "spine" == flow.bottleneck_tier
    assert new.alpha_beta_time_s > 1.5 * old.alpha_beta_time_s  # stride 6: rails 0, 2, 4, 6; stride 24: rail 0 only
    assert 0.99 <= flow.time_s / new.alpha_beta_time_s <= 1.01  # was 2.1x / 1.9x; 1.0-1.25x hashed (before hF73)


@pytest.mark.parametrize("system", ["dgx-h100-superpod", "meta-rsc", "meta-genai-ib-24k", "gb200-nvl72-superpod"])
def test_catalog_systems_unchanged(system: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cluster = Cluster.resolve(system)
    gpus = min(2048, cluster.system.total_accelerators // 2)
    _fresh()
    new = [estimate_collective(op, cluster, gpus, MIB_256, "spread").time_s for op in ("all-to-all", "all-reduce")]
    monkeypatch.setattr(fabric, "RAIL_ALONE", False)
    _fresh()
    old = [estimate_collective(op, cluster, gpus, MIB_256, "spread").time_s for op in ("all-to-all", "all-reduce")]
    _fresh()
    assert new == old


def test_an_oversubscribed_rail_leaf_prices_a_spread_group_on_its_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DGX H100 SuperPOD at 4:1 leaves (hI56's what-if): 1,024 GPUs spread (stride 16, rail 0 only) load one leaf
    of each scalable unit; the flow model's 3.38 ms against 1.62 ms before, 3.00 ms now."""
    spec = load_system("dgx-h100-superpod")
    tiers = list(spec.network.tiers)
    tiers[0] = tiers[0].model_copy(update={"oversubscription": 4.0})
    cluster = Cluster.resolve(spec.model_copy(update={"network": spec.network.model_copy(update={"tiers": tiers})}))
    _fresh()
    new = estimate_collective("all-to-all", cluster, 1024, 2**26, "spread")
    flow = estimate_collective("all-to-all", cluster, 1024, 2**26, "spread", sim="flow")
    assert new.bottleneck_tier == "leaf" == flow.bottleneck_tier
    assert 0.98 <= flow.time_s / new.alpha_beta_time_s <= 1.02  # adaptive (hF73): 0.986x; hashed 1.0-1.2x
    monkeypatch.setattr(fabric, "RAIL_ALONE", False)
    _fresh()
    assert estimate_collective("all-to-all", cluster, 1024, 2**26, "spread").alpha_beta_time_s < 0.6 * \
        new.alpha_beta_time_s
    _fresh()


def test_a_job_filling_its_domains_is_not_this_rule(clos3: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    """`train`'s groups fill their domains (`Fabric.concurrent_groups` None): the rule reads a group alone only."""
    alone = replace(clos3.fabric, concurrent_groups=1)
    assert clos3.fabric.concurrent_groups is None
    links = []
    for flag in (True, False):
        monkeypatch.setattr(fabric, "RAIL_ALONE", flag)
        _fresh()
        links.append((float(fabric.group_link(clos3.fabric, 3072, 8, True)[0]),
                      float(fabric.group_link(alone, 3072, 8, True)[0])))
    _fresh()
    assert links[0][0] == links[1][0]  # the job's DP all-to-all: unchanged
    assert links[0][1] < 0.2 * links[1][1]  # the group alone: its rail plane
