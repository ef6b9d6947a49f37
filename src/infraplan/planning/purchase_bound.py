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

Runs after a retirement (hB69, planning/bound_columns.py `with_steps`). A phase k spends F(I_k) - F(S_k), the sum of
the increments at every count t in [S_k, I_k) (S_k <= I_k: survivors stay in service), so at least m[p] g (I_k -
S_k) plus e_t = the increment at t above the least for each t of any chosen set with S_k <= t < I_k. hB68 charged
each t once a pool; after a retirement the in-service falls and passes t again, and the answer pays again (hB68's
no-base N+k pool: the 2025 H100 retire in 2029, whose purchases pay their rack and fabric steps a second time).
Split a pool's phases into runs at each phase where something of it retires: within a run S_k = I_(k-1) (nothing
leaves), so the intervals [S_k, I_k) of its phases tile [S_a, I_b) (a, b its first and last phase) and the run
passes t [I_b > t] - [S_a > t] times. So per (t, run) a binary y >= [I_k > t] for k in the run (I_k <= t + most y)
and, from the second run, a binary w <= [S_a > t] (S_a >= (t + 1) w; S_a = the base alive + the earlier purchases
alive) with w <= y, costed e_t (y - w) >= 0; in the first run S = the base, so t >= the base costs e_t y (hB68's
row) and t below it nothing. The answer's indicators are a point costing its own charges. Counts below the base
are rows where the base retires and the pool buys after (`_rebuys`); the `REPASSED_PER_POOL` largest rows of a pool
are charged per run, the rest once over all phases (hB68's: any subset, either form, keeps the bound). The y (and
w) of one run are ordered in t (both indicators fall as t rises; a row charged once is another run: not ordered
with them, which would charge an answer a step it never passes).

The facility at the peak (hB69, `with_peak`): a site's building is held at its peak IT (site_building.py), so its
facility spend over the phases is max(held, max_k IT_k) - held >= max_k IT_k - the bases' IT at the least $/W, not
the last phase's IT alone (the no-base case's H100 peak at 18 servers in 2029, 7 in 2031): a column P per site
>= its pools' least IT x devices in service in every phase.

Lazy purchases (hB69, `with_lazy`): the report buys in a phase only what its survivors lack of the servers used u
(the fewest holding the devices used) and their spares (retirement.in_service), so where it buys its in-service is
u + spares(u), where the bound bought a server in 2027 for 2029. A binary z per (pool, phase): purchases <= most z,
in-service <= u + s + most (1 - z), s under the lines over spares(u) (the upper hull's edges, each >= spares at every
count) and g u <= the devices used + g - 1; without spares g n <= the devices used + g - 1 where it buys. (hR70: a
phase that also buys what a later phase lacks where the pool may not buy, `retirement.ahead`, the last before a
`refresh_with` successor's, buys exactly that where it buys more than its own lack: its row holds, or one of those
phases' rows holds with a binary t = 1; so the in-service there can pass the `most` a phase uses, and
`scenario_prices.most_devices` adds what those phases need.) The units
of an option are at most ceil(demand / capacity): every answer's are (scenario_caps.trim_idle drops a unit whose
removal leaves the demand met, and planning/fixed_servers.py's fewest devices have none), so the bound is over the
answers the plan reports. The three (each off alone): hB68's no-base N+k 1 pool at spares 0.99 23.0 % -> 9.6 %
(13.2 / 14.6 / 11.7 %), GB200 alone with spare trays auto 8.7 % -> 2.0 % (8.7 / 2.0 / 7.1 %).

Nothing retires (hB69, `fleet_value_bound`): there the capex objective is the last phase's fleet value (earlier
phases x 1e-6 >= 0, planning/scenario.py), bounded by the fleet bound's lines under E(n) (planning/scenario_bound.py),
which take a pool's base count at its least over the servers used below it: hV55's growing fleet on 10-year lives
at spare probability 0.99 reports 9 H100 servers in 2031 (8 used + 1 spare) and the lines charged 8 (10.5 %). The
in-service never falls from the base, so F(I_last) = F(base) + its increments from the base, the same programme
with each phase's purchases kept to the end, F with its facility part (the fleet value is each pool's packed capex)
and no facility floor; the higher of the two bounds is kept (3.7 %).

Dips (hB71). The least increment m may be any value >= 0: a phase spends m (I - S) + the sum of e_t = F(t + 1) - F(t)
- m over [S, I), and where e_t < 0 its row credits it (a binary c with cost e_t, bound_columns.with_steps: c <= [the
run's last in-service > t] and from the second run c <= [its survivors <= t]; within a run t is passed at most once,
in the first run only from the base up). So m is the (`DIPS_PER_POOL` + 1)-th smallest increment, those below it
credited: hN57's meta-refresh as capex, whose H100 capex falls $31.8 M from 2,048 to 2,049 servers (a least <= 0 before,
every H100 purchase at $0), 68.9 % -> 0.065 % with planning/purchase_windows.py's charges and a site's building held
at least at its bases' IT in the bound (`HELD_FLOOR`: the growth max(0, .) kept). Spares(u) is also bounded at its steps
(`SPARE_STEPS`, bound_columns.with_spare_steps: hB70's, for the fleet bound): hR70's seed 7 draw 58 2.44 -> 1.35 %.

Its assignment (hB72, `ADOPT`). The bound's MILP places the demand on the pools at each purchase's least increment
plus the steps it passes: a model of the purchases' capex nearer than the loops' prices per device (the average at a
size, planning/purchase_capex.py), which price a first GB200 rack's trays at the whole rack's share. Its assignment
(idle units dropped), priced as the report prices it and within the site caps, is the answer where it costs less:
hB71's seed 71 draw 43 (A100 on a 10-year life and GB200 on 4) 48,054,325.5 -> 45,774,370 USD (gap 11.4 -> 4.8 %),
hR70's seed 8 draw 43 (A100 refreshed by A100) 6,949,429.5 -> 6,609,895.5 (5.8 % -> 0: the bound). `plan` runs it
wherever the bound's search runs (planning/scenario_bound.py's "One answer"), so `plan` and `--optimality-gap` answer
alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import numpy as np

from infraplan.errors import InputError
from infraplan.planning import bound_columns, site_building
from infraplan.planning.bound_columns import bound_programme, spare_lines
from infraplan.planning.phased_mix import MixOption, solve_phased_bound
from infraplan.planning.pool_money import PoolMoney, node_devices
from infraplan.planning.purchase_windows import facility_lines, site_rate, window_lines
from infraplan.planning.retirement import Lifecycle, lifecycles
from infraplan.planning.scenario_bound import spare_lines_under, spare_nodes_by_count
from infraplan.planning.scenario_caps import scenario_mix
from infraplan.planning.scenario_report import base_capex, base_money, packed, whole_base
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import Optimality, bound_above_answer, proven_bound, too_many_counts

FIRST_STEP = True
"""hB67: charge each pool the increment past its base once (module docstring); False: every server at the least."""
EVERY_STEP = True
"""hB68: charge each count t >= the base's the pool's in-service passes its increment there once (module docstring,
`STEPS_PER_POOL` of them); False: the step past the base alone (hB67)."""
STEPS_PER_POOL = 64  # the largest excess increments a pool's bound charges (any subset keeps the bound: a binary each)
LAZY_PURCHASES = True
"""hB69: a phase buys only where its survivors lack the servers used and their spares, and then no more (module
docstring); False: the bound may buy early."""
DIPS_PER_POOL = 8
"""hB71: the least increment a pool's purchases are charged is its (`DIPS_PER_POOL` + 1)-th smallest (at least 0),
each increment below it credited where a run of phases passes its count (module docstring, "Dips"); 0: the
smallest (hB67-hB70: a negative one dropped every step)."""
SPARE_PURCHASES = True
"""hB68: the purchases of the devices used and their spare nodes (planning/bound_columns.py); False: of the devices
used alone."""
HELD_FLOOR = True
"""hB71: a site's facility peak in the bound is at least its bases' IT (`facility_floor`: its growth >= 0); False:
the floor may fall below it (hB69)."""
ADOPT = True
"""hB72: where the bound's own assignment costs less than the answer (priced as the report prices it, within the site
caps), it is the answer (module docstring, "Its assignment"); False: the loops' answer is kept."""
SPARE_STEPS = True
"""hB71: spares(u) from below at its steps too (bound_columns.with_spare_steps, module docstring); False: under the
hull's lines alone (hB68)."""


def spare_lines_by_pool(spec: ScenarioSpec, most: list[int]) -> list[list[tuple[float, float]]] | None:
    """Per pool the lines under its spare servers at 0 .. the most servers it can use (planning/bound_columns.py
    `spare_lines`, over `spare_nodes_by_count`); None without spares (or with `SPARE_PURCHASES` off)."""
    return spare_lines_under(spec, most) if SPARE_PURCHASES else None


def spare_steps(spec: ScenarioSpec, most: list[int]) -> list[np.ndarray] | None:
    """Per pool its spare servers at 0 .. the most servers it uses, for spares(u) at its steps
    (bound_columns.with_spare_steps, as the fleet bound's since hB70); None without spares' purchases or with
    `SPARE_STEPS` off."""
    if not SPARE_STEPS or spare_lines_by_pool(spec, most) is None:
        return None
    return [spare_nodes_by_count(spec, pool, -(-most[p] // node_devices(pool))) for p, pool in enumerate(spec.pools)]


def lazy_buys(spec: ScenarioSpec, most: list[int]) -> list[tuple[int, list[tuple[float, float]]]] | None:
    """Per pool the most servers it reaches (its `most` devices' servers and their spares, or its base) and the
    lines over its spare servers at 0 .. those used (planning/bound_columns.py `with_lazy`); None with
    `LAZY_PURCHASES` off."""
    if not LAZY_PURCHASES:
        return None
    out = []
    for p, pool in enumerate(spec.pools):
        g = node_devices(pool)
        spares = spare_nodes_by_count(spec, pool, -(-most[p] // g))
        out.append((max(len(spares) - 1 + int(spares[-1]), int(whole_base(spec)[p, 0]) // g, 1),
                    spare_lines(spares, upper=True)))
    return out


def dips_per_pool() -> int:
    """The increments below a pool's least that the bound credits (`DIPS_PER_POOL`); 0 where its rows are off
    (`FIRST_STEP`): a credit is one of them, and a least above an uncredited increment would pass the answer."""
    return DIPS_PER_POOL if FIRST_STEP else 0


def _bound_value(m: PoolMoney) -> float:
    """A count's capex in the bound: with SITE_BUILDING_REUSE less its facility part (a site's facility spend is
    >= 0 and charged apart, planning/site_building.py: the bound stays below the objective)."""
    facility = float(m.facility_capex_usd or 0.0) if site_building.SITE_BUILDING_REUSE else 0.0
    return float(m.capex_usd or 0.0) - facility


def reach_counts(spec: ScenarioSpec, most: list[int]) -> list[list[PoolMoney]]:
    """Per pool its packed money at 1 .. the most servers the plan can report (`most` devices' servers and their
    spare nodes, or the base's): computed once for `least_increments`, `window_lines` and `facility_lines` (each
    size is cached, `scenario_report.packed`, but a look-up hashes the spec)."""
    out = []
    for p, pool in enumerate(spec.pools):
        g = node_devices(pool)
        top = -(-most[p] // g)
        reach = max(top + int(spare_nodes_by_count(spec, pool, top)[top]), int(whole_base(spec)[p, 0]) // g, 1)
        out.append([packed(spec, pool, n * g) for n in range(1, reach + 1)])
    return out


def _values(counts_of: list[list[PoolMoney]], fleet_value: bool = False) -> list[list[float]]:
    """Per pool F at 0 .. its reach (`least_increments`' values)."""
    return [[0.0] + [float(m.capex_usd or 0.0) if fleet_value else _bound_value(m) for m in counts]
            for counts in counts_of]


def least_increments(spec: ScenarioSpec, most: list[int], peak: np.ndarray, fleet_value: bool = False,
                     counts_of: list[list[PoolMoney]] | None = None) -> tuple[np.ndarray, float, np.ndarray]:
    """Per pool the least capex per device added from one whole server count to the next (at least 0: module
    docstring), over 0 .. the most servers the plan can report (`most` devices' servers and their spare nodes, the
    base's); the bases' packed - unpacked value where negative, summed (the first phase's `value_before`); and per
    pool the increment from its base's server count to the next above g x the least (`first_step`, module
    docstring; 0 where an increment is negative or the base is the most the plan reaches) and those most servers.
    `fleet_value` (`fleet_value_bound`): the capex with its facility part, and the bases' packed value summed."""
    out, base_terms, bases = [], 0.0, whole_base(spec)[:, 0]
    first: list[tuple[int, int, float, int]] = []  # (pool, count, excess, the most servers): PhasedMix.first_step
    cycles = lifecycles(spec)
    counts_of = reach_counts(spec, most) if counts_of is None else counts_of
    least_w: list[float] = []  # per pool the least IT W per device over those counts (`facility_floor`)
    for p, pool in enumerate(spec.pools):
        g, base, counts = node_devices(pool), int(bases[p]) // node_devices(pool), counts_of[p]
        reach = len(counts)
        value = _values([counts], fleet_value)[0]
        least_w.append(min(m.it_w / m.devices for m in counts))
        steps = [b - a for a, b in zip(value, value[1:], strict=False)]
        least = max(0.0, sorted(steps)[min(dips_per_pool(), len(steps) - 1)])  # the dips below it credited (hB71)
        out.append(least / g)
        dips = [(steps[t] - least, t) for t in range(len(steps)) if steps[t] < least]
        if len(dips) <= dips_per_pool():  # (more increments < 0 than that: none charged above 0, as hB67's)
            first += _charges(p, steps, least, base, reach, cycles is not None and _rebuys(cycles[p])) + [
                (p, t, e, reach) for e, t in sorted(dips)]  # (after the pool's charges: e < 0, `with_steps`)
        if base and fleet_value:  # the last phase's fleet holds the base at least (`fleet_value_bound`)
            base_terms += value[base]
        elif base:  # the first phase spends from the base's unpacked value (module docstring)
            unpriced = base_capex(spec, pool, base * g) is None
            base_terms += value[base] - (0.0 if unpriced else _bound_value(base_money(spec, pool, base * g)))
    floor = 0.0 if fleet_value else facility_floor(spec, least_w, peak)
    return np.array(out), base_terms - floor, np.array(first).reshape(-1, 4)


def _charges(p: int, steps: list[float], least: float, base: int, reach: int, rebuys: bool
             ) -> list[tuple[int, int, float, int]]:
    """Pool p's rows of the increments above `least` (module docstring): from its base up, the `STEPS_PER_POOL`
    largest (`EVERY_STEP`; else the base's alone), and below it where the base retires and the pool buys after
    (`rebuys`), the `REPASSED_PER_POOL` largest."""
    over = [(steps[t] - least, t) for t in range(base, len(steps) if EVERY_STEP else base + 1)]
    out = [(p, t, e, reach) for e, t in sorted(over, reverse=True)[:STEPS_PER_POOL] if e > 0]
    if base and bound_columns.REPASSED_STEPS and rebuys:  # (hB69)
        under = [(steps[t] - least, t) for t in range(base)]
        out += [(p, t, e, reach) for e, t in sorted(under, reverse=True)[:bound_columns.REPASSED_PER_POOL] if e > 0]
    return out


def _rebuys(cycle: Lifecycle) -> bool:
    """Whether a pool's installed base retires within the plan and the pool may buy after it (its in-service can
    pass a count below the base again)."""
    return bool(np.any(~cycle.base_alive & cycle.buy_open))


def facility_floor(spec: ScenarioSpec, least_w: list[float], peak: np.ndarray,
                   held_by_site: dict[str, float] | None = None) -> float:
    """With SITE_BUILDING_REUSE the bound's facility part (planning/site_building.py): a site's facility spend over
    the phases is its held W's growth, at least max(0, its last phase's IT - its bases' IT) at the least facility $/W
    of its pools; the last phase's IT is at least each pool's devices in service x its least IT W per device. So each
    pool's devices in the last phase cost that $/W x its least W (`cost`'s last column, set here) and the bases' IT x
    that $/W is returned, to subtract; `held_by_site` (given) takes each site's part: its peak is at least it (hB71,
    `bound_columns.with_peak`: the max(0, .) kept). 0 with the toggle off."""
    if not site_building.SITE_BUILDING_REUSE:
        return 0.0
    bases, held = whole_base(spec)[:, 0], 0.0
    for site in spec.sites:
        mine = [p for p, pool in enumerate(spec.pools) if pool.site == site.name]
        rate = site_rate(spec, mine)
        here = sum(rate * base_money(spec, spec.pools[p], int(bases[p])).it_w for p in mine if bases[p] > 0)
        for p in mine:
            peak[p] = rate * least_w[p]
        held += here
        if held_by_site is not None:
            held_by_site[site.name] = here
    return held


def purchase_bound(spec: ScenarioSpec, options: list[MixOption], demand: np.ndarray, watts: np.ndarray,
                   sites: dict[str, int], most: list[int], answer: np.ndarray, answer_cost: float,
                   cost_of: Callable[[np.ndarray], tuple[np.ndarray, float] | None] | None = None
                   ) -> tuple[np.ndarray, Optimality]:
    """The lower bound on the capex objective under retirement (module docstring) and its gap: the `answer` (units
    per option) costing `answer_cost`, or the bound's own assignment where `cost_of` (its idle units dropped, its
    objective; None: over a cap) says it costs less (`ADOPT`, module docstring "Its assignment")."""
    g = [node_devices(p) for p in spec.pools]
    refused = too_many_counts(sum(-(-m // gp) for m, gp in zip(most, g, strict=True)), answer_cost)
    if refused is not None:
        return answer, refused
    years = [ph.year for ph in spec.phases]
    peak = np.zeros(len(spec.pools))  # per device in service at its site's peak phase: the facility floor's (hN57)
    counts = reach_counts(spec, most)
    per_device, base_terms, first_step = least_increments(spec, most, peak, False, counts)
    mix = scenario_mix(spec, sites, years, demand=demand, options=options, peak_cost=peak,
                       cost=np.zeros((len(spec.pools), len(years))), watts_per_device=watts,
                       installed=[int(n) for n in whole_base(spec)[:, 0]],
                       purchase_cost=np.repeat(per_device[:, None], len(years), axis=1),
                       first_step=first_step if FIRST_STEP else None, spare_lines=spare_lines_by_pool(spec, most),
                       lazy_buys=lazy_buys(spec, most))
    held: dict[str, float] = {}  # each site's bases' IT at its least facility $/W (`facility_floor`)
    if HELD_FLOOR:
        facility_floor(spec, [0.0] * len(spec.pools), np.zeros(len(spec.pools)), held)
    extend = partial(bound_programme, spares=spare_steps(spec, most), held={sites[k]: v for k, v in held.items()},
                     it_lines=facility_lines(spec, counts) if site_building.SITE_BUILDING_REUSE else None,
                     windows=window_lines(_values(counts), per_device * np.array(g),
                                          first_step if FIRST_STEP else np.zeros((0, 4))))
    try:
        x, _, raw = solve_phased_bound(mix, extend, ceiling=answer_cost - base_terms)
    except InputError:  # not expected (the answer is a point of it); `plan` runs it without the flag too
        return answer, Optimality(None, answer_cost, None, 1, "no lower bound (the bound's programme was infeasible)")
    found = cost_of(x) if ADOPT and cost_of is not None else None
    if found is not None and found[1] < answer_cost * (1 - 1e-12):
        answer, answer_cost = found
    lower = proven_bound(raw + base_terms, answer_cost)
    gap = max(0.0, (answer_cost - lower) / answer_cost) if answer_cost > 0 else None
    how = ("the lower bound from 1 MILP solve of each phase's purchases at each pool's least capex per device "
           "added (planning/purchase_bound.py)")
    if gap is None:
        text = "no lower bound (a zero objective)"
    elif gap <= 1e-6:
        text = f"optimal: {how} equals the objective (within HiGHS's 1e-6 relative gap)"
    else:
        text = f"within {gap * 100:.3g} % of the optimum: {how}"
    fault = bound_above_answer(lower, answer_cost)
    return answer, Optimality(lower, answer_cost, None if fault else gap, 1, fault or text)


def fleet_value_bound(spec: ScenarioSpec, options: list[MixOption], demand: np.ndarray, watts: np.ndarray,
                      sites: dict[str, int], most: list[int], fleet: Optimality) -> Optimality:
    """The capex objective where nothing retires (hB69): `fleet` (planning/scenario_bound.py's bound) or the
    purchase bound on the last phase's fleet value, whichever is higher (module docstring, "Nothing retires")."""
    if fleet.lower_bound is None or too_many_counts(sum(-(-m // node_devices(p))
                                                        for m, p in zip(most, spec.pools, strict=True)), 0.0):
        return fleet
    n_k = len(spec.phases)
    counts = reach_counts(spec, most)
    per_device, base_terms, steps = least_increments(spec, most, np.zeros(len(spec.pools)), True, counts)
    kept = Lifecycle(np.triu(np.ones((n_k, n_k), dtype=bool)), np.ones(n_k, dtype=bool), np.ones(n_k, dtype=bool))
    mix = replace(scenario_mix(spec, sites, [ph.year for ph in spec.phases], demand=demand, options=options,
                               cost=np.zeros((len(spec.pools), n_k)), watts_per_device=watts,
                               installed=[int(n) for n in whole_base(spec)[:, 0]],
                               purchase_cost=np.repeat(per_device[:, None], n_k, axis=1),
                               first_step=steps if FIRST_STEP else None, spare_lines=spare_lines_by_pool(spec, most),
                       lazy_buys=lazy_buys(spec, most)),
                  cohorts=[kept] * len(spec.pools))  # nothing retires: one cohort per phase, each kept to the end
    lower = solve_phased_bound(mix, partial(bound_programme, spares=spare_steps(spec, most), windows=window_lines(
        _values(counts, True), per_device * np.array([node_devices(p) for p in spec.pools]),
        steps if FIRST_STEP else np.zeros((0, 4)))), ceiling=fleet.upper_bound - base_terms)[2] + base_terms
    if lower <= fleet.lower_bound:
        return fleet
    lower = proven_bound(lower, fleet.upper_bound)
    gap = max(0.0, (fleet.upper_bound - lower) / fleet.upper_bound) if fleet.upper_bound > 0 else None
    how = ("the lower bound from the purchases of the last phase's fleet at each pool's least capex per device "
           f"added (planning/purchase_bound.py), above the lines' ({fleet.lower_bound:,.0f} USD)")
    text = (f"optimal: {how} equals the objective (within HiGHS's 1e-6 relative gap)" if gap is not None
            and gap <= 1e-6 else f"within {(gap or 0.0) * 100:.3g} % of the optimum: {how}")
    fault = bound_above_answer(lower, fleet.upper_bound)
    return Optimality(lower, fleet.upper_bound, None if fault else gap, fleet.solves + 1, fault or text)
