"""A pool of `infraplan plan` as the catalog knows it: the entry its money is built from (`pool_ref`: a video ASIC's
device, else its system, else its device), its server layout and devices per server (the unit the plan buys, packs
and keeps whole), and whether it has a price. What `pool_money` costs with and `retirement` dates with: kept apart
(hM56) so that retirement sits below pool_money, whose spares read retirement's presence test (`out_of_service`:
a pool with no device in a phase sizes nothing there).
"""

from __future__ import annotations

from infraplan.catalog.inference_loader import load_video_device
from infraplan.cluster.power import ServerLayout
from infraplan.planning.device_money import device_layout, missing_price
from infraplan.planning.scenario_sizing import pool_kind
from infraplan.planning.scenario_spec import PoolSpec

COST_OBJECTIVES = ("capex", "tco")  # the objectives that need every pool's price


def pool_ref(pool: PoolSpec) -> str:
    """What a pool's money is built from: a video ASIC's device, else its system, else its device."""
    return pool.device if pool_kind(pool) == "video-asic" else pool.system or pool.device


def missing_pool_price(pool: PoolSpec) -> str | None:
    """Why a pool has no price (no `price_usd_per_device` and no catalog server price), or None when it has one:
    fleet-mix's rule (`planning.device_money.missing_price`) on the pool's system, else its device."""
    return missing_price(pool.name, pool_ref(pool), pool.price_usd_per_device)


def pool_layout(pool: PoolSpec, devices: int | None = None) -> ServerLayout:
    """The power layout of a pool (`device_money.device_layout` of its system, else its device)."""
    return device_layout(pool_ref(pool), devices)


def node_devices(pool: PoolSpec) -> int:
    """Devices per server of a pool: what `pool_money` packs whole (a video ASIC's host holds its file's
    `modules_per_host`), the node spares count and the unit `plan`'s MILP buys (planning/phased_mix.py)."""
    if pool_kind(pool) == "video-asic":
        return load_video_device(pool.device).modules_per_host
    return pool_layout(pool).accelerators_per_server
