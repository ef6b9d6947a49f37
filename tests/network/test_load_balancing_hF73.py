"""A fabric's load balancing, data per catalog system, used by the flow model (hF73, `network.adaptive_routing`).

InfiniBand fabrics route adaptively (NCCL_IB_ADAPTIVE_ROUTING defaults to 1 on IB): the flow model spreads each flow
over every equal-cost uplink, the even spread the analytical model prices, so the two agree where hC71's send-recv
cases were 1.31-1.37x apart and a Leonardo-like build 2.5x. RoCE / Ethernet fabrics hash each flow (ECMP, Gangidi et
al. SIGCOMM 2024; Llama 3 paper Sec. 3.3.1: 16 flows a GPU pair) and keep the collisions.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from tests.network.test_rail_planes_hF2 import _leonardo
from tests.network.test_send_recv_pairs_hF72 import SIZE, _h100_512_at_4to1

from infraplan.catalog import load_system
from infraplan.catalog.loader import list_presets
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network import pair_loads
from infraplan.network.adaptive_routing import pooled_links
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology


def _with(cluster_or_spec: Cluster | object, balancing: str) -> Cluster:
    spec = cluster_or_spec.system if isinstance(cluster_or_spec, Cluster) else cluster_or_spec
    net = spec.network.model_copy(update={"load_balancing": balancing, "load_balancing_source": "test"})
    return Cluster.resolve(spec.model_copy(update={"network": net}))


def test_every_catalog_system_states_its_load_balancing_with_a_source() -> None:
    for name in list_presets("systems"):
        net = load_system(name).network
        assert net.load_balancing is not None and net.load_balancing_source.strip(), name
        assert net.balancing == ("adaptive" if net.kind == "infiniband" else "ecmp"), name


def test_omitted_load_balancing_follows_the_kind_and_a_stated_one_needs_a_source() -> None:
    spec = load_system("dgx-h100-superpod")
    bare = spec.network.model_copy(update={"load_balancing": None, "load_balancing_source": ""})
    assert bare.balancing == "adaptive"
    assert bare.model_copy(update={"kind": "roce"}).balancing == "ecmp"
    with pytest.raises(ValidationError, match="load_balancing_source"):
        type(spec.network).model_validate({**spec.network.model_dump(), "load_balancing": "ecmp",
                                           "load_balancing_source": " "})


@pytest.mark.parametrize("gpus", [128, 256])
def test_hc71_send_recv_cases_agree_under_adaptive_routing(gpus: int) -> None:
    """1 flow a pair, 64 MiB, 4:1 leaves: flow = analytical (5.715 ms) within 0.1 %; ECMP kept 1.31x / 1.37x."""
    cluster = _h100_512_at_4to1()
    assert cluster.system.network.balancing == "adaptive"
    said = estimate_collective("send-recv", cluster, gpus, SIZE, placement="spread")
    flow = estimate_collective("send-recv", cluster, gpus, SIZE, placement="spread", sim="flow", flows_per_pair=1)
    assert flow.time_s == pytest.approx(said.time_s, rel=1e-3) and flow.difference_reason is None
    assert any("adaptive routing" in a for a in flow.assumptions)
    hashed = estimate_collective("send-recv", _with(cluster, "ecmp"), gpus, SIZE, placement="spread", sim="flow",
                                 flows_per_pair=1)
    assert hashed.time_s / said.time_s > 1.25
    # hE74: the analytical model of the hashed copy prices the collisions itself (`network.ecmp_tiers`): no gap left
    priced = estimate_collective("send-recv", _with(cluster, "ecmp"), gpus, SIZE, placement="spread")
    assert priced.time_s == pytest.approx(hashed.time_s, rel=0.05) and hashed.difference_reason is None


def test_leonardo_like_send_recv_agrees_adaptive_and_collides_under_ecmp(tmp_path: Path) -> None:
    """3,200 GPUs packed, 512 of them: adaptive 1.000x the analytical time, ECMP at 1 flow a pair 2.5x."""
    cluster = Cluster.resolve(load_system(_leonardo(tmp_path, 3200)))
    said = estimate_collective("send-recv", cluster, 512, SIZE)
    adaptive = estimate_collective("send-recv", cluster, 512, SIZE, sim="flow")
    hashed = estimate_collective("send-recv", _with(cluster, "ecmp"), 512, SIZE, sim="flow")
    assert adaptive.time_s == pytest.approx(said.time_s, rel=1e-3)
    assert hashed.time_s / said.time_s == pytest.approx(2.5, rel=0.01)


def test_roce_keeps_ecmp_collisions() -> None:
    """meta-genai-roce-24k: E-ECMP at 16 flows a pair; 2,048 GPUs packed send-recv 1.56x the alpha-beta line, 1.00x
    if its switches routed adaptively (the collision is the fabric's, not the model's)."""
    spec = load_system("meta-genai-roce-24k")
    cluster = Cluster.resolve(spec)
    said = estimate_collective("send-recv", cluster, 2048, SIZE)
    hashed = estimate_collective("send-recv", cluster, 2048, SIZE, sim="flow")
    assert (spec.network.balancing, hashed.flows_per_pair) == ("ecmp", 16)
    even = estimate_collective("send-recv", _with(spec, "adaptive"), 2048, SIZE).alpha_beta_time_s
    assert hashed.time_s / even == pytest.approx(1.557, rel=0.01)
    # hE73: the analytical answer prices the expected collisions (`network.ecmp_collisions`), 1.566x the even line;
    # hE74: so do the line and the priced time (`network.ecmp_tiers`), what train charges a pipeline hop
    assert said.time_s / even == pytest.approx(1.566, rel=0.01)
    assert said.alpha_beta_time_s == said.priced_time_s == pytest.approx(said.time_s, rel=1e-9)
    spread = estimate_collective("send-recv", _with(spec, "adaptive"), 2048, SIZE, sim="flow")
    assert spread.time_s == pytest.approx(even, rel=1e-3)


def test_pools_sum_the_uplinks_a_flow_is_spread_over() -> None:
    """DGX H100 SuperPOD, 16,384 GPUs: a leaf's pool is its rail plane's spine bundles; each pool's members carry the
    pool's summed capacity, so the members' raw over pooled capacities sum to the pool count (a leaf each at tier 1)."""
    topo = build_topology(load_system("dgx-h100-superpod"))
    links = build_links(topo, 450e9, 0.94)
    pooled = pooled_links(topo, links)
    assert pooled.pooled and not links.pooled
    for t in range(1, len(topo.tiers)):
        for offset in (links.bundle_up[t], links.bundle_down[t]):
            block = slice(offset, offset + topo.tiers[t].switches * links.fan_down[t])
            raw, pools = links.capacity[block], pooled.capacity[block]
            assert pools.min() >= topo.tiers[t].switches_per_plane * raw.max() * (1 - 1e-9)
            share = float((raw / pools).sum())
            assert share == pytest.approx(round(share)) and round(share) < raw.size
            if t == 1:
                assert round(share) == topo.tiers[0].switches
    first = links.bundle_up[1]
    assert pooled.capacity[first] == pytest.approx(topo.tiers[1].switches_per_plane * links.capacity[first])


def test_failed_links_leave_a_pool_its_healthy_capacity() -> None:
    """Adaptive routing steers round failed links: a 512-GPU DGX H100 SuperPOD's all-reduce ring loses nothing to
    one failed leaf uplink; every leaf uplink failed is refused in one line."""
    cluster = Cluster.resolve(load_system("dgx-h100-superpod"))
    base = estimate_collective("all-gather", cluster, 512, SIZE, sim="flow")
    one = estimate_collective("all-gather", cluster, 512, SIZE, sim="flow", failed_links="leaf:1")
    assert one.time_s == pytest.approx(base.time_s, rel=1e-3)
    assert any("adaptive routing spreads flows over the healthy links" in a for a in one.assumptions)
    with pytest.raises(InputError, match="no healthy path"):
        estimate_collective("all-gather", cluster, 512, SIZE, sim="flow", failed_links="leaf:100%")


def test_send_recv_pairs_are_counted_once_for_time_and_tier(monkeypatch: pytest.MonkeyPatch) -> None:
    """`PricedCollective.tier` carries the binding link: the analytical answer counts the pairs 4 times (the algorithm
    choice's, the alpha-beta line's and its 1-byte latency share's `analytical_time`, and the price), not 5 (the
    binding tier's own count before hF73), and names the same tier."""
    calls: list[int] = []
    count = pair_loads.busiest_pair_link

    def counting(*args: object) -> tuple[float, str]:
        calls.append(1)
        return count(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(pair_loads, "busiest_pair_link", counting)
    said = estimate_collective("send-recv", _h100_512_at_4to1(), 192, SIZE, placement="spread")
    assert len(calls) == 4
    assert said.bottleneck_tier == pair_loads.send_recv_seconds_alone(
        _h100_512_at_4to1().fabric, SIZE, 192, 2)[1]  # type: ignore[index]
