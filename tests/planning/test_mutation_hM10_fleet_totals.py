"""Mutation wave 10 (hM10, session 39): fleet-mix's whole servers and its totals, by hand.

`whole_server_devices`: the devices of the whole servers that hold the devices used (ceil(used / g) g);
`_totals`: the fleet's devices used, servers and devices bought summed over its pools, and each figure of what is
bought summed over the pools that bought devices (None where such a pool has no price; an unused pool, priced
or not, adds nothing).
"""

from __future__ import annotations

from typing import Any

from infraplan.planning.fleet_mix import FIGURES, _totals
from infraplan.planning.fleet_pool_money import whole_server_devices


def test_used_devices_buy_whole_servers() -> None:
    assert [whole_server_devices(n, 8) for n in (0, 1, 8, 9, 16, 17)] == [0, 8, 8, 16, 16, 24]
    assert whole_server_devices(5, 1) == 5


def _pool(used: int, g: int, per_device: float | None) -> dict[str, Any]:
    bought = whole_server_devices(used, g)
    return {"pool": f"p{g}", "device": "d", "used": used, "devices_bought": bought, "servers": bought // g,
            **{k: None if per_device is None else per_device * bought for k in FIGURES}}


def test_an_unused_pool_without_a_price_leaves_the_totals_priced() -> None:
    """9 devices used on 8-device servers at 10 a device (16 bought, 160 each figure) beside an unused pool without
    a price: the fleet's figures are the first pool's; once the unpriced pool is used they are None."""
    totals = _totals([_pool(9, 8, 10.0), _pool(0, 4, None)])
    assert (totals["devices"], totals["devices_bought"], totals["servers"]) == (9, 16, 2)
    assert all(totals[k] == 160.0 for k in FIGURES)
    totals = _totals([_pool(9, 8, 10.0), _pool(3, 4, None)])
    assert (totals["devices"], totals["devices_bought"], totals["servers"]) == (12, 20, 3)
    assert all(totals[k] is None for k in FIGURES)
    assert totals["capex_unpriced_parts"] == ["servers of pool p4 (d)"]  # hK2-77: the parts a priced sum leaves out
