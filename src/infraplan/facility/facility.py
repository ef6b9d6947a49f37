"""Facility sizing: from a system (or an accelerator and a count) to IT and facility power, racks, floor area,
water, capex, opex, $/GPU-hour, energy and carbon per year.

Facility power = IT power x PUE, PUE from the cooling type and the site's climate (cooling.yaml, locations.yaml);
water = IT energy x WUE (Green Grid definition); annual energy = peak IT x load factor x PUE x 8,760 h (the load
factor, 0.8, is the one in Epoch AI's energy cross-check). See power_chain.py and cost.py for the parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from infraplan.catalog import load_system
from infraplan.catalog.facility_loader import (
    CoolingType,
    Location,
    list_facility_presets,
    load_build_type,
    load_cooling,
    load_economics,
    load_hardware_cost,
    load_location,
)
from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.facility.carbon import embodied_co2_t, operational_co2_t
from infraplan.facility.cost import HOURS_PER_YEAR, CostOverrides, annual_costs, capex_usd, usd_per_gpu_hour
from infraplan.facility.power_chain import (
    ITLoad,
    ServerLayout,
    it_load,
    layout_for_accelerator,
    layout_from_system,
    server_power_w,
)

DEFAULT_LOCATION = "us-average"


@dataclass(frozen=True)
class SiteInputs:
    """Everything about a site besides the hardware: cooling, location, prices, lives, factors."""

    cooling_name: str
    cooling: CoolingType
    location_name: str
    location: Location
    build_type: str
    pue: float
    wue_l_per_kwh: float
    electricity_usd_per_mwh: float
    grid_gco2_per_kwh: float
    facility_usd_per_w: float
    lives_years: dict[str, float]
    maintenance_fraction: float
    load_factor: float
    cost_of_capital: float
    overrides: CostOverrides


def default_cooling(layout: ServerLayout) -> str:
    """Air when one packing unit (server or scale-up rack) fits an air-cooled rack, else direct liquid."""
    unit_w = layout.packing_unit_accelerators // layout.accelerators_per_server * float(server_power_w(layout))
    return "air" if unit_w <= load_cooling("air").max_rack_power_w else "liquid"


def site_inputs(layout: ServerLayout, cooling: str | None = None, location: str | None = None,
                build_type: str | None = None, overrides: CostOverrides | None = None) -> SiteInputs:
    over = overrides or CostOverrides()
    cooling_name = cooling or default_cooling(layout)
    if cooling_name not in list_facility_presets("cooling") and "/" not in cooling_name:
        known = ", ".join(list_facility_presets("cooling"))
        raise InputError(f"--cooling must be one of {known}, got {cooling_name!r}")
    cool = load_cooling(cooling_name)
    location_name = location or DEFAULT_LOCATION
    loc = load_location(location_name)
    build_name = build_type or cool.default_build_type
    build = load_build_type(build_name)
    econ = load_economics()

    def pick(value, default):
        return default if value is None else value

    return SiteInputs(
        cooling_name=cooling_name, cooling=cool, location_name=location_name, location=loc, build_type=build_name,
        pue=pick(over.pue, cool.pue[loc.climate]),
        wue_l_per_kwh=pick(over.wue_l_per_kwh, cool.wue_l_per_kwh[loc.climate]),
        electricity_usd_per_mwh=pick(over.electricity_usd_per_mwh, loc.electricity_usd_per_mwh),
        grid_gco2_per_kwh=pick(over.grid_gco2_per_kwh, loc.grid_gco2_per_kwh),
        facility_usd_per_w=pick(over.facility_usd_per_w, build.usd_per_w),
        lives_years={"servers": pick(over.server_life_years, econ.server_life_years),
                     "network": pick(over.network_life_years, econ.network_life_years),
                     "facility": pick(over.facility_life_years, build.life_years)},
        maintenance_fraction=pick(over.maintenance_fraction_of_capex_per_year,
                                  econ.maintenance_fraction_of_capex_per_year),
        load_factor=pick(over.load_factor, econ.load_factor), cost_of_capital=pick(over.cost_of_capital,
                                                                                  econ.cost_of_capital),
        overrides=over,
    )


def embodied_per_accelerator_kg(accelerator: str, overrides: CostOverrides) -> float | None:
    if overrides.embodied_kgco2e_per_accelerator is not None:
        return overrides.embodied_kgco2e_per_accelerator
    cost = load_hardware_cost(accelerator)
    return cost.embodied_kgco2e_per_accelerator if cost else None


def facility_report(layout: ServerLayout, load: ITLoad, site: SiteInputs) -> dict[str, Any]:
    """All facility outputs for an IT load at a site (the JSON object of `infraplan facility`)."""
    accelerator = layout.accelerator.name
    it_w = load.it_w
    facility_w = it_w * site.pue
    it_energy_mwh = it_w * site.load_factor * HOURS_PER_YEAR / 1e6
    energy_mwh = it_energy_mwh * site.pue
    capex = capex_usd(load, accelerator, site.facility_usd_per_w, site.overrides)
    costs = annual_costs(capex, site.lives_years, energy_mwh, site.electricity_usd_per_mwh,
                         site.maintenance_fraction, site.cost_of_capital)
    embodied_kg = embodied_per_accelerator_kg(accelerator, site.overrides)
    embodied_t = float(embodied_co2_t(load.accelerators, embodied_kg)) if embodied_kg is not None else None
    return {
        "it_power_w": it_w,
        "facility_power_w": facility_w,
        "pue": site.pue,
        "racks": load.racks,
        "rack_power_w": load.rack_power_w,
        "floor_area_m2": load.racks * site.cooling.floor_area_m2_per_rack,
        "water_m3_per_year": it_energy_mwh * 1e3 * site.wue_l_per_kwh / 1e3,
        "capex_usd": capex,
        "opex_usd_per_year": costs["opex_usd_per_year"],
        "usd_per_gpu_hour": usd_per_gpu_hour(costs["tco_usd_per_year"], load.accelerators),
        "energy_mwh_per_year": energy_mwh,
        "co2_t_per_year": float(operational_co2_t(energy_mwh, site.grid_gco2_per_kwh)),
        "accelerator": accelerator,
        "system": layout.system,
        "accelerators": load.accelerators,
        "servers": load.servers,
        "servers_per_rack": load.servers_per_rack,
        "accelerators_per_rack": load.servers_per_rack * layout.accelerators_per_server,
        "cooling": site.cooling_name,
        "location": site.location_name,
        "climate": site.location.climate,
        "build_type": site.build_type,
        "power_breakdown_w": {
            "accelerators": load.accelerators_w, "hosts": load.hosts_w, "network": load.network_w,
            "storage_and_misc": load.misc_w, "cooling_and_power_distribution": facility_w - it_w,
        },
        "network": {"switch_ports": load.switch_ports, "switches": load.switches, "tiers": load.network_tiers,
                    "model": load.network_model, "pricing": "per-port power and price estimate (network.yaml)"},
        "capex_total_usd": sum(capex.values()),
        "annualized_capex_usd_per_year": costs["annualized_capex_usd_per_year"],
        "opex_breakdown_usd_per_year": costs["opex_breakdown_usd_per_year"],
        "tco_usd_per_year": costs["tco_usd_per_year"],
        "embodied_co2_t": embodied_t,
        "embodied_co2_t_per_year": embodied_t / site.lives_years["servers"] if embodied_t is not None else None,
        "assumptions": {
            "load_factor": site.load_factor, "wue_l_per_kwh": site.wue_l_per_kwh,
            "electricity_usd_per_mwh": site.electricity_usd_per_mwh, "grid_gco2_per_kwh": site.grid_gco2_per_kwh,
            "facility_usd_per_w": site.facility_usd_per_w, "lives_years": site.lives_years,
            "maintenance_fraction_of_capex_per_year": site.maintenance_fraction,
            "cost_of_capital": site.cost_of_capital,
        },
    }


def size_facility(system: str | System | None = None, accelerator: str | None = None, count: int | None = None,
                  cooling: str | None = None, location: str | None = None, build_type: str | None = None,
                  rack_power_w: float | None = None, overrides: CostOverrides | None = None) -> dict[str, Any]:
    """Size the facility for a whole system, or for `count` accelerators of a kind (Python API of the CLI)."""
    if (system is None) == (accelerator is None):
        raise InputError("give either --system, or --accelerator with --count")
    if system is not None:
        if count is not None:
            raise InputError("--count goes with --accelerator; a --system brings its own size")
        sys_spec = load_system(system) if isinstance(system, str) else system
        layout = layout_from_system(sys_spec)
        count = sys_spec.total_accelerators
    else:
        if count is None or count <= 0:
            raise InputError(f"--count must be a positive number of accelerators, got {count}")
        layout = layout_for_accelerator(str(accelerator))
    site = site_inputs(layout, cooling, location, build_type, overrides)
    load = it_load(layout, int(count), site.cooling, site.cooling_name, rack_power_w)
    return facility_report(layout, load, site)
