"""hM77 mutation wave on hE2 76's DeepEP NVLink leg (`cluster.deepep.ep_forward_ranks`, `up_bytes_per_s`): the leg
`flex_dispatch_seconds` prices is the slowest side's at the measured NVL72 all-to-all rate of that side's ranks.
hE2 76's tests compared `ep_forward_ranks` with a brute force that reads `up_bytes_per_s` itself, and on the
shipped fabric RDMA binds, so neither the measured rate nor the side the dispatch reads moved an answer there."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.cluster.test_deepep_nvlink_spans_hE2_76 import _slowest_forwarding
from tests.ops.test_ops_expert_routing import routed_experts

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.cluster.deepep import ep_domains, ep_forward_ranks, up_bytes_per_s
from infraplan.network.nvlink_collectives import mnnvl_all_to_all_efficiency
from infraplan.ops.expert_routing import expected_nodes_per_token
from infraplan.ops.layer import Collective
from infraplan.training.expert_dispatch import flex_dispatch_seconds

SYSTEM = "gb200-nvl72-superpod"


def test_an_ep_group_inside_one_nvl72_rack_runs_at_the_measured_all_to_all_rate() -> None:
    """EP8 inside one rack: no RDMA, the dispatch is the NVLink leg alone, b x ranks reached x 7/8 at the NVL72
    all-to-all efficiency measured for 8 ranks (below 1: the line rate would price it faster); an HGX H100 has no
    table, its line rate."""
    shape = load_model("deepseek-v3")
    fabric = Cluster.resolve(SYSTEM).fabric
    efficiency = mnnvl_all_to_all_efficiency(fabric.accelerator, 8)
    assert efficiency is not None and 0.0 < float(efficiency) < 0.95
    copy = 4096 * shape.hidden_size * 2.0
    record = (Collective("all_to_all", "ep", copy * shape.experts_per_token, 8, 1),)
    leg = copy * float(expected_nodes_per_token(shape, 8)) * 7.0 / 8.0
    priced = float(flex_dispatch_seconds(shape, fabric, record))
    assert priced == pytest.approx(leg / (fabric.scale_up_bytes_per_s * float(efficiency)), rel=1e-9)
    h100 = Cluster.resolve("dgx-h100-superpod").fabric
    assert float(up_bytes_per_s(h100, 8)) == h100.scale_up_bytes_per_s


@pytest.mark.parametrize(("ep", "unit"), [(32, 60), (64, 60)])
def test_where_nvlink_binds_the_dispatch_is_the_slowest_sides_leg(ep: int, unit: int) -> None:
    """NVLink 200x slower (so it binds over RDMA): `flex_dispatch_seconds` of EP32 / EP64 on 60-GPU units, a token
    copy's bytes, is the brute force's slowest side (every group of a placement period, every side, DeepSeek-V3's
    router sampled) within 2 %, its side not the gcd's 4 ranks."""
    shape = load_model("deepseek-v3")
    base = Cluster.resolve(SYSTEM).fabric
    fabric = replace(base, placement_unit=unit, scale_up_bytes_per_s=base.scale_up_bytes_per_s / 200.0)
    counted = _slowest_forwarding(ep, 1, unit, routed_experts(256, 8, 8, 4, seed=0, tokens=4000), 256, fabric)
    copy = 4096 * shape.hidden_size * 2.0
    record = (Collective("all_to_all", "ep", copy * shape.experts_per_token, ep, 1),)
    ps_a_byte = float(flex_dispatch_seconds(shape, fabric, record)) / copy * 1e12
    assert ps_a_byte == pytest.approx(counted, rel=0.02)
    assert float(ep_forward_ranks(fabric, ep, 1)) != float(ep_domains(fabric, ep, 1)[1])  # (not the gcd's 4)
