"""hI56's leftovers of flow vs analytical (hB, session 57; validation/notes/network_flow_tried.md "hB (session 57)").

* Gaudi 2's send-recv: a Gaudi 2's 3 scale-out NICs straddle two rail-group leaves (4 rails a leaf: GPU 1 has NIC 3
  on leaf 0, NICs 4-5 on leaf 1), so hI56's `rail_planes` gave no rails and a spread send-recv over 2:1 leaves was
  priced as over all 6 leaves (7.96 ms at 256 GPUs); now each NIC counts on its own leaf
  (`tier_bandwidth.STRADDLING_RAILS`): 256 spread sends from GPUs 0 and 4 of each node only, 8 senders' 24 NICs on
  one leaf's 16 uplinks, 1.5x the NIC time, 11.94 ms; the flow model converges to it as ECMP evens out (12.46 ms at
  1,024 flows a pair, 12.27 at 4,096). Fails before: 7.96 ms.
* A packed send-recv's pairs (i, i + n/2) load a tier domain with those whose partner is outside it
  (`tier_bandwidth.PAIRED_HALVES`): meta-rsc at 4:1 leaves, 256 GPUs, 35.8 -> 26.85 ms (flow 27.5 at 4,096 flows a
  pair). Fails before.
* The 2-3-node tree (README's exception, hH56): the flow tree's edges load a node's NICs with 0.5x / 0.75x a ring's
  channel loads; `tree_crossings.TREE_NIC_CROSSINGS` (OFF: nccl-tests' 2 A100 nodes of 4 HDR refute it) counts them
  and the two models agree to the bit; off, `difference_reason` says why. Fails before (no helper, no reason).
* Refuted as counting errors (pinned here so they stay explained): a tree all-reduce over railed 4:1 leaves (mi300x,
  dgx-a100 at 512 GPUs) and a spread send-recv on meta-rsc 2:1 leaves at 4,096 GPUs are ECMP collisions: with enough
  flows a pair the flow model lands on the analytical time to the bit, and at the default flows its
  `difference_reason` says "ECMP hash collisions". These pass before the change too.
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network import fabric as fabric_module
from infraplan.network import pair_loads, tier_bandwidth, tree_crossings
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.collectives import forget_float_values
from infraplan.network.tier_bandwidth import busiest_rail_share
from infraplan.network.tree_crossings import domain_edges_crossing

SIZE = 2.0**28
GAUDI2_NIC_RAILS = (0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5)  # GPU-major, 3 a GPU


def _leaves_at(system: str, factor: float, balancing: str | None = None) -> Cluster:
    """`system` at `factor` x its leaves' oversubscription; `balancing` ("ecmp": hashed flows, the physics these
    tests measured before hF73 made the catalog's InfiniBand fabrics route adaptively) overrides the file's."""
    spec = load_system(system)
    tiers = list(spec.network.tiers)
    tiers[0] = tiers[0].model_copy(update={"oversubscription": tiers[0].oversubscription * factor})
    update: dict[str, object] = {"tiers": tiers}
    if balancing is not None:
        update.update(load_balancing=balancing, load_balancing_source="test: hashed flows")
    return Cluster.resolve(spec.model_copy(update={"network": spec.network.model_copy(update=update)}))


def _forget() -> None:
    fabric_module._LINK_CACHE.clear()
    fabric_module.group_link_one.cache_clear()


def test_gaudi2_nics_are_counted_on_the_leaf_each_sits_on() -> None:
    fab = Cluster.resolve("gaudi2-cluster").fabric
    assert (fab.rail_of_gpu, fab.rail_nics_per_gpu, fab.rail_tiers) == (GAUDI2_NIC_RAILS, 3, 2)  # 6 spine planes
    # destinations GPU 0 / 4 (spacing 4): 8 senders on leaf 0 (GPU 0's 3 NICs) of its 4/3 GPUs' worth of NICs x 8 nodes
    assert busiest_rail_share(GAUDI2_NIC_RAILS, 16, 4, 0, 64, 3) == pytest.approx(8 / (8 * 4 / 3))
    # destination GPU 1 only (spacing 8, shift 1): 1/3 of each of its 8 senders on leaf 0, 2/3 on leaf 1
    assert busiest_rail_share(GAUDI2_NIC_RAILS, 8, 8, 1, 64, 3) == pytest.approx(8 * 2 / 3 / (8 * 4 / 3))
    # one NIC a GPU: the per-GPU rule as before
    assert busiest_rail_share(tuple(range(8)), 16, 16, 0, 256, 1) == 16 / 32


def test_gaudi2_spread_send_recv_over_2to1_leaves_is_priced_on_the_leaf_its_senders_load() -> None:
    cluster = _leaves_at("gaudi2-cluster", 2.0)
    even = _leaves_at("gaudi2-cluster", 2.0, "adaptive")  # the even spread (hE74: ECMP's collisions priced apart)
    nic = estimate_collective("send-recv", even, 16, SIZE, placement="spread").alpha_beta_time_s
    analytical = estimate_collective("send-recv", even, 256, SIZE, placement="spread")
    assert analytical.bottleneck_tier == "leaf"
    assert analytical.alpha_beta_time_s == pytest.approx(1.5 * nic, rel=1e-3)  # 24 NICs on 16 uplinks (was 7.96 ms)
    flow = estimate_collective("send-recv", cluster, 256, SIZE, placement="spread", sim="flow", flows_per_pair=1024)
    assert analytical.alpha_beta_time_s <= flow.time_s <= 1.05 * analytical.alpha_beta_time_s
    # at the file's own 1 flow a pair (3 over a GPU's NICs) the hashes collide, and the priced count says so
    assert estimate_collective("send-recv", cluster, 256, SIZE, placement="spread").time_s > 1.5 * flow.time_s


def test_the_straddling_rails_switch_restores_hI56s_price(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tier_bandwidth, "STRADDLING_RAILS", False)
    _forget()
    try:
        cluster = _leaves_at("gaudi2-cluster", 2.0, "adaptive")  # the even spread these prices count (hE74)
        assert cluster.fabric.rail_of_gpu == ()
        off = estimate_collective("send-recv", cluster, 256, SIZE, placement="spread").alpha_beta_time_s
        nic = estimate_collective("send-recv", cluster, 16, SIZE, placement="spread").alpha_beta_time_s
        assert off == pytest.approx(nic, rel=1e-3)
    finally:
        _forget()


@pytest.mark.parametrize("system", ["mi300x-cluster", "dgx-a100-superpod"])
def test_a_tree_over_railed_4to1_leaves_is_the_analytical_time_once_ecmp_evens_out(system: str) -> None:
    # hI56 read the 1.48x / 1.73x (1 flow a pair) as a per-rail counting error; every channel's tree crosses the
    # leaf domain alike, on its own rail's leaf, so the pooled count is the per-leaf one: at 16 flows a pair equal
    # (hF73: on the file's adaptive routing the flow model spreads each flow: the analytical time at 1 flow a pair)
    adaptive = estimate_collective("all-reduce", _leaves_at(system, 4.0), 512, SIZE, algorithm="tree", sim="flow")
    cluster = _leaves_at(system, 4.0, "ecmp")
    analytical = estimate_collective("all-reduce", cluster, 512, SIZE, algorithm="tree")
    assert adaptive.time_s == pytest.approx(analytical.alpha_beta_time_s, rel=1e-6)
    even = estimate_collective("all-reduce", cluster, 512, SIZE, algorithm="tree", sim="flow", flows_per_pair=16)
    assert even.time_s == pytest.approx(analytical.alpha_beta_time_s, rel=1e-6)
    default = estimate_collective("all-reduce", cluster, 512, SIZE, algorithm="tree", sim="flow")
    assert default.time_s > 1.4 * analytical.alpha_beta_time_s
    assert default.difference_reason is not None and "ECMP hash collisions (1 flow per GPU pair)" in \
        default.difference_reason


def test_meta_rsc_spread_send_recv_at_4096_is_ecmp_hashing() -> None:
    # 7 senders x 16 flows over a leaf's 10 uplinks: 1.62x at 16 flows a pair, the analytical time at 256 (hashed:
    # meta-rsc's own adaptive routing gives the analytical time at any flow count, hF73)
    adaptive = estimate_collective("send-recv", _leaves_at("meta-rsc", 2.0), 4096, SIZE, placement="spread",
                                   sim="flow")
    cluster = _leaves_at("meta-rsc", 2.0, "ecmp")
    assert adaptive.time_s == pytest.approx(adaptive.analytical_time_s, rel=1e-6)
    analytical = adaptive.analytical_time_s  # the even spread
    hashed = estimate_collective("send-recv", cluster, 4096, SIZE, placement="spread").alpha_beta_time_s
    at16 = estimate_collective("send-recv", cluster, 4096, SIZE, placement="spread", sim="flow", flows_per_pair=16)
    at256 = estimate_collective("send-recv", cluster, 4096, SIZE, placement="spread", sim="flow", flows_per_pair=256)
    assert at256.time_s == pytest.approx(analytical, rel=1e-6)
    assert at16.time_s > 1.5 * analytical
    # hE74: the analytical count hashes the fabric's own flows a pair too (`network.ecmp_tiers`, meta-rsc's file: 1)
    at1 = estimate_collective("send-recv", cluster, 4096, SIZE, placement="spread", sim="flow")
    assert at1.flows_per_pair == 1 and hashed == pytest.approx(at1.time_s, rel=0.10) and hashed > at16.time_s


def _tree(cluster: Cluster, gpus: int, placement: str, sim: str = "analytical"):  # type: ignore[no-untyped-def]
    return estimate_collective("all-reduce", cluster, gpus, SIZE, placement=placement, algorithm="tree", sim=sim)


def test_a_tree_over_two_or_three_domains_crosses_their_nics_less_than_a_ring() -> None:
    fab = Cluster.resolve("dgx-h100-superpod").fabric
    # per channel each domain is inner in one tree and a leaf of the other: 4 edges, (out + in) / 2 = 2, 2 k in all;
    # over 2 domains one edge a tree, over 3 one domain holds 3 of the 4 (NCCL's btree over 3 is a chain)
    assert [domain_edges_crossing(fab, 8.0 * m, 1.0) for m in (2, 3, 4, 5, 64)] == [8.0, 12.0, 16.0, 16.0, 16.0]
    assert [domain_edges_crossing(fab, float(m), 8.0) for m in (2, 3, 4)] == [1.0, 1.5, 2.0]


@pytest.mark.parametrize(("gpus", "placement"), [(16, "packed"), (24, "packed"), (2, "spread"), (3, "spread")])
def test_the_tree_nic_crossings_switch_makes_the_two_models_one(gpus: int, placement: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # the README's exception (hH56: the flow tree over 2-3 DGX H100 nodes 1.12x faster) and its spread twins (2 / 3
    # ranks a node apart: the flow 0.50x / 0.75x the analytical line) are the tree's NIC load, not a flow artefact
    cluster = Cluster.resolve("dgx-h100-superpod")
    flow = _tree(cluster, gpus, placement, "flow")
    off = _tree(cluster, gpus, placement)
    assert flow.time_s < 0.95 * off.alpha_beta_time_s
    assert flow.difference_reason is not None and "a ring's channel loads, where the analytical tree takes the " \
        "ring's NIC bound" in flow.difference_reason
    monkeypatch.setattr(tree_crossings, "TREE_NIC_CROSSINGS", True)
    forget_float_values()
    try:
        on = _tree(cluster, gpus, placement)
        assert on.alpha_beta_time_s == pytest.approx(flow.time_s, rel=1e-6)
        assert _tree(cluster, gpus, placement, "flow").difference_reason is None
    finally:
        monkeypatch.undo()
        forget_float_values()


def test_a_packed_send_recv_loads_a_leaf_domain_with_the_pairs_that_leave_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # meta-rsc at 4:1 leaves (160-GPU leaf domains, 5 uplinks a rail leaf of 20 NICs), 256 packed: pairs (i, i + 128);
    # senders 0-31 reach 128-159 inside the domain, 96 of its 160 GPUs leave: 2.4x the NIC (35.8 ms before: 128 of 160)
    assert float(tier_bandwidth.paired_halves_busy(np.array(128.0), 160)) == 96.0
    assert float(tier_bandwidth.paired_halves_busy(np.array(512.0), 160)) == 160.0  # every pair leaves
    cluster = _leaves_at("meta-rsc", 4.0)
    nic = estimate_collective("send-recv", cluster, 16, SIZE, placement="spread").alpha_beta_time_s
    on = estimate_collective("send-recv", cluster, 256, SIZE).alpha_beta_time_s
    assert on == pytest.approx(2.4 * nic, rel=1e-3)
    flow = estimate_collective("send-recv", cluster, 256, SIZE, sim="flow", flows_per_pair=4096).time_s
    assert on <= flow <= 1.05 * on  # 27.5 ms: ECMP's residue at 4,096 flows a pair
    # hF72: the command counts its pairs on each rail uplink (`pair_loads`), the same 96; the share rule toggled alone
    monkeypatch.setattr(pair_loads, "PAIR_LOADS", False)
    _forget()
    assert estimate_collective("send-recv", cluster, 256, SIZE).alpha_beta_time_s == pytest.approx(on, rel=1e-9)
    monkeypatch.setattr(tier_bandwidth, "PAIRED_HALVES", False)
    _forget()
    try:
        assert estimate_collective("send-recv", cluster, 256, SIZE).alpha_beta_time_s == pytest.approx(3.2 * nic,
                                                                                                        rel=1e-3)
    finally:
        monkeypatch.undo()
        _forget()
