"""Scale-up switch power (hN52): an NVL72 rack's 9 NVSwitch trays, ~3.6 kW (../shared/reference/datacenter.md:112),
counted once per scale-up domain in the one IT-load roll-up (`cluster.power`), and nothing added where the node's
published power already holds its switches (DGX / HGX baseboards)."""

from __future__ import annotations

import pydantic
import pytest

from infraplan.catalog import load_system
from infraplan.catalog.schemas import System
from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility
from infraplan.planning.device_money import device_money, device_site

TRAY_W = 4 * 1200.0 + 1800.0  # a GB200 compute tray: 4 GPUs at their 1,200 W board power + 1.8 kW of host
SWITCH_TRAYS_W = 9 * 400.0  # 9 NVSwitch trays of ~400 W a rack (datacenter.md:112: 3.6 kW)


def _without_switches(name: str) -> System:
    system = load_system(name)
    return system.model_copy(update={"node": system.node.model_copy(update={"scale_up_switch_power_w": 0.0})})


def test_nvl72_rack_is_its_trays_plus_its_switch_trays_by_hand() -> None:
    r = size_facility(system="gb200-nvl72", cooling="liquid")
    assert r.rack_power_w == pytest.approx(18 * TRAY_W + SWITCH_TRAYS_W)  # 122.4 kW
    assert 120e3 <= r.rack_power_w <= 132e3  # STH ~120 kW to SemiAnalysis-style ~132 kW (datacenter.md:110)
    assert r.power_breakdown_w["scale_up_switches"] == pytest.approx(r.racks * SWITCH_TRAYS_W)  # 128 racks
    assert r.rack_fit is not None and r.rack_fit.rack_power_w == pytest.approx(r.rack_power_w)
    assert all(row.rack_power_w == pytest.approx(18 * TRAY_W + SWITCH_TRAYS_W) for row in r.racks_by_fill)
    p = r.power_breakdown_w
    assert r.it_power_w == pytest.approx(p["accelerators"] + p["hosts"] + p["scale_up_switches"] + p["network"]
                                         + p["storage_and_misc"])


def test_the_switch_trays_are_the_only_difference_from_a_rack_without_them() -> None:
    with_ = size_facility(system="gb300-nvl72", cooling="liquid")
    without = size_facility(system=_without_switches("gb300-nvl72"), cooling="liquid")
    assert with_.rack_power_w - without.rack_power_w == pytest.approx(SWITCH_TRAYS_W)
    assert without.rack_power_w == pytest.approx(18 * (4 * 1400.0 + 1800.0))  # GB300: 1,400 W boards
    assert with_.it_power_w - without.it_power_w == pytest.approx(SWITCH_TRAYS_W)  # one rack, misc on servers only
    assert without.power_breakdown_w["scale_up_switches"] == 0.0


def test_a_partial_domain_still_buys_its_switch_trays() -> None:
    """100 GB200 = 25 trays: one full rack and one of 7 trays, each with its 9 switch trays."""
    r = size_facility(accelerator="gb200", count=100, cooling="liquid")
    assert r.servers == 25 and r.racks == 2
    assert r.power_breakdown_w["scale_up_switches"] == pytest.approx(2 * SWITCH_TRAYS_W)
    rows = {row.servers_per_rack: row.rack_power_w for row in r.racks_by_fill}
    assert rows == {18: pytest.approx(18 * TRAY_W + SWITCH_TRAYS_W), 7: pytest.approx(7 * TRAY_W + SWITCH_TRAYS_W)}


@pytest.mark.parametrize("name", ["dgx-h100-superpod", "dgx-b200", "hgx-h200", "mi300x-cluster"])
def test_a_node_whose_power_counts_its_switches_is_unchanged(name: str) -> None:
    system = load_system(name)
    assert system.node.scale_up_switch_power_w == 0.0 and system.node.scale_up_switch_source.startswith("0:")
    r = size_facility(system=name)
    assert r.power_breakdown_w["scale_up_switches"] == 0.0
    server_w = (r.power_breakdown_w["accelerators"] + r.power_breakdown_w["hosts"]) / r.servers
    assert r.rack_power_w == pytest.approx(r.servers_per_rack * server_w)
    if name == "dgx-h100-superpod":  # the published 10.2 kW system maximum, NVSwitch baseboard included
        assert server_w == pytest.approx(10.2e3)


def test_plan_and_fleet_mix_price_the_switch_trays_facility_counts() -> None:
    """device_money (plan's and fleet-mix's pools) and facility build the same system to the same watt."""
    site = device_site("gb200-nvl72-superpod", CostOverrides())
    money = device_money("gb200-nvl72-superpod", 576, site)
    r = size_facility(system="gb200-nvl72-superpod", cooling=site.cooling_name)
    assert money.it_w == pytest.approx(r.it_power_w, rel=1e-12)
    assert r.power_breakdown_w["scale_up_switches"] == pytest.approx(8 * SWITCH_TRAYS_W)  # 8 racks of 72


def test_switch_power_without_a_source_is_refused() -> None:
    data = load_system("gb200-nvl72").model_dump()
    data["node"]["scale_up_switch_source"] = " "
    with pytest.raises(pydantic.ValidationError, match="scale_up_switch_source"):
        System.model_validate(data)
    data["node"]["scale_up_switch_power_w"] = 0.0  # none claimed: no source needed
    assert System.model_validate(data).node.scale_up_switch_power_w == 0.0
