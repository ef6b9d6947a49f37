"""A site's building outlives the pools in it (hN, session 57): `plan`'s facility capex per site, not per pool.

Before, the money a pool spends in a phase (planning/scenario_report.py `capex_new`) was its fleet value (servers,
network and the facility share IT W x the site's facility $/W, device_money.device_money) less its value before the
phase (`value_before`): a pool that replaces a retired pool on the same site (a refresh) paid the building again,
although the building stands (catalog/facility/build_types.yaml: facility life 14 years, Epoch AI's 1-GW cost model,
against a server's 5.5). hG57's meta_refresh: 49,152 H100 retire in 2029H2 and the 17,412 GB200 bought then on the
same site paid $454.6 M of facility in a $1,335.6 M capex.

With SITE_BUILDING_REUSE (hK57's rule) the facility part is charged per site: the site's building is held at its
peak IT so far (the installed bases' unpacked IT before the first phase, as `value_before` prices them); a phase buys
facility only for the IT beyond it, max(0, site IT now - held W), shared among the site's pools whose IT grew over
their value before the phase, pro rata of their growth, each at its own facility $/W (cooling and build type may
differ: a liquid successor in an air building pays its own $/W on its share, no retrofit modelled); then held W =
max(held W, site IT now). The servers and network stay per pool (`capex_new` of the capex less its facility part).
Where nothing retires a site's IT never falls and the pools' growth sums to the IT beyond the held W, so each pool's
charge is its own facility growth: a plan without retirement spends as before (capex_new's $0 floor now applies to
the servers and network alone; facility growth is never negative).

TCO is not changed: it already charges the facility per W occupied (the facility annuity over its 14-year life
while a pool's IT is in it, cluster/cost.py), so a refresh pool's TCO reads as renting the old building; the held
watts left empty (meta_refresh after 2029H2: 69.4 - 33.7 MW) are charged to nobody, a choice: a plan's TCO is its
fleet's cost of use, and an empty hall's annuity is a sunk cost of the site that no pool in the plan causes
(charging it to the site would make a smaller successor fleet look dearer per year than the same fleet on a new
site, where the capex side already credits the reuse). The objective under retirement (planning/purchase_capex.py)
prices each phase's purchases from these same spends, so it stays the report's capex summed.
"""

from __future__ import annotations

import numpy as np

from infraplan.planning.pool_money import PoolMoney
from infraplan.planning.scenario_report import base_money, capex_new, packed
from infraplan.planning.scenario_spec import ScenarioSpec

SITE_BUILDING_REUSE = True  # hN57: a site's facility capex per site (held at its peak IT), not per pool


def _before(spec: ScenarioSpec, p: int, k: int, survivors: int, base: int) -> PoolMoney | None:
    """The fleet `value_before` prices: the installed base unpacked in the first phase, else the survivors packed."""
    pool = spec.pools[p]
    if k == 0:
        return base_money(spec, pool, base) if base > 0 else None
    return packed(spec, pool, survivors) if survivors > 0 else None


def _rest(m: PoolMoney | None) -> float | None:
    """Capex less its facility part ($0 for no fleet; None unpriced)."""
    if m is None:
        return 0.0
    return None if m.capex_usd is None else m.capex_usd - float(m.facility_capex_usd or 0.0)


def _parts(m: PoolMoney | None, priced: bool) -> PoolMoney | None:
    """`m`, or with `priced` its priced parts alone (`PoolMoney.priced_parts`: a pool without a price at $0 servers)."""
    return m.priced_parts() if priced and m is not None else m


def site_spends(spec: ScenarioSpec, installed: np.ndarray, survive: np.ndarray,
                base: np.ndarray, priced: bool = False) -> list[list[float | None]]:
    """Money spent per (pool, phase) under the site rule (module docstring), for the devices `installed` (reported
    in service: used + spares, whole servers), `survive` (the survivors before each phase buys) and the installed
    `base` (pools x 1); None where the pool has no price, 0 where it has no device in service. `priced` (hK77): the
    spend on the priced parts alone, a pool without a price buying its network and facility share by the same rule
    (a priced pool's spend is the same either way: the facility shares follow IT, which needs no price)."""
    n_p, n_k = installed.shape
    out: list[list[float | None]] = [[0.0] * n_k for _ in range(n_p)]
    held = {s.name: 0.0 for s in spec.sites}
    for p, pool in enumerate(spec.pools):
        if base[p, 0] > 0:
            held[pool.site] += base_money(spec, pool, int(base[p, 0])).it_w
    for k in range(n_k):
        now = [_parts(packed(spec, pool, int(installed[p, k])), priced) if installed[p, k] > 0 else None
               for p, pool in enumerate(spec.pools)]
        before = [_parts(_before(spec, p, k, int(survive[p, k]), int(base[p, 0])), priced) for p in range(n_p)]
        growth = [max(0.0, (m.it_w if m else 0.0) - (b.it_w if b else 0.0)) for m, b in zip(now, before, strict=True)]
        for site in spec.sites:
            mine = [p for p, pool in enumerate(spec.pools) if pool.site == site.name]
            site_it = sum(m.it_w for p in mine if (m := now[p]) is not None)
            new_w, grown = max(0.0, site_it - held[site.name]), sum(growth[p] for p in mine)
            for p in mine:
                m = now[p]
                if m is None:
                    continue
                rest = capex_new(_rest(m), _rest(before[p]))
                if rest is None:
                    out[p][k] = None
                    continue
                share = new_w * growth[p] / grown if grown > 0 else 0.0
                out[p][k] = rest + share * float(m.facility_capex_usd or 0.0) / m.it_w if m.it_w > 0 else rest
            held[site.name] = max(held[site.name], site_it)
    return out
