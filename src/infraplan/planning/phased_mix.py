"""The phased fleet programme of a scenario: which pool serves which service in each phase, and the devices
installed, as one mixed-integer linear programme solved by HiGHS (scipy.optimize.milp; a re-solve from the previous
answer, planning/milp_start.py).

The multi-phase form of `planning.fleet_mix`'s throughput-matrix programme (Gavel, Narayanan et al., OSDI 2020)
that `planning.scenario` (`infraplan plan`) solves.

Variables: x[o] >= 0 integer, units of option o = (service s, pool p, phase k); an LLM deployment or a training
job is one whole unit (binary, capacity 1 of a demand of 1) of `unit_devices` devices, a recsys/video option is
one device of `capacity` QPS or streams. n[p, k] >= 0 integer: whole servers of pool p installed in phase k,
each of g[p] = `server_devices[p]` devices (what the plan packs and reports: a server is bought whole; g = 1
without `server_devices`, the device count).

    minimise   sum_{p,k} cost[p, k] g[p] n[p, k]   (+ sum_{p,k} purchase_cost[p, k] g[p] b[p, k] with cohorts)
    subject to sum_{o in (s, k)} capacity[o] x[o]        >= demand[s, k]      every service in every phase
               sum_{o in (p, k)} unit_devices[o] x[o]    <= g[p] n[p, k]      devices come from the pool's servers
               sum_{o in (p, k)} unit_devices[o] x[o]    <= available[p]      (0 before its delivery year)
               n[p, k-1]                                 <= n[p, k]           bought hardware stays
               (with `cohorts`, where a device retires: n[p, k] = base[p] alive + sum_{j <= k, j alive in k} b[p, j],
               b[p, k] >= 0 integer the servers bought in phase k, 0 where the pool may not buy:
               planning/retirement.py; the row above is then replaced)
               sum_{p at site} watts[p] g[p] n[p, k]     <= cap[site, k]      (0 before the site is online)

with n[p, k] >= floor(installed[p] / g[p]), the whole servers of the devices already `installed` (a partial
server is not usable in the layout: planning/scenario_report.py `whole_base`), n[p, k] <= ceil(available[p] / g[p]),
and a 1e-9 charge per option unit so that no idle unit is assigned (`cost` and `watts` stay per device; the
`available` row is kept where the servers round it up). Heterogeneous generations are pools; dates are the zero
bounds; the site caps are the power chain's facility watts per device at the pool's size. Infeasible: the
elastic LP (a shortfall fraction per demand, at most 1, minimised) names the short services and the binding
constraints (a site at its power cap where lifting that cap, and the site's caps after it, which hold what it buys,
leaves less short, else the sites at their caps where lifting them together does: hV55, every site at its cap was
named, a slack one included; hR55, a cap lifted alone left a first phase's cap unnamed where every phase was short;
pools used up), raised as one InputError.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from infraplan.errors import InputError
from infraplan.limits import MAX_ACCELERATORS
from infraplan.planning.milp_start import BOUND_OPTIONS, proven, solve_from, sound
from infraplan.planning.retirement import Lifecycle, in_service
from infraplan.planning.sized_pricing import Bracket, with_brackets
from infraplan.units import power_text

# (cost, rows, row lower, row upper, column lower, column upper, integrality): what HiGHS is handed
Programme = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class MixOption:
    """One way to serve a service in a phase: `capacity` demand units per unit of `unit_devices` devices."""

    service: int
    pool: int
    phase: int
    capacity: float
    unit_devices: int
    whole: bool
    whole_why: str = ""  # why a whole option is one unit where its kind can split (a disaggregated LLM deployment)


@dataclass(frozen=True)
class PhasedMix:
    """Inputs of the phased programme (see above); arrays are (services|pools|sites, phases)."""

    demand: np.ndarray
    options: list[MixOption]
    cost: np.ndarray
    available: list[int | None]
    pool_open: np.ndarray
    pool_site: list[int]
    watts_per_device: np.ndarray
    site_cap_w: np.ndarray
    service_names: list[str]
    pool_names: list[str]
    site_names: list[str]
    phase_names: list[str]
    installed: list[int] | None = None  # devices already in place per pool: its whole servers bound every phase
    server_devices: list[int] | None = None  # devices per server of each pool (n counts servers); None: 1
    # (pool, phase) -> its cost by fabric tier bracket (sized_pricing.with_brackets), replacing cost there; None: none
    brackets: dict[tuple[int, int], list[Bracket]] | None = None
    cohorts: list[Lifecycle] | None = None  # each pool's cohorts where a device retires (retirement.py); None: none
    # (pools, phases) cost per device bought in a phase, charged on the purchase columns b (with cohorts): the capex
    # objective under retirement (planning/purchase_capex.py); None: the purchases cost nothing (n carries `cost`)
    purchase_cost: np.ndarray | None = None
    # rows (pool p, servers t, excess, most): the capex a lower bound charges each time a pool's servers pass t,
    # the increment F(t + 1) - F(t) above the least one, and the most servers the plan reaches
    # (planning/purchase_bound.py, planning/bound_columns.py `with_steps`; hB67, hB68, hB69); None: none
    first_step: np.ndarray | None = None
    # per pool USD per device in service a lower bound charges once, at its site's peak phase (the facility floor:
    # planning/purchase_bound.py `facility_floor`, hB69); None: none
    peak_cost: np.ndarray | None = None
    # per pool (the most servers it reaches, lines over its spare servers at u used): a lower bound's lazy purchases
    # (planning/bound_columns.py `with_lazy`, hB69); None: purchases at any phase
    lazy_buys: list[tuple[int, list[tuple[float, float]]]] | None = None
    # per pool lines (intercept, slope) under its spare servers at u servers used: the purchase bound's chain of the
    # devices used and their spares (planning/bound_columns.py, hB68); None: the purchases of the devices used alone
    spare_lines: list[list[tuple[float, float]]] | None = None

    def server(self, p: int) -> int:
        """Devices per server of pool p (the unit n[p, k] counts)."""
        return 1 if self.server_devices is None else max(1, int(self.server_devices[p]))


SHARE_MOST = 1e6
"""The largest coefficient of a demand row in shares (capacity[o] / demand[s, k]): a unit serving its demand more than
a million times over counts as a million. Any coefficient >= 1 already meets its row with one unit, so for whole
units the rows hold where they held (the answer's set is the same); without the cap a ranking service of 1e-8 QPS
(~2e15 on H100's 22.7 M QPS a device) was "HiGHS: the programme is infeasible" in `plan` and fleet-mix (hU68)."""

Extension = Callable[[PhasedMix, Programme, int], Programme]  # (mix, programme, options) -> the programme with more
# columns and rows: a lower bound's own (planning/bound_columns.py), passed in so the plan's module imports none


def _phased_matrix(m: PhasedMix, elastic: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_s, n_k = m.demand.shape
    n_p, n_site, n_o = m.cost.shape[0], m.site_cap_w.shape[0], len(m.options)
    n_n = n_p * n_k
    n_e = n_s * n_k if elastic else 0
    n_var = n_o + n_n + n_e + (n_n if m.cohorts else 0)
    rows, lb, ub = [], [], []

    def nvar(p: int, k: int) -> int:
        return n_o + p * n_k + k

    def bvar(p: int, k: int) -> int:  # servers bought in phase k (with cohorts), after the elastic columns
        return n_o + n_n + n_e + p * n_k + k

    for s in range(n_s):
        for k in range(n_k):
            if m.demand[s, k] <= 0:
                continue
            row = np.zeros(n_var)
            for i, o in enumerate(m.options):
                if o.service == s and o.phase == k:
                    row[i] = o.capacity
            if elastic:  # the row in shares of the demand: one scale for every demand (1e15 qps beside 1 failed)
                row = np.minimum(row / m.demand[s, k], SHARE_MOST)
                row[n_o + n_n + s * n_k + k] = 1.0
            rows.append(row)
            lb.append(1.0 if elastic else m.demand[s, k])
            ub.append(np.inf)
    for p in range(n_p):
        for k in range(n_k):
            row = np.zeros(n_var)
            for i, o in enumerate(m.options):
                if o.pool == p and o.phase == k:
                    row[i] = o.unit_devices
            if m.available[p] is not None and m.server(p) > 1 and _pool_limit(m, p) % m.server(p):
                cap_row = row.copy()  # the devices used stay within `available`, the servers round it up
                rows.append(cap_row)
                lb.append(-np.inf)
                ub.append(float(_pool_limit(m, p)))
            row[nvar(p, k)] = -float(m.server(p))
            rows.append(row)
            lb.append(-np.inf)
            ub.append(0.0)
            if m.cohorts:  # in service = the base while alive + the purchases still alive
                row = np.zeros(n_var)
                row[nvar(p, k)] = 1.0
                for j in range(k + 1):
                    row[bvar(p, j)] = -1.0 if m.cohorts[p].alive[j, k] else 0.0
                alive = float(_base_servers(m, p)) if m.cohorts[p].base_alive[k] else 0.0
                rows.append(row)
                lb.append(alive)
                ub.append(alive)
            elif k:
                row = np.zeros(n_var)
                row[nvar(p, k - 1)], row[nvar(p, k)] = 1.0, -1.0
                rows.append(row)
                lb.append(-np.inf)
                ub.append(0.0)
    for site in range(n_site):
        for k in range(n_k):
            row = np.zeros(n_var)
            for p in range(n_p):
                if m.pool_site[p] == site:
                    row[nvar(p, k)] = m.watts_per_device[p] * m.server(p)
            rows.append(row)
            lb.append(-np.inf)
            ub.append(m.site_cap_w[site, k])
    var_lb = np.zeros(n_var)
    var_ub = np.full(n_var, np.inf)
    for i, o in enumerate(m.options):
        if o.whole:
            var_ub[i] = 1.0
    for p in range(n_p):
        for k in range(n_k):
            limit = -(-_pool_limit(m, p) // m.server(p))
            var_ub[nvar(p, k)] = 0.0 if not m.pool_open[p, k] else float(limit)
            if m.cohorts:
                buys = m.pool_open[p, k] and m.cohorts[p].buy_open[k]
                var_ub[bvar(p, k)] = float(limit) if buys else 0.0
            if m.installed is not None and (not m.cohorts or m.cohorts[p].base_alive[k]):
                base = _base_servers(m, p)
                var_lb[nvar(p, k)] = base
                var_ub[nvar(p, k)] = max(var_ub[nvar(p, k)], base)
    var_ub[n_o + n_n:n_o + n_n + n_e] = 1.0
    return np.array(rows), np.array(lb), np.array(ub), var_lb, var_ub


def _base_servers(m: PhasedMix, p: int) -> int:
    """Pool p's installed base in whole servers (a partial one is not in the layout)."""
    return 0 if m.installed is None else int(m.installed[p]) // m.server(p)


def _pool_limit(m: PhasedMix, p: int) -> int:
    """Devices pool p may hold: its `available`, else the product's limit of accelerators (infraplan.limits);
    unbounded, a 1e30-images/day demand left the MILP and its explanation without a binding constraint."""
    limit = m.available[p]
    return MAX_ACCELERATORS if limit is None else max(int(limit), 0)


def _whole_jobs(m: PhasedMix, service: int, phase: int) -> str:
    """' (it needs 65,536 devices on h100 at once)': a whole option (a training job, an LLM deployment) is not
    divisible, so the relaxation's percentage alone hides what does not fit."""
    whole = [o for o in m.options if o.whole and o.service == service and o.phase == phase]
    needs = [f"{o.unit_devices:,} devices on {m.pool_names[o.pool]}" for o in whole]
    why = "; ".join(dict.fromkeys(o.whole_why for o in whole if o.whole_why))  # each reason once
    why = f": {why}" if why else ""
    return f" (it needs {' or '.join(needs)} at once{why})" if needs else ""


def _explain_phased(m: PhasedMix) -> str:
    """The elastic LP relaxation: least total shortfall; the short demands and the binding constraints."""
    n_s, n_k = m.demand.shape
    n_p, n_o = m.cost.shape[0], len(m.options)
    a, lb, ub, vlb, vub = _phased_matrix(m, elastic=True)
    c = np.zeros(a.shape[1])
    c[n_o + n_p * n_k:n_o + n_p * n_k + n_s * n_k] = 1.0  # the shortfalls (cohorts' purchases after them)
    res = milp(c, constraints=LinearConstraint(a, lb, ub), bounds=Bounds(vlb, vub))
    if res.status != 0:  # no shortfall helps: what is already installed breaks a site's power cap
        installed = [int(n) // m.server(p) * m.server(p) for p, n in enumerate(m.installed or [0] * n_p)]
        site_w = [sum(m.watts_per_device[p] * installed[p] for p in range(n_p) if m.pool_site[p] == site)
                  for site in range(len(m.site_names))]
        over = [f"site {name} in {m.phase_names[k]}: the installed devices draw {power_text(site_w[site])} against "
                f"its cap of {power_text(m.site_cap_w[site, k])}"
                for site, name in enumerate(m.site_names) for k in range(n_k) if site_w[site] > m.site_cap_w[site, k]]
        if over:
            return "infeasible plan: " + "; ".join(over[:3])
        return "HiGHS: the programme is infeasible and its elastic relaxation failed"
    short = res.x[n_o + n_p * n_k:n_o + n_p * n_k + n_s * n_k].reshape(n_s, n_k)
    installed = res.x[n_o:n_o + n_p * n_k].reshape(n_p, n_k) * np.array([[m.server(p)] for p in range(n_p)])
    parts = [f"{m.service_names[s]} in {m.phase_names[k]} short by {short[s, k] * 100:.0f} %{_whole_jobs(m, s, k)}"
             for s in range(n_s) for k in range(n_k) if short[s, k] > 1e-6]
    binding, at_cap = [], []
    for site, name in enumerate(m.site_names):
        for k in range(n_k):
            used = sum(m.watts_per_device[p] * installed[p, k] for p in range(n_p) if m.pool_site[p] == site)
            if parts and used >= m.site_cap_w[site, k] * (1 - 1e-6):
                at_cap.append((site, k, f"site {name} at its power cap of {power_text(m.site_cap_w[site, k])} "
                                        f"in {m.phase_names[k]}"))
    def less_short(caps: list[tuple[int, int, str]]) -> bool:  # the shortfall without these caps is less
        loose = ub.copy()
        for site, k, _ in caps:  # the site rows come last (`_phased_matrix`)
            loose[len(ub) - len(m.site_names) * n_k + site * n_k + k] = np.inf
        got = milp(c, constraints=LinearConstraint(a, lb, loose), bounds=Bounds(vlb, vub))
        return bool(got.status == 0 and got.fun < res.fun - 1e-6)

    # binding: a cap without which (and the site's later caps, which hold what its phase buys: bought hardware stays)
    # less is short (hV55: every site at its cap was named; hR55: a cap alone, the first phases' went unnamed where
    # every phase was short), else the caps together
    binding = [text for site, k, text in at_cap if less_short([(site, j, "") for j in range(k, n_k)])]
    if not binding and at_cap and less_short(at_cap):
        binding = [text for _, _, text in at_cap]
    for p, name in enumerate(m.pool_names):
        limit = _pool_limit(m, p)
        if parts and installed[:, -1].size and installed[p].max() >= limit - 1e-6:
            binding.append(f"pool {name} used up ({limit:,} devices"
                           f"{', the limit per pool' if m.available[p] is None else ''})")
        base = _base_servers(m, p) * m.server(p)
        for k in range(n_k):  # an installed base serves before the pool's delivery date, when it buys none (hF56;
            alive = not m.cohorts or m.cohorts[p].base_alive[k]  # hR56: not once it has retired)
            if base and alive and not m.pool_open[p, k] and short[:, k].max() > 1e-6:
                binding.append(f"pool {name} in {m.phase_names[k]}: its installed {base:,} devices alone (new ones "
                               "not delivered yet: from_year)")
    wholes = [f"{m.service_names[s]} in {m.phase_names[k]}{_whole_jobs(m, s, k)}" for s in range(n_s)
              for k in range(n_k) if m.demand[s, k] > 0 and _whole_jobs(m, s, k)]  # what rounding cannot split
    what = "; ".join(parts) or "integer rounding only" + (f": {'; '.join(wholes)}" if wholes else "")
    return (f"infeasible plan: even the LP relaxation leaves {what}"
            f"{'; binding: ' + ', '.join(binding) if binding else ''}")


def solve_phased_mix(m: PhasedMix, start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Units per option and devices installed per (pool, phase), whole servers; InputError naming the binding
    constraint. `start`: units per option of a known assignment (the previous solve's), HiGHS's first incumbent
    (planning/milp_start.py)."""
    n_k = m.demand.shape[1]
    n_p, n_o = m.cost.shape[0], len(m.options)
    res = _solve(m, 1e-9, start)  # a tiny charge per unit keeps the solver from assigning idle units
    x = np.round(res.x).astype(int)
    return x[:n_o], x[n_o:n_o + n_p * n_k].reshape(n_p, n_k) * np.array([[m.server(p)] for p in range(n_p)])


def solve_phased_bound(m: PhasedMix, extend: Extension | None = None, servers: Callable[[int, int], int] | None = None,
                       ceiling: float = np.inf, start: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray, float]:
    """`solve_phased_mix` without the idle-unit charge (so its objective is the costs' alone), and HiGHS's proven
    lower bound on that objective (its dual bound, at most its answer's objective): units per option, servers
    per (pool, phase) and the bound (sized_pricing.close_gap, hW5). `extend`: the bound's own columns added to the
    programme (purchase_bound passes `bound_columns.bound_programme`; the plan never has any); `servers`: the
    column read as a (pool, phase)'s servers, asked once the programme is built (default n[p, k]; the fleet bound
    under retirement reads its spares chain's in-service, planning/scenario_bound.py); `ceiling`: the objective
    the bound is below, in the programme's terms (milp_start.sound's safety net: presolve off above it); `start`:
    units per option of an assignment feasible in it, HiGHS's first incumbent (not handed over where `extend` adds
    columns)."""
    n_k = m.demand.shape[1]
    n_p, n_o = m.cost.shape[0], len(m.options)
    prog = programme(m, 0.0, extend)
    res = sound(solve_from(*prog, None if start is None else start_columns(m, start), BOUND_OPTIONS), prog, ceiling)
    if res.status != 0 or res.x is None:
        raise InputError(_explain_phased(m))
    x = np.round(res.x).astype(int)
    bound = proven(res)
    columns = [n_o + p * n_k + k if servers is None else servers(p, k) for p in range(n_p) for k in range(n_k)]
    return x[:n_o], x[columns].reshape(n_p, n_k), bound


# Every solve states the demand rows in shares of their demand (capacity[o] / demand[s, k] x[o] >= 1), not in QPS
# or streams (hP26, session 46). With rows of 1e8 QPS (coefficients to 3.4e7 per device, which HiGHS 1.12 warns of:
# "excessively large row bounds") HiGHS (scipy 1.17.1) proved "optimal, gap 0" answers above a feasible point:
# benchmarks/scenario_plan.py's stepped solve gave 42,379,390.65 by default, 42,350,559.16 with presolve off and 8
# values from 42,341,397.93 to 42,571,420.50 over HiGHS's random_seed 0-11, while the fixed point's assignment,
# 42,341,397.93, is feasible in it. Rows in shares (or those rows / 1e6): 42,341,397.93 on every seed and with
# presolve off; money in $M, the site rows in shares of their caps, no idle-unit charge or bounded units (each
# alone): still seed-dependent. So the rows' scale, inside HiGHS's branch and bound (presolve off fails too); the
# exact step not isolated. Shrunk to 2 ranking services on 2 pools (tests/planning/test_stepped_milp_scale_hP26.py):
# 12,236,075 "optimal" against 12,146,062 by enumerating every server count. hW5 had found it on fleet-mix's bound
# (fleet_milp.solve_units `shares`) and put the bound here in shares then, not every solve.
def _solve(m: PhasedMix, unit_charge: float, start: np.ndarray | None = None, extend: Extension | None = None) -> Any:
    """HiGHS on the programme (module docstring), `unit_charge` per device of an option unit, every demand row in
    shares of its demand (comment above), from `start` (units per option, `start_columns`) when given; InputError
    naming the binding constraint when infeasible."""
    res = solve_from(*programme(m, unit_charge, extend), None if start is None else start_columns(m, start))
    if res.status != 0 or res.x is None:
        raise InputError(_explain_phased(m))
    return res


def programme(m: PhasedMix, unit_charge: float, extend: Extension | None = None) -> Programme:
    """The MILP `_solve` hands HiGHS: (cost, rows, row lower and upper bounds, column lower and upper bounds,
    integrality), the demand rows in shares, `unit_charge` per device of an option unit, tier brackets' columns
    after the servers' (sized_pricing.with_brackets)."""
    n_k = m.demand.shape[1]
    n_p, n_o = m.cost.shape[0], len(m.options)
    a, lb, ub, vlb, vub = _phased_matrix(m, elastic=False)
    rows = int(np.count_nonzero(m.demand > 0))  # the demand rows come first, one per positive demand
    a[:rows] = np.minimum(a[:rows] / lb[:rows, None], SHARE_MOST)
    lb[:rows] = 1.0
    c = np.concatenate([np.zeros(n_o), (m.cost * np.array([[m.server(p)] for p in range(n_p)])).reshape(-1),
                        np.zeros(a.shape[1] - n_o - n_p * n_k)])  # cohorts' purchases: costed as servers n
    c[:n_o] = unit_charge * np.array([o.unit_devices for o in m.options])
    if m.purchase_cost is not None and m.cohorts:  # each phase's servers bought, at its price per device
        n_n = n_p * n_k
        c[n_o + n_n:n_o + 2 * n_n] = (m.purchase_cost * np.array([[m.server(p)] for p in range(n_p)])).reshape(-1)
    integrality = np.ones(len(c))
    if m.brackets:  # a (pool, phase)'s servers costed by its tier brackets: extra columns after n
        c, a, lb, ub, vlb, vub, integrality = with_brackets(c, a, lb, ub, vlb, vub,
                                               {n_o + p * n_k + k: b for (p, k), b in m.brackets.items()})
    prog = (c, a, lb, ub, vlb, vub, integrality)
    return extend(m, prog, n_o) if extend is not None else prog  # a lower bound's own columns (bound_columns)


def start_columns(m: PhasedMix, units: np.ndarray) -> np.ndarray:
    """The programme's columns for an assignment of `units` per option: the units, each (pool, phase)'s whole
    servers (the fewest holding its devices, at least the installed base's, bought hardware stays: what the
    objective would pay), then, with brackets, per bracket its binary and servers (the first bracket holding the
    servers chosen, in `with_brackets`' column order). A start HiGHS takes as its first incumbent when feasible."""
    n_k = m.demand.shape[1]
    n_p = m.cost.shape[0]
    used = np.zeros((n_p, n_k))
    for i, o in enumerate(m.options):
        used[o.pool, o.phase] += float(units[i]) * o.unit_devices
    g = np.array([[m.server(p)] for p in range(n_p)], dtype=float)
    base = np.array([[_base_servers(m, p)] for p in range(n_p)], dtype=float)
    servers, survivors = in_service(np.ceil(used / g), base, m.cohorts)
    columns = [np.asarray(units, dtype=float), servers.reshape(-1)]
    if m.cohorts:  # the servers bought per phase (retirement.in_service)
        columns.append((servers - survivors).reshape(-1))
    for (p, k), brackets in (m.brackets or {}).items():
        chosen = np.zeros(2 * len(brackets))
        n = servers[p, k]
        for j, b in enumerate(brackets):
            if n > 0 and b.lo <= n <= b.hi:
                chosen[2 * j], chosen[2 * j + 1] = 1.0, n
                break
        columns.append(chosen)
    if m.first_step is not None:  # y per step (pool p, count t): the pool's servers exceed t in some phase
        columns.append(np.array([float(servers[int(p)].max() > t) for p, t, _, _ in m.first_step]))
    return np.concatenate(columns)
