"""What a pool of `infraplan plan` draws and costs at its site: racks, fabric, IT and facility power, capex,
TCO per year, energy and tCO2e, with the power chain and the one cost model (`cluster.cost.cluster_cost`); and
the pool's spare nodes (planning/spares.py). A pool at its system's exact size keeps the system's fabric; any other
count is built as `campus` and `facility` build it (`facility.campus_fabric.built_load`: non-blocking zones joined
at 1:7 above one zone), so the three commands give one IT power for the same accelerators.

A pool's price is its `capex_usd` (per device, server share included), else the catalog's server price per
accelerator (hardware_costs.yaml). Power, energy and carbon need no price: a pool with neither is packed and
powered with its servers at $0 and its money fields (capex, TCO) are None with a reason naming the missing price
(as `infraplan facility` does, facility/facility.py). Only a cost objective (capex, TCO) needs every pool priced;
`plan_scenario` refuses such a scenario in one line (`require_prices`).

A pool's `lifetime_years` is the servers' depreciation life of the cost model (`CostOverrides.server_life_years`;
its default, 5.5 years, is the catalog's economics.yaml figure: Meta's 10-K).

A video ASIC (MSVP) is not an accelerator of the catalog: its pool is costed with the same functions from its
device power plus its host share (the pool's `host_power_w`, else the device YAML's) and its price
(`capex_usd`), in CPU hosts (`VIDEO_HOST_LAYOUT`), with no scale-out fabric.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from infraplan.catalog.inference_loader import load_video_device
from infraplan.cluster import Cluster
from infraplan.cluster.cost import (
    CostOverrides,
    SiteInputs,
    annual_costs,
    cluster_cost,
    energy_mwh_per_year,
    site_inputs,
)
from infraplan.cluster.power import ServerLayout
from infraplan.errors import InputError
from infraplan.facility.campus_fabric import built_load
from infraplan.facility.carbon import operational_co2_t
from infraplan.planning.fleet_mix import missing_price, pool_price_note
from infraplan.planning.scenario_sizing import pool_accelerator, pool_kind
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec, SiteSpec
from infraplan.planning.spares import Spares, spare_nodes

VIDEO_HOST_LAYOUT = "xeon-8480"  # MSVP cards sit in CPU servers: their site's default cooling is that server's
COST_OBJECTIVES = ("capex", "tco")  # the objectives that need every pool's price


@dataclass(frozen=True)
class PoolMoney:
    """A pool's devices at its site: IT and facility power, capex, TCO/yr, energy, tCO2e; racks and fabric.
    `capex_usd` and `tco_usd_per_year` are None when the pool has no price (`cost_reason` says why)."""

    devices: int
    racks: int
    tiers: int
    switches: int
    it_w: float
    facility_w: float
    capex_usd: float | None
    tco_usd_per_year: float | None
    energy_mwh_per_year: float
    co2_t_per_year: float
    devices_per_rack: int
    cost_reason: str | None = None


def missing_pool_price(pool: PoolSpec) -> str | None:
    """Why a pool has no price (no `capex_usd` and no catalog server price), or None when it has one: fleet-mix's
    rule (`planning.fleet_mix.missing_price`) on the pool's system, else its device."""
    return missing_price(pool.name, pool.device if pool_kind(pool) == "video-asic" else pool.system or pool.device,
                         pool.capex_usd)


def pool_note(pool: PoolSpec) -> str | None:
    """The note of a pool priced at its what-if accelerator's inherited preset price (`fleet_mix.pool_price_note`)."""
    return pool_price_note(pool.name, pool.device if pool_kind(pool) == "video-asic" else pool.system or pool.device,
                           pool.capex_usd)


def require_prices(spec: ScenarioSpec) -> None:
    """A cost objective needs every pool's price: one InputError line naming the first pool without one."""
    if spec.policy.objective not in COST_OBJECTIVES:
        return
    for pool in spec.pools:
        reason = missing_pool_price(pool)
        if reason is not None:
            raise InputError(f"{reason} (objective {spec.policy.objective} needs a price; objective power or "
                             "carbon plans without one)")


def _overrides(spec: ScenarioSpec, pool: PoolSpec) -> CostOverrides:
    e = spec.policy.electricity_usd_per_kwh
    return CostOverrides(electricity_usd_per_mwh=None if e is None else e * 1e3, pue=spec.policy.pue,
                         server_usd_per_accelerator=pool.capex_usd, server_life_years=pool.lifetime_years)


def pool_layout(pool: PoolSpec, devices: int | None = None) -> ServerLayout:
    """The power layout of a pool: its system's own fabric at exactly the system's size, else the system's node
    (scale-up domain, host) on the generic fabric built for the devices (`built_load`)."""
    if pool_kind(pool) == "video-asic":
        return Cluster.resolve(VIDEO_HOST_LAYOUT).layout
    layout = Cluster.resolve(pool.system or pool.device).layout
    if layout.generic or devices == layout.system.total_accelerators:
        return layout
    return ServerLayout(layout.accelerator, layout.system, generic=True)


def _site(spec: ScenarioSpec, pool: PoolSpec, site: SiteSpec) -> SiteInputs:
    cooling = site.cooling or ("air" if pool_kind(pool) == "video-asic" else None)
    return site_inputs(pool_layout(pool), cooling, site.location, site.build_type, _overrides(spec, pool))


def pool_money(spec: ScenarioSpec, pool: PoolSpec, site: SiteSpec, devices: int) -> PoolMoney:
    """Pack, power and cost `devices` of a pool at its site with the power chain and the one cost model."""
    s = _site(spec, pool, site)
    no_price = missing_pool_price(pool)
    price = 0.0 if no_price is not None else pool.capex_usd  # $0 servers only to reach the energy: money is None
    if no_price is not None:
        s = dataclasses.replace(s, overrides=s.overrides.merged(server_usd_per_accelerator=0.0))
    if pool_kind(pool) == "video-asic":
        dev = load_video_device(pool.device)
        host_w = pool.host_power_w if pool.host_power_w is not None else dev.host_power_w  # as fleet-mix's option
        it_w = devices * (dev.power_w + host_w)
        capex = {"servers": devices * float(price or 0.0), "facility": it_w * s.facility_usd_per_w}
        energy = energy_mwh_per_year(it_w, s.pue, s.load_factor)
        annual = annual_costs(capex, s.lives_years, energy, s.electricity_usd_per_mwh, s.maintenance_fraction,
                              s.cost_of_capital)
        per_rack = max(1, int(s.cooling.max_rack_power_w // max(dev.power_w + host_w, 1.0)))
        return PoolMoney(devices, -(-devices // per_rack), 0, 0, it_w, it_w * s.pue,
                         None if no_price else sum(capex.values()), None if no_price else annual.tco_usd_per_year,
                         energy, float(operational_co2_t(energy, s.grid_gco2_per_kwh)), per_rack, no_price)
    layout = pool_layout(pool, devices)
    load = built_load(layout, devices, s.cooling, s.cooling_name)
    money = cluster_cost(layout, load, s)
    return PoolMoney(load.accelerators, load.racks, load.network_tiers, load.switches, load.it_w, load.it_w * s.pue,
                     None if no_price else sum(money.capex_usd.values()),
                     None if no_price else money.annual.tco_usd_per_year, money.energy_mwh_per_year,
                     float(operational_co2_t(money.energy_mwh_per_year, s.grid_gco2_per_kwh)),
                     load.servers_per_rack * layout.accelerators_per_server, no_price)


def pool_spares(spec: ScenarioSpec, pool: PoolSpec, devices: int) -> Spares | None:
    """Spare nodes for `devices` working devices of a pool (None when the policy asks for none)."""
    p = spec.policy
    if p.spare_probability is None:
        return None
    node = 1 if pool_kind(pool) == "video-asic" else pool_layout(pool).accelerators_per_server
    return spare_nodes(devices, node, pool_accelerator(pool), p.spare_probability, p.repair_time, p.failure_rate)
