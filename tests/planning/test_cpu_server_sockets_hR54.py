"""A CPU part's server is a 2-socket server (hU, session 54: fleet-mix and plan housed Xeon 8480 / EPYC 9654 sockets 8
a server, the generic GPU node, while their files' host share is "the rest of a 2-socket server per socket": 329,063
Xeon 8480 in 41,133 servers where 2-socket servers are 164,532). The part file's `devices_per_server: 2` is the
generic node's size (cluster/generic.py), so `video`'s sockets, fleet-mix's servers and `plan`'s devices and racks
are one count: servers = ceil(sockets / 2). Fails on 8b3a15d (8 a server: 41,133 servers; plan 3,296 sockets in 60
racks)."""

from __future__ import annotations

import math

import pytest

from infraplan.catalog import load_accelerator
from infraplan.catalog.schemas import Accelerator
from infraplan.cluster import Cluster
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.video.transcode import estimate_video

JOB = {"input_video": "2160p60", "ladder": 5, "codec": "h264", "quality": "high"}  # estimate_video's names
SPEC = {"input": "2160p60", "ladder": 5, "codec": "h264", "quality": "high"}  # a video service's


@pytest.mark.parametrize("cpu", ["xeon-8480", "epyc-9654"])
def test_a_cpu_part_is_two_sockets_a_server_with_a_nic_each(cpu: str) -> None:
    node = Cluster.resolve(cpu).layout.system.node
    assert load_accelerator(cpu).devices_per_server == 2
    assert (node.accelerators_per_node, node.scale_up_domain, node.nics_per_node) == (2, 2, 2)
    assert node.host_power_w == 2 * load_accelerator(cpu).host_power_w  # the host share is per socket of 2


@pytest.mark.parametrize("cpu", ["xeon-8480", "epyc-9654"])
def test_video_fleet_mix_and_plan_count_the_same_sockets_and_two_socket_servers(cpu: str) -> None:
    sockets = estimate_video(cpu, daily_hours=1_000_000, baseline="none", **JOB).fleet.devices  # type: ignore[union-attr]
    fleet = plan_fleet(FleetSpec.model_validate({
        "name": "v", "objective": "power",
        "services": [{"name": "ingest", "kind": "video", "daily_hours": 1_000_000, **SPEC}],
        "pools": [{"name": "p", "device": cpu, "price_usd_per_device": 1500}]})).model_dump()
    (pool,) = fleet["pools"]
    assert pool["used"] == sockets and pool["devices_per_server"] == 2
    assert pool["servers"] == math.ceil(sockets / 2) == fleet["totals"]["servers"]
    if cpu == "xeon-8480":
        assert (sockets, pool["servers"]) == (329_063, 164_532)  # hU's walk: 41,133 "servers" of 8 before
    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "v", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "ingest", "kind": "video", "daily_hours": 10_000, **SPEC}],
        "pools": [{"name": "p", "device": cpu, "site": "s", "price_usd_per_device": 1500}],
        "sites": [{"name": "s", "power": "50MW", "location": "ohio"}]}))
    (row,) = plan.pools
    small = estimate_video(cpu, daily_hours=10_000, baseline="none", **JOB).fleet.devices  # type: ignore[union-attr]
    assert row.devices == 2 * math.ceil(small / 2)  # whole 2-socket servers (3,296 = 412 x 8 before, for 3,291)
    if cpu == "xeon-8480":  # 2 x 350 W + 2 x 150 W host = 1 kW a server: 30 in a 30 kW air rack, 60 sockets
        assert (small, row.devices) == (3_291, 3_292) and math.ceil(row.devices / 60) <= row.racks < 60  # 60 before


def test_a_part_file_without_the_figure_keeps_the_generic_node_of_8_and_the_figure_needs_a_source() -> None:
    xeon = load_accelerator("xeon-8480")
    plain = xeon.model_copy(update={"devices_per_server": None})
    assert Cluster.for_accelerator(plain).layout.system.node.accelerators_per_node == 8
    data = xeon.model_dump(exclude={"name"})
    with pytest.raises(ValueError, match="devices_per_server need host_source"):
        Accelerator.model_validate({**data, "name": "x", "host_power_w": None, "host_source": ""})
