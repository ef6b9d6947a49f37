"""Mutation wave 4 (hM4, session 35): the site's climate figures and the default cooling (cluster/cost.py).

Hand counts from the rules cluster/cost.py and facility/facility.py state; each fails on a one-line mutant the
earlier tests let through (validation/notes/test_suite_cost_tried.md, hM4).
"""

from __future__ import annotations

import pytest

from infraplan.catalog.facility_loader import load_cooling, load_location
from infraplan.cluster import Cluster
from infraplan.cluster.cost import default_cooling
from infraplan.cluster.power import ServerLayout
from infraplan.facility.facility import size_facility


def test_water_is_the_it_energy_times_the_wue_of_the_sites_climate() -> None:
    # Green Grid WUE: litres per kWh of IT energy; louisiana is "hot", air's hot WUE is 0.60 L/kWh (cooling.yaml)
    assert load_location("louisiana").climate == "hot"
    wue = load_cooling("air").wue_l_per_kwh["hot"]
    r = size_facility(system="dgx-h100-superpod", cooling="air", location="louisiana")
    it_kwh = r.it_power_w * r.assumptions.load_factor * 8760.0 / 1e3
    assert r.assumptions.wue_l_per_kwh == wue
    assert r.water_m3_per_year == pytest.approx(it_kwh * wue / 1e3)  # 1,000 L a cubic metre


def test_a_server_of_exactly_the_air_rack_limit_is_air_cooled() -> None:
    # cost.py: "Air when one packing unit fits an air-cooled rack": 8 x 700 W + 24.4 kW host = the 30 kW limit
    base = Cluster.resolve("dgx-h100-superpod").layout
    node = base.system.node.model_copy(update={"host_power_w": 30_000.0 - 8 * 700.0})
    layout = ServerLayout(base.accelerator, base.system.model_copy(update={"node": node}))
    assert load_cooling("air").max_rack_power_w == 30_000.0
    assert default_cooling(layout) == "air"
    node = base.system.node.model_copy(update={"host_power_w": 30_001.0 - 8 * 700.0})
    assert default_cooling(ServerLayout(base.accelerator, base.system.model_copy(update={"node": node}))) == "liquid"
