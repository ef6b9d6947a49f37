"""A fleet-mix pool's power and money per device at its own size: the power chain and the one cost model
(planning/device_money.py) at the fleet spec's site, each size priced once; the whole servers a pool is bought in;
and what a fleet-mix answer buys (`bought_pools`, `fleet_totals`).

The power is the power chain's IT load per device (`facility.campus_fabric.built_load` over
`cluster.power.it_load`: the device at TDP, its host share, the fabric's switches and optics, the storage share; a
video ASIC its device and host power), the load its electricity is billed on and the one `facility --accelerator
DEVICE --count N` reports for the pool's N devices, so the totals' facility power x load factor x 8,760 h x price
is their electricity cost. The TCO is the one cost model's (planning/device_money.py over cluster/cost.py,
what `plan`, `facility`, `serve` and `serve-plan` charge): the site's `electricity_usd_per_kwh`, `pue` and
`load_factor` (default economics.yaml's 0.8) for every pool, the pool's `price_usd_per_device` as the server price
(else the catalog's) and its `lifetime_years` as the servers' life; network and facility shares, maintenance and
the 8,760-hour year are the cost model's, energy the power chain's peak IT x load factor x PUE (not the service's
operating draw: one price per device-hour whatever it serves).

What the answer buys (`fleet_mix.plan_fleet`, and its GPU-only baseline): each pool's devices used, whole servers
bought and the money of what is bought, and the fleet's totals. No physics of its own: each pool is priced at its own
size (`at`: the devices bought, else, unused, its reference cluster's), as `facility --accelerator DEVICE --count
BOUGHT` prices it, and bought as whole servers (`whole_server_devices`: a server of `devices_per_server` devices,
hF2). Moved out of planning/fleet_mix.py (hB59, the module at its cap) into planning/fleet_totals.py, and from there
here (session 62, hS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infraplan.catalog.inference_loader import is_video_device, load_video_device
from infraplan.planning.device_money import (
    DeviceMoney,
    cost_overrides,
    device_layout,
    device_money,
    device_site,
    missing_price,
    reference_devices,
)
from infraplan.planning.fleet_spec import FleetSpec, PoolSpec


def pool_unpriced(pool: PoolSpec) -> str | None:
    """Why a fleet pool has no price, or None (`missing_price`)."""
    return missing_price(pool.name, pool.device, pool.price_usd_per_device)


def fleet_pool_money(spec: FleetSpec, pool: PoolSpec, devices: int | None = None) -> DeviceMoney:
    """The one cost model's money of `devices` of a pool (default: its reference cluster,
    `device_money.reference_devices`) at the spec's site: its electricity price, PUE and load factor, the pool's
    `price_usd_per_device` as the server price and its `lifetime_years` as the servers' life (`plan` charges the same,
    planning/pool_money.py; `facility --accelerator DEVICE --count N` the same for N devices)."""
    over = cost_overrides(spec.electricity_usd_per_kwh, spec.pue, pool.price_usd_per_device, pool.lifetime_years,
                          spec.load_factor, unpriced=pool_unpriced(pool) is not None)
    n = reference_devices(pool.device) if devices is None else devices
    return device_money(pool.device, n, device_site(pool.device, over), pool.host_power_w)


def per_device_costs(money: DeviceMoney, priced: bool) -> dict[str, float | None]:
    """Per device: peak IT and facility power (the power chain's, the load its electricity is billed on), yearly
    TCO, its energy part, operational, embodied (None: no figure) and total tCO2e per year, capex and the $ per
    device-hour (money None for a pool without a price); the capex and TCO of its priced parts (hK2-77, `plan`'s
    capex_priced_usd / tco_priced_usd_per_year: without a price the network and facility, the servers at $0, as
    `cost_overrides` prices them; with one, capex and TCO)."""
    n = money.devices
    power = {"power_w": money.it_w / n, "facility_power_w": money.facility_w / n,
             "energy_usd_per_year": money.annual.opex_breakdown_usd_per_year["electricity"] / n,
             "co2_t_per_year": money.co2_t_per_year / n,
             "embodied_co2_t_per_year": None if (e := money.embodied_co2_t_per_year) is None else e / n,
             "total_co2_t_per_year": None if (t := money.total_co2_t_per_year) is None else t / n,
             "capex_priced_usd": sum(v for k, v in money.capex_usd.items() if priced or k != "servers") / n,
             "tco_priced_usd_per_year": money.annual.tco_usd_per_year / n}
    if not priced:
        return {**power, "tco_usd_per_year": None, "capex_usd": None, "usd_per_device_hour": None}
    return {**power, "tco_usd_per_year": money.annual.tco_usd_per_year / n,
            "capex_usd": sum(money.capex_usd.values()) / n, "usd_per_device_hour": money.usd_per_device_hour}


Pairs = list[tuple[int, int, dict]]
CostsAt = Callable[[int, int], dict[str, float | None]]


def pricer(spec: FleetSpec) -> CostsAt:
    """`costs_at(pool index, devices)`: `per_device_costs` of that many devices of the pool, each size computed once."""
    cache: dict[tuple[int, int], dict[str, float | None]] = {}

    def costs_at(p: int, devices: int) -> dict[str, float | None]:
        if (p, devices) not in cache:
            pool = spec.pools[p]
            cache[p, devices] = per_device_costs(fleet_pool_money(spec, pool, devices), pool_unpriced(pool) is None)
        return cache[p, devices]
    return costs_at


def priced_pairs(pairs: Pairs, costs_at: CostsAt, at: list[int]) -> Pairs:
    return [(s, p, {**o, "cost": costs_at(p, at[p])}) for s, p, o in pairs]


def server_devices(pool: PoolSpec) -> int:
    """Devices per server of a pool, the unit fleet-mix buys: what `device_money` packs whole (`facility --count N`
    houses ceil(N / g) servers; `plan` buys the same, planning/pool_money.py `node_devices`); a video ASIC's the
    modules its host holds (its device file's `modules_per_host`, MSVP 12: an ASSUMPTION, msvp.yaml)."""
    if is_video_device(pool.device):
        return load_video_device(pool.device).modules_per_host
    return device_layout(pool.device).accelerators_per_server


def whole_server_devices(used: int, g: int) -> int:
    """Devices of the whole servers that hold `used` devices."""
    return -(-used // g) * g


FIGURES = ("power_w", "facility_power_w", "capex_usd", "tco_usd_per_year", "energy_usd_per_year", "co2_t_per_year",
           "embodied_co2_t_per_year", "total_co2_t_per_year", "capex_priced_usd", "tco_priced_usd_per_year")


def bought_pools(spec: FleetSpec, rows: list[dict[str, Any]], at: list[int],
                 costs_at: CostsAt) -> list[dict[str, Any]]:
    """Each pool's devices used, whole servers bought and the money of what is bought, at its own size (`at`: the
    devices bought, else (unused) its reference cluster's): `facility --accelerator DEVICE --count BOUGHT`'s."""
    out = []
    for p, pool in enumerate(spec.pools):
        g = server_devices(pool)
        used = sum(a["devices"] for a in rows if a["pool"] == pool.name)
        bought = whole_server_devices(used, g)
        cost = costs_at(p, at[p])
        out.append({"pool": pool.name, "device": pool.device, "used": used, "available": pool.available,
                    "devices_per_server": g, "servers": bought // g, "devices_bought": bought,
                    "priced_at_devices": at[p], "power_w_per_device": cost["power_w"],
                    "usd_per_device_hour": cost["usd_per_device_hour"],
                    **{k: None if cost[k] is None else cost[k] * bought for k in FIGURES}})  # type: ignore[operator]
    return out


def fleet_totals(pools: list[dict[str, Any]]) -> dict[str, Any]:
    """The fleet's devices used, servers and devices bought, and the figures of what is bought (pools summed; a
    money figure is None where a pool used has no price, the priced parts' sums leave its servers out and name them:
    `capex_unpriced_parts`, as `plan`'s)."""
    totals: dict[str, Any] = {"devices": sum(p["used"] for p in pools),
                              "devices_bought": sum(p["devices_bought"] for p in pools),
                              "servers": sum(p["servers"] for p in pools),
                              "capex_unpriced_parts": [f"servers of pool {p['pool']} ({p['device']})" for p in pools
                                                       if p["devices_bought"] and p["capex_usd"] is None]}
    for k in FIGURES:
        parts = [p[k] for p in pools if p["devices_bought"]]
        totals[k] = None if any(v is None for v in parts) else float(sum(parts))
    return totals
