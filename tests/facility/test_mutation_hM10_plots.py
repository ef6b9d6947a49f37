"""Mutation wave 10 (hM10, session 39): `facility --plot`'s figure carries the report's numbers.

The power chain's Sankey (module docstring): accelerators and hosts make the servers, servers, network and
storage the IT load, IT load and cooling / power distribution the facility, in MW; the build-out's bars are each
phase's new facility power and its line the cumulative.
"""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.facility import size_facility
from infraplan.facility.plots import facility_figure

NODES = ["accelerators", "hosts (CPU, NIC, fans, PSU loss)", "servers", "scale-out network", "storage & misc",
         "IT load", "cooling & power distribution", "facility", "scale-up switches"]


def _into(figure: Any) -> dict[str, float]:
    """MW flowing into each Sankey node."""
    link = figure.data[0].link
    out = dict.fromkeys(NODES, 0.0)
    for target, value in zip(link.target, link.value, strict=True):
        out[NODES[target]] += value
    return out


def test_the_power_chain_adds_up_from_chips_to_facility() -> None:
    """6 MW of accelerators, 2 of hosts, 1 of network, 0.5 of storage, 1.5 of cooling: servers 8, IT 9.5,
    facility 11 MW."""
    report = {"power_breakdown_w": {"accelerators": 6e6, "hosts": 2e6, "network": 1e6, "storage_and_misc": 0.5e6,
                                    "cooling_and_power_distribution": 1.5e6}, "capex_usd": None}
    into = _into(facility_figure(report))
    assert list(facility_figure(report).data[0].node.label) == NODES
    assert into["servers"] == pytest.approx(8.0, rel=1e-12)
    assert into["IT load"] == pytest.approx(9.5, rel=1e-12)
    assert into["facility"] == pytest.approx(11.0, rel=1e-12)


def test_a_reports_sankey_ends_at_its_facility_power_and_its_it_power() -> None:
    """A catalog system's report: the Sankey's facility node takes its facility power, the IT node its IT power."""
    report = size_facility(system="dgx-h100-superpod").model_dump()  # as `facility --plot` passes it
    into = _into(facility_figure(report))
    assert into["facility"] == pytest.approx(report["facility_power_w"] / 1e6, rel=1e-9)
    assert into["IT load"] == pytest.approx(report["it_power_w"] / 1e6, rel=1e-9)


def test_an_nvl72_sankey_carries_its_switch_trays_into_the_it_load() -> None:
    """hN52: a GB200 NVL72 rack's 3.6 kW of NVSwitch trays flow into the IT node, not into the servers."""
    report = size_facility(system="gb200-nvl72", cooling="liquid").model_dump()
    into = _into(facility_figure(report))
    p = report["power_breakdown_w"]
    assert p["scale_up_switches"] == pytest.approx(report["racks"] * 3600.0)
    assert into["servers"] == pytest.approx((p["accelerators"] + p["hosts"]) / 1e6, rel=1e-9)
    assert into["IT load"] == pytest.approx(report["it_power_w"] / 1e6, rel=1e-9)


def test_the_build_out_bars_are_each_phases_new_power() -> None:
    """Phases of 4 and 7 MW: bars 4 and 7, the cumulative line 4 and 11; capex bars in billion USD."""
    report = {"power_breakdown_w": {"accelerators": 6e6, "hosts": 2e6, "network": 1e6, "storage_and_misc": 0.5e6,
                                    "cooling_and_power_distribution": 1.5e6}, "capex_usd": {"servers": 3e9}}
    # each phase carries `CampusPhase.date`, the chart's label since hT59 (was str(year): "2026.5" for 2026H2)
    phases = [{"year": 2027, "date": "2027", "facility_power_w": 4e6, "cumulative_facility_power_w": 4e6},
              {"year": 2028, "date": "2028", "facility_power_w": 7e6, "cumulative_facility_power_w": 11e6}]
    fig = facility_figure(report, phases)
    bars, line = fig.data[2], fig.data[3]
    assert list(bars.y) == [4.0, 7.0]
    assert list(line.y) == [4.0, 11.0]
    assert list(fig.data[1].y) == [3.0]
