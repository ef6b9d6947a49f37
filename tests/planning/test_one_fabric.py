"""`campus`, `facility --accelerator --count` and `plan` build one fabric for the same accelerators (the campus's
zones joined at 1:7, facility/campus_fabric.py), so they agree on IT power and network capex on both sides of the
one-zone boundary, and a plan site sized by `campus` holds what `campus` puts in it, within its power."""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec


def _site_plan(accelerator: str, power_w: float, installed: int = 0, qps: float = 1e6):
    """A one-site plan: `installed` devices of `accelerator` (sunk) and a ranking demand, at `power_w`."""
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "campus-site", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": qps, "latency_slo": "10ms"}],
        "pools": [{"name": "pool", "device": accelerator, "site": "s", "installed": installed}],
        "sites": [{"name": "s", "power": f"{power_w!r}W"}]}))


@pytest.mark.parametrize(("accelerator", "power_w"), [
    ("h100-sxm", 2.5e6),  # 1,608 H100: inside one zone (2,048 NIC links)
    ("gb200", 100e6),  # 47,016 GB200: 4 zones of 10,368 and one of 5,544 joined at 1:7 (hB66; 47,448 in 24 of 2,016)
])
def test_campus_facility_and_plan_agree_on_it_power_and_network_capex(accelerator: str, power_w: float) -> None:
    campus = plan_campus(power_w, accelerator)
    facility = size_facility(accelerator=accelerator, count=campus.accelerators)
    plan = _site_plan(accelerator, power_w, installed=campus.accelerators)
    (pool,) = plan.pools
    (site,) = plan.sites
    assert facility.accelerators == pool.devices == campus.accelerators
    assert facility.it_power_w == pytest.approx(campus.facility.it_power_w, rel=1e-12)
    assert pool.it_power_w == pytest.approx(campus.facility.it_power_w, rel=1e-12)
    assert facility.capex_usd is not None and campus.capex_usd is not None
    assert facility.capex_usd["network"] == pytest.approx(campus.capex_usd["network"], rel=1e-12)
    assert pool.fleet_value_usd == pytest.approx(campus.facility.capex_total_usd, rel=1e-12)
    assert site.facility_power_w <= power_w and not plan.warnings  # the site campus sized holds the campus


def test_a_plan_never_packs_more_power_than_its_site_cap() -> None:
    """dlrm-low on GB200 serves ~36.2 M QPS per device: 1.70004e12 QPS needs the 47,016 GB200 that 100 MW holds
    (campus; 48,672 before hN52 counted the NVL72 racks' NVSwitch trays, 47,448 before hB66 built the generic GB200
    on the SuperPOD's rail units with optical NIC links: 1.7157e12 QPS then), 1.72e12 needs ~47,570, which the
    MILP's 1,024-device watts admit but the packed fabric does not."""
    fits = _site_plan("gb200", 100e6, qps=1.70004e12)
    assert fits.pools[0].devices == plan_campus(100e6, "gb200").accelerators
    assert fits.sites[0].facility_power_w <= 100e6 and not fits.warnings
    with pytest.raises(InputError, match="power cap of 100 MW"):
        _site_plan("gb200", 100e6, qps=1.72e12)
