"""What a fleet-mix answer buys: each pool's devices used, whole servers bought and the money of what is bought, and
the fleet's totals (`fleet_mix.plan_fleet`, and its GPU-only baseline).

No physics of its own: each pool is priced at its own size (`at`: the devices bought, else, unused, its reference
cluster's), as `facility --accelerator DEVICE --count BOUGHT` prices it (`fleet_pool_money`: the power chain and the
one cost model), and bought as whole servers (`fleet_pool_money.whole_server_devices`: a server of
`devices_per_server` devices, hF2). Moved out of planning/fleet_mix.py (hB59, the module at its cap).
"""

from __future__ import annotations

from typing import Any

from infraplan.planning.fleet_pool_money import CostsAt, server_devices, whole_server_devices
from infraplan.planning.fleet_spec import FleetSpec

FIGURES = ("power_w", "facility_power_w", "capex_usd", "tco_usd_per_year", "energy_usd_per_year", "co2_t_per_year",
           "embodied_co2_t_per_year", "total_co2_t_per_year")


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
    money figure is None where a pool used has no price)."""
    totals: dict[str, Any] = {"devices": sum(p["used"] for p in pools),
                              "devices_bought": sum(p["devices_bought"] for p in pools),
                              "servers": sum(p["servers"] for p in pools)}
    for k in FIGURES:
        parts = [p[k] for p in pools if p["devices_bought"]]
        totals[k] = None if any(v is None for v in parts) else float(sum(parts))
    return totals
