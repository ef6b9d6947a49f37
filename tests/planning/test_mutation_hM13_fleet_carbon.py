"""Mutation wave 13 (hM13, session 41) on the planning lines that call `facility.carbon.embodied_co2_t_per_year`
(hC40, session 40): fleet-mix's per-device carbon (`fleet_pool_money.per_device_costs`) times the devices bought
is `facility --accelerator DEVICE --count BOUGHT`'s, and by hand the catalog's kgCO2e per device over the servers'
life (the tests before checked `plan`, `compare` and `campus`, not fleet-mix's per-device figures)."""

from __future__ import annotations

import pytest

from infraplan.catalog.facility_loader import load_economics
from infraplan.catalog.hardware_costs import load_hardware_cost
from infraplan.facility.facility import size_facility
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec


@pytest.mark.parametrize("qps", [3.0e6, 1.0e8])
def test_fleet_mix_embodied_carbon_is_the_facility_s_for_the_devices_bought(qps: float) -> None:
    """A DLRM ranking service on H100 only: the pool buys whole 8-GPU servers; its embodied tCO2e per year is
    bought x the catalog's kg per H100 / 1,000 / the catalog's server life, its total the operational plus that,
    each as `facility` gives them for that count."""
    spec = FleetSpec.model_validate({
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-medium", "qps": qps, "latency_slo": "20ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm"}]})
    (pool,) = plan_fleet(spec).pools
    bought = pool.devices_bought
    assert bought % 8 == 0 and bought >= pool.used > 0
    cost = load_hardware_cost("h100-sxm")
    assert cost is not None and cost.embodied_kgco2e_per_accelerator is not None
    hand = bought * cost.embodied_kgco2e_per_accelerator / 1e3 / load_economics().server_life_years
    assert pool.embodied_co2_t_per_year == pytest.approx(hand, rel=1e-12)
    assert pool.co2_t_per_year is not None and pool.co2_t_per_year > 0.0
    assert pool.total_co2_t_per_year == pytest.approx(pool.co2_t_per_year + hand, rel=1e-12)
    if pool.priced_at_devices == bought:
        facility = size_facility(accelerator="h100-sxm", count=bought)
        assert pool.embodied_co2_t_per_year == pytest.approx(facility.embodied_co2_t_per_year, rel=1e-12)
        assert pool.total_co2_t_per_year == pytest.approx(facility.total_co2_t_per_year, rel=1e-12)
