"""hI72 mutation wave on hK71's `device_money.pool_figures_note`: a pool's own `host_power_w` (watts per device) is
the host it is priced with, so its ASSUMED-share line counts only what stays assumed. MTIA 400's rack
(catalog/systems/mtia-400-rack.yaml): 9 NVSwitch-like trays, 3.6 kW per 72-chip domain, labelled ASSUMPTION: 50 W a
chip. A pool stating 200 W of host a chip: 50 of the 200 + 50 = 250 W is ASSUMED; the catalog's own 300 W host
(labelled ASSUMPTION too): 350 of 350."""

from __future__ import annotations

from infraplan.planning.device_money import pool_figures_note

ASSUMED = "of host and scale-up switches is ASSUMED"


def test_a_pools_host_counts_per_device_and_is_not_assumed() -> None:
    own = pool_figures_note("m", "mtia-400", 200.0)
    assert own is not None and f"pool 'm': 50 of the 250 W per accelerator {ASSUMED}" in own
    assert "W of host labelled" not in own  # the pool's figure is its own
    catalog = pool_figures_note("m", "mtia-400", None)
    assert catalog is not None and f"350 of the 350 W per accelerator {ASSUMED}" in catalog
    assert "300 W of host labelled ASSUMPTION" in catalog
