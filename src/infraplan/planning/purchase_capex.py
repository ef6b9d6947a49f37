"""`plan`'s capex objective where devices retire (hW, session 54): the money each phase spends, summed.

Capex is money spent: a pool's `capex_usd` in a phase is its fleet value less its value before the phase buys
(planning/scenario_report.py `capex_new`, `value_before`: the survivors' packed value, the installed base's in the
first phase), and the plan's `capex_usd` is the phases' sum. Without retirement the survivors are the phase before's
fleet, so the sum is the last phase's fleet value less the base's, a constant: the objective planning/scenario.py
keeps there (the last phase's fleet value, earlier phases x 1e-6). With retirement (planning/retirement.py) a
purchase that retires before the last phase is not in the last fleet's value, so that objective weighed it 1e-6,
inside HiGHS's relative gap (1e-6, milp_start.MIP_REL_GAP): capex plans chose their early purchases by chance.
Here the MILP charges its purchase columns b[p, k] (the servers pool p buys in phase k, planning/phased_mix.py
`cohorts`) at a price per device: at an answer's own sizes the report's capex of (p, k) over the devices the MILP
buys there (`purchase_price`), so the MILP's objective at its own prices is the sum of the report's per-phase capex;
where the answer buys nothing in (p, k), the pool's capex per device at the 1,024-device reference (a purchase
there is priced as the fixed point prices an unused pool: planning/sized_pricing.py).

Those prices are linear in what a phase buys, and a purchase's capex is not (a first server pays its rack and fabric
share; a phase without purchases is priced at the reference): on a 2-pool, 4-phase test (H100 on a 4-year life,
B200 from 2027) their fixed point bought $7,494,931 where the last phase's fleet value's answer buys $7,289,844. So
planning/scenario.py solves both (that one first, its answer the purchases' warm start) and keeps the one whose
purchases cost less at its own sizes (the first on a tie: the purchases' answer), saying which in `pricing`; the
answer never spends more than the objective before hW54's. Since hK69 every assignment either loop's solves gave
(within the site caps) and each pool's plan alone (planning/pools_alone.py) are candidates too: the cheapest at its own
purchases is kept (`pools_alone.cheapest_priced`; hB69 found a loop's last answer up to 6.1 % dearer than one priced
or one pool's).

The size of a (pool, phase) is (devices the MILP buys there: whole servers of the devices used, bought when its
survivors lack them, retirement.in_service; the devices reported in service: used + spares, whole servers; the
survivors reported), (0, 0, 0) where neither the MILP nor the spares buy (a phase whose spares alone need a server
the survivors lack spends with no MILP purchase: counted in the objective, `purchase_spend`; hF54), nor the first
phase adds the policy's N+k racks to an installed base (its `value_before` is the base unpacked: hV55, the objective
left those racks out, $9,144,059 against capex_usd $10,422,950 on the 4-phase test with redundancy_racks 1).

With planning/site_building.py's SITE_BUILDING_REUSE (hN57) a site's facility is charged per site (a refresh reuses
the building), which couples the pools of a site: every in-service (pool, phase) keeps its size, and the spends, the
prices and the objective come from `site_spends` over every pool's sizes, so the objective is still the report's
capex summed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from infraplan.planning import site_building
from infraplan.planning.pool_money import PoolMoney
from infraplan.planning.retirement import lifecycles, servers_in_service
from infraplan.planning.scenario_caps import server_devices, spare_devices
from infraplan.planning.scenario_report import capex_new, packed, value_before, whole_base
from infraplan.planning.scenario_spec import ScenarioSpec

OBJECTIVE_UNIT = ("USD (money spent: each phase's purchases at the one cost model's capex, capex_usd, summed over "
                  "phases; devices retire at their lifetime_years)")


PurchaseSize = tuple[int, ...]  # (bought, reported, survivors): module docstring
Sizes = tuple[tuple[PurchaseSize, ...], ...]  # per pool, per phase


def charges_purchases(spec: ScenarioSpec) -> bool:
    """Whether the plan's objective is capex and a device retires within its phases (module docstring)."""
    return spec.policy.objective == "capex" and lifecycles(spec) is not None


def purchase_sizes(spec: ScenarioSpec, used: np.ndarray) -> tuple[tuple[PurchaseSize, ...], ...]:
    """Each (pool, phase)'s size (module docstring) for the devices `used` (pools x phases)."""
    cycles, g, base = lifecycles(spec), server_devices(spec), whole_base(spec)  # cycles: charges_purchases
    in_use, kept = servers_in_service(used, base, g, cycles)  # the MILP's whole servers, in devices
    bought = in_use - kept
    installed, survive = servers_in_service(used + spare_devices(spec, used), base, g, cycles)  # as reported
    # n > s: spares alone buy (hF54); the first phase with a fleet: its N+k racks on the base buy (hV55)
    whole = site_building.SITE_BUILDING_REUSE  # a site's facility needs every pool in service (hN57)
    return tuple(tuple((int(b), int(n), int(s)) if whole or b > 0 or n > s or (k == 0 and n > 0) else (0, 0, 0)
                       for k, (b, n, s) in enumerate(zip(*rows, strict=True)))
                 for rows in zip(bought, installed, survive, strict=True))


def purchase_pricer(spec: ScenarioSpec, ref: dict[str, PoolMoney]) -> Callable[[int, int, PurchaseSize], float]:
    """`price(pool, phase, size)`: USD per device the MILP buys in (pool, phase): the report's capex there
    (`capex_new` of the reported fleet over `value_before`) / the devices bought; (0, 0, 0): the pool's capex per
    device at the reference (`ref`). Each size computed once; capex needs every pool priced (require_prices)."""
    cache: dict[tuple[int, int, PurchaseSize], float] = {}

    def price(p: int, k: int, size: PurchaseSize) -> float:
        if (p, k, size) not in cache:
            pool, bought = spec.pools[p], size[0]
            if bought == 0:
                m = ref[pool.name]
                cache[p, k, size] = float(m.capex_usd or 0.0) / m.devices
            else:
                cache[p, k, size] = purchase_spend(spec, p, k, size) / bought
        return cache[p, k, size]
    return price


def purchase_spend(spec: ScenarioSpec, p: int, k: int, size: PurchaseSize) -> float:
    """USD the report's capex spends on pool p in phase k at `size` (`capex_new` of the reported fleet over
    `value_before`); 0 at (0, 0, 0). A size whose MILP purchase is 0 can still spend: the spares of the devices used
    can need a server the survivors lack (hF54)."""
    bought, reported, survivors = size
    if reported == 0:
        return 0.0
    pool = spec.pools[p]
    before = value_before(spec, pool, k, survivors, int(whole_base(spec)[p, 0]))
    return float(capex_new(packed(spec, pool, reported).capex_usd, before) or 0.0)


def site_spends(spec: ScenarioSpec, sizes: tuple[tuple[PurchaseSize, ...], ...]) -> list[list[float | None]]:
    """What the report spends per (pool, phase) at `sizes` with a site's facility charged per site
    (planning/site_building.py): the sites couple the pools, so the spends are computed from every pool's sizes."""
    installed = np.array([[size[1] for size in row] for row in sizes], dtype=int)
    survive = np.array([[size[2] for size in row] for row in sizes], dtype=int)
    return site_building.site_spends(spec, installed, survive, whole_base(spec))


def purchase_costs(spec: ScenarioSpec, sizes: tuple[tuple[PurchaseSize, ...], ...],
                   price: Callable[[int, int, PurchaseSize], float]) -> np.ndarray:
    """USD per device bought per (pool, phase) at `sizes` (PhasedMix.purchase_cost); with SITE_BUILDING_REUSE a
    purchase's price is its `site_spends` / the devices bought (no purchase: `price`'s reference)."""
    spent = site_spends(spec, sizes) if site_building.SITE_BUILDING_REUSE else None
    return np.array([[float(spent[p][k] or 0.0) / size[0] if spent is not None and size[0] > 0 else price(p, k, size)
                      for k, size in enumerate(row)] for p, row in enumerate(sizes)])


def purchase_capex(spec: ScenarioSpec, sizes: tuple[tuple[PurchaseSize, ...], ...],
                   price: Callable[[int, int, PurchaseSize], float]) -> float:
    """The objective at `sizes`: each (pool, phase)'s devices bought x its price (= what the report spends there),
    plus what the report spends where the MILP buys nothing (its spares alone need a server: `purchase_spend`), summed:
    the report's per-phase capex summed (with SITE_BUILDING_REUSE: `site_spends` summed, the same)."""
    if site_building.SITE_BUILDING_REUSE:
        return float(sum(v or 0.0 for row in site_spends(spec, sizes) for v in row))
    return float(sum(price(p, k, size) * size[0] if size[0] > 0 else purchase_spend(spec, p, k, size)
                     for p, row in enumerate(sizes) for k, size in enumerate(row)))


def pricing_text(first: str, rounds: int, state: str, kept: int, alone: int = 0) -> str:
    """`pricing`'s sentence: the fleet-value fixed point's (`first`), then the purchases' (`rounds` solves, `state`),
    the solves of each pool alone (`alone`, planning/pools_alone.py) and which answer is kept (`kept`: 0 the
    purchases', 1 the first's, 2 another solve's of the two loops, 3 a pool alone's; `pools_alone.cheapest_priced`)."""
    which = ("its answer", "its answer's purchases cost more than the first's, which is kept",
             "an assignment an earlier solve gave costs less at its own purchases' prices than either loop's answer, "
             "which is kept",
             "a plan of one pool alone costs less at its own purchases' prices than either loop's answer, which is "
             "kept")[kept]
    pools = f"; then each pool alone, its purchases priced the same way: {alone} MILP solves" if alone else ""
    return (f"{first}; then each phase's purchases priced (capex under retirement): {rounds} MILP "
            f"solve{'s' if rounds > 1 else ''}, {state}{pools}; {which}")
