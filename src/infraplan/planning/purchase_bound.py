"""`plan --optimality-gap` for the capex objective where devices retire (hV55): a proven lower bound on the money
the phases spend (planning/purchase_capex.py), where session 54 printed "not computed".

Why not the fleet bound (planning/scenario_bound.py): it bounds a (pool, phase)'s figure as a function of the
fleet in service, E(n), by lines under it. A phase's spend is a difference, F(I) - F(S) (`capex_new` of the
reported fleet in service I over the survivors' value `value_before`, F the packed capex of a count), a function of
two counts, and the survivors S come from earlier purchases and their lives: no line under one count bounds it.

What is bounded instead: F's increments. With m[p] = the least increment per device of pool p's packed capex from
one whole server count to the next, F((n + 1) g) - F(n g) >= g m[p] for every count the plan can reach (0 .. the
servers `_most_devices` and their spare nodes, or the base), a phase spends at least m[p] (I - S) (both whole
servers; a negative least increment is taken as 0, the spend being >= 0: `capex_new`). Summed over phases, I - S
are the report's purchases of used + spares, which buy as late as their survivors lack them
(retirement.servers_in_service): the fewest purchases that keep that many in service, since a later purchase
retires no earlier, so at least the lazy purchases of the devices used alone, which the MILP's purchase columns
b[p, k] can take. Hence min over the programme of sum m[p] g[p] b[p, k] (HiGHS's dual bound, one solve, the site
caps at the reference watts per device as the fleet bound's) is at most every answer's spend; the first phase's
`value_before` is the base's unpacked value (no N+k racks), so a pool with a base adds its packed - unpacked value
(the base is in service in the first phase: retirement.check_lifecycles; purchase_capex counts that phase's spend
wherever the pool has a fleet, its N+k racks on the base included). The bound is loose where a first server's rack
and fabric share is most of its capex (the least increment is a server without them); it counted the purchases of
the devices used, not their spare nodes, until hB68 (below): the gap says how loose (plan-refresh.yaml as capex: 7.7 %).

The step past the base (`first_step`, hB67): where every increment is at least the least, a pool whose servers in
service ever exceed its installed base's B (0 without one) first does so in some phase j with S_j <= B < I_j (S_1 is
the base; S_j <= I_(j-1) <= B after), whose spend F(I_j) - F(S_j) holds the increment F(B + 1) - F(B) and others each
>= the least. So the pool's spend is at least its purchases at the least plus that increment less the least, once:
the MILP's binary y[p] with n[p, k] <= B + limit y[p] charges it. The generic H100's 9th server buys its unit's 4
rail leaves and 2 spines (cluster/generic.py); plan-refresh as capex 10.2 % -> 0.25 %.

Every step past the base (hB68, `EVERY_STEP`): the same holds at each count t >= B, not the base's alone. The first
phase j whose in-service passes t has S_j <= t < I_j (S_j <= I_(j-1) <= t; S_1 = B <= t), so its spend holds the
increment F(t + 1) - F(t); distinct counts are distinct terms of the phases' sums. So a binary y per (pool, t) with
n[p, k] <= t + (most - t) y in every phase charges the increment above the least once (`STEPS_PER_POOL` largest per
pool: any subset keeps the bound). A count the in-service passes again after a retirement pays again in the answer
and once here. hV55's growing H100 fleet: 3.07 % -> 0.46 %.

Spares (hB68, planning/bound_columns.py): the purchases are those of the devices used and their spare nodes, from
below (lines under spares(u) on a second in-service chain, the site caps kept on the first), and the steps read
that in-service. hV55's growing fleet at spare probability 0.99: 21.5 % -> 5.2 %; plan-refresh as capex with
spares 21.1 % -> 1.9 %.

With planning/site_building.py's SITE_BUILDING_REUSE (hN57) F is the capex less its facility part, and a site's
facility is bounded apart by its floor (`facility_floor`): plan-refresh as capex 8.0 %, one server a purchase still
optimal.
"""

from __future__ import annotations

import numpy as np

from infraplan.planning import site_building
from infraplan.planning.bound_columns import bound_programme, spare_lines
from infraplan.planning.phased_mix import MixOption, solve_phased_bound
from infraplan.planning.pool_money import PoolMoney, node_devices
from infraplan.planning.scenario_bound import spare_nodes_by_count
from infraplan.planning.scenario_caps import scenario_mix
from infraplan.planning.scenario_report import base_capex, base_money, packed, whole_base
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import Optimality, too_many_counts

FIRST_STEP = True
"""hB67: charge each pool the increment past its base once (module docstring); False: every server at the least."""
EVERY_STEP = True
"""hB68: charge each count t >= the base's the pool's in-service passes its increment there once (module docstring,
`STEPS_PER_POOL` of them); False: the step past the base alone (hB67)."""
STEPS_PER_POOL = 64  # the largest excess increments a pool's bound charges (any subset keeps the bound: a binary each)
SPARE_PURCHASES = True
"""hB68: the purchases of the devices used and their spare nodes (planning/bound_columns.py); False: of the devices
used alone."""


def spare_lines_by_pool(spec: ScenarioSpec, most: list[int]) -> list[list[tuple[float, float]]] | None:
    """Per pool the lines under its spare servers at 0 .. the most servers it can use (planning/bound_columns.py
    `spare_lines`, over `spare_nodes_by_count`); None without spares (or with `SPARE_PURCHASES` off)."""
    if not SPARE_PURCHASES or spec.policy.spare_probability is None:
        return None
    lines = [spare_lines(spare_nodes_by_count(spec, pool, -(-most[p] // node_devices(pool))))
             for p, pool in enumerate(spec.pools)]
    return lines if any(lines) else None


def _bound_value(m: PoolMoney) -> float:
    """A count's capex in the bound: with SITE_BUILDING_REUSE less its facility part (a site's facility spend is
    >= 0 and charged apart, planning/site_building.py: the bound stays below the objective)."""
    facility = float(m.facility_capex_usd or 0.0) if site_building.SITE_BUILDING_REUSE else 0.0
    return float(m.capex_usd or 0.0) - facility


def least_increments(spec: ScenarioSpec, most: list[int], cost: np.ndarray
                     ) -> tuple[np.ndarray, float, np.ndarray]:
    """Per pool the least capex per device added from one whole server count to the next (at least 0: module
    docstring), over 0 .. the most servers the plan can report (`most` devices' servers and their spare nodes, the
    base's); the bases' packed - unpacked value where negative, summed (the first phase's `value_before`); and per
    pool the increment from its base's server count to the next above g x the least (`first_step`, module
    docstring; 0 where an increment is negative or the base is the most the plan reaches) and those most servers."""
    out, base_terms, bases = [], 0.0, whole_base(spec)[:, 0]
    first: list[tuple[int, int, float, int]] = []  # (pool, count, excess, the most servers): PhasedMix.first_step
    least_w: list[float] = []  # per pool the least IT W per device over those counts (`facility_floor`)
    for p, pool in enumerate(spec.pools):
        g = node_devices(pool)
        top = -(-most[p] // g)
        base = int(bases[p]) // g
        reach = max(top + int(spare_nodes_by_count(spec, pool, top)[top]), base, 1)
        counts = [packed(spec, pool, n * g) for n in range(1, reach + 1)]
        value = [0.0] + [_bound_value(m) for m in counts]
        least_w.append(min(m.it_w / m.devices for m in counts))
        steps = [b - a for a, b in zip(value, value[1:], strict=False)]
        out.append(max(0.0, min(steps) / g))
        if min(steps) >= 0 and base < len(steps):  # every increment >= the least: those past the base's apart
            over = [(steps[t] - min(steps), t) for t in range(base, len(steps) if EVERY_STEP else base + 1)]
            first += [(p, t, e, reach) for e, t in sorted(over, reverse=True)[:STEPS_PER_POOL] if e > 0]
        if base:  # the first phase spends from the base's unpacked value (module docstring)
            unpriced = base_capex(spec, pool, base * g) is None
            base_terms += value[base] - (0.0 if unpriced else _bound_value(base_money(spec, pool, base * g)))
    return np.array(out), base_terms - facility_floor(spec, least_w, cost), np.array(first).reshape(-1, 4)


def facility_floor(spec: ScenarioSpec, least_w: list[float], cost: np.ndarray) -> float:
    """With SITE_BUILDING_REUSE the bound's facility part (planning/site_building.py): a site's facility spend over
    the phases is its held W's growth, at least max(0, its last phase's IT - its bases' IT) at the least facility $/W
    of its pools; the last phase's IT is at least each pool's devices in service x its least IT W per device. So each
    pool's devices in the last phase cost that $/W x its least W (`cost`'s last column, set here) and the bases' IT x
    that $/W is returned, to subtract (dropping the max(0, .) keeps it a lower bound). 0 with the toggle off."""
    if not site_building.SITE_BUILDING_REUSE:
        return 0.0
    bases, held = whole_base(spec)[:, 0], 0.0
    for site in spec.sites:
        mine = [p for p, pool in enumerate(spec.pools) if pool.site == site.name]
        rates = [float(m.facility_capex_usd or 0.0) / m.it_w for p in mine
                 if (m := packed(spec, spec.pools[p], node_devices(spec.pools[p]))).it_w > 0]
        rate = min(rates, default=0.0)
        for p in mine:
            cost[p, -1] = rate * least_w[p]
            if bases[p] > 0:
                held += rate * base_money(spec, spec.pools[p], int(bases[p])).it_w
    return held


def purchase_bound(spec: ScenarioSpec, options: list[MixOption], demand: np.ndarray, watts: np.ndarray,
                   sites: dict[str, int], most: list[int], answer_cost: float) -> Optimality:
    """The lower bound on the capex objective under retirement (module docstring) and its gap to `answer_cost`."""
    g = [node_devices(p) for p in spec.pools]
    refused = too_many_counts(sum(-(-m // gp) for m, gp in zip(most, g, strict=True)), answer_cost)
    if refused is not None:
        return refused
    years = [ph.year for ph in spec.phases]
    cost = np.zeros((len(spec.pools), len(years)))  # the devices in service: the facility floor's (hN57)
    per_device, base_terms, first_step = least_increments(spec, most, cost)
    mix = scenario_mix(spec, sites, years, demand=demand, options=options,
                       cost=cost, watts_per_device=watts,
                       installed=[int(n) for n in whole_base(spec)[:, 0]],
                       purchase_cost=np.repeat(per_device[:, None], len(years), axis=1),
                       first_step=first_step if FIRST_STEP else None, spare_lines=spare_lines_by_pool(spec, most))
    lower = min(solve_phased_bound(mix, bound_programme)[2] + base_terms, answer_cost)  # at most the answer
    gap = max(0.0, (answer_cost - lower) / answer_cost) if answer_cost > 0 else None
    how = ("the lower bound from 1 MILP solve of each phase's purchases at each pool's least capex per device "
           "added (planning/purchase_bound.py)")
    if gap is None:
        text = "no lower bound (a zero objective)"
    elif gap <= 1e-6:
        text = f"optimal: {how} equals the objective (within HiGHS's 1e-6 relative gap)"
    else:
        text = f"within {gap * 100:.3g} % of the optimum: {how}"
    return Optimality(lower, answer_cost, gap, 1, text)
