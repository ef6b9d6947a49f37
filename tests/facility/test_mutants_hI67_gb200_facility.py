"""hI67 mutation wave on hB66's GB200 facility: campus zones' aggregation at the zones' radix, and NIC optics for
the servers that exist (`cluster.power` prices the fabric with `bill_of_materials(..., populated_gpus=...)`):
`facility` of 200 GB200 builds the 288-GPU part of a rail unit (4 leaves of 72 down ports, 2 spines: the same 6
switches as 288 GPUs), but cables 50 trays' 200 NIC links and the leaves' uplinks for their ports in use, not 72
trays' 288: fewer transceivers, so less capex and less power. The rule, not the prices (other helpers edit the
optics' figures)."""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json

from infraplan.cluster import Cluster
from infraplan.cluster.cost import site_inputs
from infraplan.cluster.power import it_load
from infraplan.facility.campus_fabric import interconnect, zone_accelerators, zone_uplinks


def test_fewer_servers_in_the_same_fabric_buy_fewer_links(capsys: pytest.CaptureFixture[str]) -> None:
    part = cli_json(capsys, "facility --accelerator gb200 --count 200")
    whole = cli_json(capsys, "facility --accelerator gb200 --count 288")
    for report in (part, whole):
        assert (report["network"]["switches"], report["network"]["fabric_accelerators"]) == (6, 288)
    assert part["capex_usd"]["network"] < whole["capex_usd"]["network"]
    assert part["power_breakdown_w"]["network"] < whole["power_breakdown_w"]["network"]


def test_the_campus_aggregation_takes_the_zones_radix() -> None:
    """GB200 zones are radix 144's two-tier limit (10,368 GPUs, hB66); the aggregation above them is built of the same
    144-port switches (`interconnect`'s `radix`), not the default radix 64: two zones' 2 x ceil(2,592 trays x 4 NICs /
    7) = 2,964 uplinks fit a two-stage Clos of 144 ports (144^2 / 2 = 10,368 endpoints), so one aggregation tier above
    the zones' spines, where radix 64 (2,048) would need three stages."""
    layout = Cluster.for_accelerator("gb200", 72).layout
    site = site_inputs(layout)
    zone = it_load(layout, zone_accelerators(layout), site.cooling, site.cooling_name)
    dci = interconnect([(zone, 2)], layout)
    assert dci.uplinks == 2 * zone_uplinks(zone, layout) and dci.switches > 0
    assert dci.uplinks == 2964 and dci.tiers == 1
