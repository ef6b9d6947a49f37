"""The purchase bound's columns beyond the phased programme's (planning/purchase_bound.py, `PhasedMix.first_step`
and `spare_lines`): the purchases of the devices used with their spare nodes (hB68) and the steps past a pool's
installed base (hB67, hB68). A lower bound's programme only: `solve_phased_mix` (the plan) never sets either field.

Spares (hB68). The report keeps in service, per (pool p, phase k), the whole servers of the devices used, u, plus
their spare nodes spares(u) (planning/spares.py: a Poisson quantile, non-decreasing in u), buying as late as its
survivors lack them (retirement.in_service). The phased programme's purchase columns b[p, k] hold only the devices
used (its in-service n[p, k], under the site caps, is theirs), so the bound bought no spare: hV55's growing fleet
at spare probability 0.99, 21.5 % gap. spares(u) is not linear; a convex function below it is: the lower convex
hull of the points (u, spares(u)), u = 0 .. the most servers the plan can use (`spare_lines`, one line per hull
edge, each <= spares(u) at every u of the range, so their maximum is too). So a second in-service chain, beside
n and b (which keep the caps):
    g u[p, k] >= the devices the options use there                      u integer: whole servers used
    s[p, k] >= intercept + slope u[p, k]   for each hull line         s >= 0: spare servers, from below
    N[p, k] = the base while alive + the purchases B[p, j] alive in k  (retirement's cohorts, as n's)
    N[p, k] >= u[p, k] + s[p, k]
and the purchase cost (and the facility floor's cost of the last phase's devices in service) moves from b, n to
B, N. Sound: any answer is a point of it costing at most what the answer spends: u = its servers used, s = the
lines' maximum at u (<= spares(u)), B = the report's own purchases (in_service's: it buys what its survivors lack of
u + spares(u), with the same cohorts), so N = the report's in-service >= u + s; those purchases each cost at least
the least increment per device (purchase_bound's argument), a step is charged where N, the report's in-service,
passes its count, and the last phase's N is the report's (the facility floor). B is not held to the pool's
`available` nor to its open phases: the report buys spares beyond both (with a warning), so the bound may.

The steps (hB67, hB68): per (pool, count t >= its base) a binary y with (in service) - (most - t) y <= t in every
phase, costed the increment F(t + 1) - F(t) above the least one (planning/purchase_bound.py's argument); with spares,
on N (the report's in-service includes its spares).

hB69 (planning/purchase_bound.py's docstring proves each): the steps per run of phases between retirements
(`with_steps`: a y per run, a w on the run's survivors), the facility floor at each site's peak phase (`with_peak`),
and the report's lazy purchases (`with_lazy`: where a phase buys, its in-service is the servers used and their
spares, the spares under lines over spares(u); no option above the units its demand needs)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from infraplan.planning.retirement import ahead

if TYPE_CHECKING:
    from infraplan.planning.phased_mix import PhasedMix, Programme

Column = Callable[[int, int], int]  # (pool, phase) -> a column of the programme

REPASSED_STEPS = True
"""hB69: a step is charged in each run of phases between retirements whose in-service passes it (`with_steps`), the
counts below a retiring base included (planning/purchase_bound.py); False: once a pool (hB68)."""
REPASSED_PER_POOL = 16  # the rows of a pool charged per run (the largest excess first); the others once (hB68)
PEAK_FACILITY = True
"""hB69: the facility floor at each site's peak phase (`with_peak`); False: at the last phase (hN57)."""


def spare_lines(spares: np.ndarray, upper: bool = False) -> list[tuple[float, float]]:
    """Lines (intercept, slope) under `spares` at every index u of the array: the edges of the lower convex hull of
    the points (u, spares[u]) (Andrew's monotone chain), those rising above 0 (s >= 0 holds already). `upper`: the
    lines over it, the edges of the upper hull, every one (hB69's lazy purchases)."""
    hull: list[tuple[float, float]] = []
    sign = -1.0 if upper else 1.0
    for point in ((float(u), float(v)) for u, v in enumerate(spares)):
        while len(hull) >= 2 and sign * ((hull[-1][0] - hull[-2][0]) * (point[1] - hull[-2][1])
                                         - (hull[-1][1] - hull[-2][1]) * (point[0] - hull[-2][0])) <= 0:
            hull.pop()  # hull[-1] is on or above (upper: below) the chord from hull[-2] to the point
        hull.append(point)
    lines = []
    for (x0, y0), (x1, y1) in zip(hull, hull[1:], strict=False):
        slope = (y1 - y0) / (x1 - x0)
        if upper or slope > 0 or y0 > 0:
            lines.append((y0 - slope * x0, slope))
    if upper and len(hull) == 1:  # one count: the spares there
        lines.append((hull[0][1], 0.0))
    return lines


def _grow(prog: Programme, columns: int, cost: np.ndarray, low: np.ndarray, high: np.ndarray,
          integer: np.ndarray) -> Programme:
    """`prog` with `columns` more columns (their cost, bounds and integrality) and no rows yet."""
    c, a, lb, ub, vlb, vub, integrality = prog
    return (np.concatenate([c, cost]), np.hstack([a, np.zeros((a.shape[0], columns))]), lb, ub,
            np.concatenate([vlb, low]), np.concatenate([vub, high]), np.concatenate([integrality, integer]))


def _rows(prog: Programme, rows: list[tuple[dict[int, float], float, float]]) -> Programme:
    """`prog` with `rows` ({column: coefficient}, lower, upper) added."""
    c, a, lb, ub, vlb, vub, integrality = prog
    block = np.zeros((len(rows), a.shape[1]))
    for i, (coefficients, _, _) in enumerate(rows):
        for column, value in coefficients.items():
            block[i, column] += value
    return (c, np.vstack([a, block]), np.concatenate([lb, [r[1] for r in rows]]),
            np.concatenate([ub, [r[2] for r in rows]]), vlb, vub, integrality)


@dataclass(frozen=True)
class Chain:
    """The columns of each (pool, phase)'s in service and purchases the steps, the peak and the lazy rows read (N, B
    with spares; n, b without), and with spares its servers used and spare servers (u, s)."""

    in_service: Column
    bought: Column
    used: Column | None = None
    spares: Column | None = None


def with_spare_purchases(m: PhasedMix, prog: Programme, n_o: int) -> tuple[Programme, Chain]:
    """The programme with the chain of purchases of the devices used and their spares (module docstring), and the
    columns of each (pool, phase)'s in service and purchases the steps and the peak read (N, B; n, b where
    `spare_lines` is None)."""
    n_p, n_k = m.cost.shape
    n_n = n_p * n_k

    def n(p: int, k: int) -> int:
        return n_o + p * n_k + k

    def b(p: int, k: int) -> int:  # the programme's purchase column (no elastic columns here)
        return n_o + n_n + p * n_k + k

    if m.spare_lines is None or not m.cohorts:
        return prog, Chain(n, b)
    q = prog[1].shape[1]

    def u(p: int, k: int) -> int:
        return q + p * n_k + k

    def s(p: int, k: int) -> int:
        return u(p, k) + n_n

    def big_n(p: int, k: int) -> int:
        return u(p, k) + 2 * n_n

    def big_b(p: int, k: int) -> int:
        return u(p, k) + 3 * n_n

    c = prog[0].copy()
    moved = np.zeros(4 * n_n)
    for p in range(n_p):
        for k in range(n_k):
            moved[big_n(p, k) - q], moved[big_b(p, k) - q] = c[n(p, k)], c[b(p, k)]
            c[n(p, k)] = c[b(p, k)] = 0.0
    limits = [float(prog[5][n(p, k)]) for p in range(n_p) for k in range(n_k)]  # u <= n's bound: u <= n holds
    high = np.concatenate([limits, np.full(3 * n_n, np.inf)])
    for p, cycle in enumerate(m.cohorts):  # the report buys where the pool may, else ahead (hB70, retirement)
        high[[big_b(p, k) - q for k in range(n_k) if not cycle.buy_open[k] and ahead(cycle, k) is not None]] = 0.0
    integer = np.concatenate([np.ones(n_n), np.zeros(n_n), np.ones(2 * n_n)])
    prog = _grow((c, *prog[1:]), 4 * n_n, moved, np.zeros(4 * n_n), high, integer)
    rows: list[tuple[dict[int, float], float, float]] = []
    for p in range(n_p):
        g, cohort = float(m.server(p)), m.cohorts[p]
        base = float(m.installed[p] // m.server(p)) if m.installed is not None else 0.0
        for k in range(n_k):
            used = {i: float(o.unit_devices) for i, o in enumerate(m.options) if o.pool == p and o.phase == k}
            rows.append(({**used, u(p, k): -g}, -np.inf, 0.0))
            rows += [({s(p, k): 1.0, u(p, k): -slope}, intercept, np.inf) for intercept, slope in m.spare_lines[p]]
            alive = base if cohort.base_alive[k] else 0.0
            bought = {big_b(p, j): -1.0 for j in range(k + 1) if cohort.alive[j, k]}
            rows.append(({big_n(p, k): 1.0, **bought}, alive, alive))
            rows.append(({big_n(p, k): 1.0, u(p, k): -1.0, s(p, k): -1.0}, 0.0, np.inf))
    return _rows(prog, rows), Chain(big_n, big_b, u, s)


def _segments(m: PhasedMix, p: int) -> list[tuple[int, int]]:
    """Pool p's phases split where something of it retires (its base or an earlier purchase leaves service in the
    phase): (first, last) phase of each run (module docstring: within a run the in-service never falls)."""
    n_k, cohort = m.cost.shape[1], (m.cohorts[p] if m.cohorts else None)
    starts = [0] + [k for k in range(1, n_k) if REPASSED_STEPS and cohort is not None and (
        (m.installed is not None and m.installed[p] // m.server(p) > 0 and bool(cohort.base_alive[k - 1])
         and not cohort.base_alive[k]) or any(cohort.alive[j, k - 1] and not cohort.alive[j, k] for j in range(k)))]
    return list(zip(starts, [k - 1 for k in starts[1:]] + [n_k - 1], strict=True))


def step_runs(m: PhasedMix) -> list[tuple[int, int, float, float, int, int]]:
    """Each charge of `with_steps` in its column order: (pool p, count t, excess e, most, first, last phase of the
    run); a row of `first_step` per run (`_segments`) for the `REPASSED_PER_POOL` first rows of a pool and those below
    its base (none in the first run: the base is in service there, [N > t] = [S > t] = 1), once over every phase for
    the others."""
    out: list[tuple[int, int, float, float, int, int]] = []
    seen: dict[int, int] = {}  # rows of each pool so far (largest excess first: `least_increments`)
    rows = () if m.first_step is None else m.first_step
    for p, t, e, most in ((int(p), int(t), float(e), float(most)) for p, t, e, most in rows):
        base = m.installed[p] // m.server(p) if m.installed is not None else 0
        seen[p] = seen.get(p, 0) + (e > 0)
        each = t < base or seen[p] <= REPASSED_PER_POOL or e < 0  # (a dip is credited per run: `with_steps`)
        runs = _segments(m, p) if each else [(0, m.cost.shape[1] - 1)]
        out += [(p, t, e, most, first, last) for first, last in runs if first > 0 or t >= base]
    return out


def with_steps(m: PhasedMix, prog: Programme, in_service: Column, bought: Column) -> Programme:
    """The programme with each charge of `step_runs` (module docstring): a binary y costed e with in_service[p, k] -
    (most - t) y <= t in each phase k of the run, and from the second run a binary w (the next column) costed -e
    with survivors[p, first] >= (t + 1) w and w <= y."""
    if m.first_step is None or not len(m.first_step):
        return prog
    vub, q = prog[5], prog[1].shape[1]
    cost: list[float] = []
    rows: list[tuple[dict[int, float], float, float]] = []
    runs: dict[tuple[int, int, int], list[tuple[int, int, int]]] = {}  # (pool, run) -> (t, y, w or -1)
    for p, t, e, most, first, last in step_runs(m):
        y, w = q + len(cost), -1
        cost.append(e)
        if e < 0:  # a dip (hB71): credited where the run passes t, its last in-service > t >= its survivors
            rows += _dip_rows(m, p, t, most, first, last, y, in_service, bought)
            continue
        rows += [({n: 1.0, y: -max(min(float(vub[n]), most) - t, 0.0)}, -np.inf, float(t))
                 for n in (in_service(p, k) for k in range(first, last + 1))]
        if first > 0 and m.cohorts:  # survivors = the base alive + the earlier purchases alive
            cohort, w = m.cohorts[p], q + len(cost)
            cost.append(-e)
            base = m.installed[p] // m.server(p) if m.installed is not None else 0
            alive = float(base) if cohort.base_alive[first] else 0.0
            rows.append(({**{bought(p, j): 1.0 for j in range(first) if cohort.alive[j, first]},
                          w: -(t + 1.0)}, -alive, np.inf))
            rows.append(({w: 1.0, y: -1.0}, -np.inf, 0.0))
        runs.setdefault((p, first, last), []).append((t, y, w))
    for run in runs.values():  # [N > t] and [S > t] fall as t rises: y and w ordered so (a tighter relaxation)
        run.sort()
        rows += [({a[i]: 1.0, b[i]: -1.0}, 0.0, np.inf) for (_, *a), (_, *b) in zip(run, run[1:], strict=False)
                 for i in range(len(a)) if a[i] >= 0 and b[i] >= 0]
    ones = np.ones(len(cost))
    return _rows(_grow(prog, len(cost), np.array(cost), np.zeros(len(cost)), ones, ones), rows)


def _dip_rows(m: PhasedMix, p: int, t: int, most: float, first: int, last: int, c: int, in_service: Column,
              bought: Column) -> list[tuple[dict[int, float], float, float]]:
    """The rows of a dip's binary c (`with_steps`, planning/purchase_bound.py's "Dips"): the run's last in-service
    (its largest: nothing leaves within a run) >= (t + 1) c, and from the second run its survivors (the base alive
    + the earlier purchases alive) <= t + (most - t) (1 - c); in the first run they are the base, <= t
    (`step_runs`)."""
    rows: list[tuple[dict[int, float], float, float]] = [({in_service(p, last): 1.0, c: -(t + 1.0)}, 0.0, np.inf)]
    if first > 0 and m.cohorts:
        cohort = m.cohorts[p]
        alive = float(m.installed[p] // m.server(p)) if m.installed is not None and cohort.base_alive[first] else 0.0
        rows.append(({**{bought(p, j): 1.0 for j in range(first) if cohort.alive[j, first]}, c: most - t}, -np.inf,
                     most - alive))
    return rows


def with_peak(m: PhasedMix, prog: Programme, in_service: Column, held: dict[int, float] | None = None,
              it_lines: list[tuple[int, list[tuple[float, float]]]] | None = None) -> Programme:
    """The programme with the facility floor at each site's peak phase (planning/purchase_bound.py
    `facility_floor`): a column P per site costed 1, P >= sum of its pools' peak_cost x devices in service in every
    phase, and P >= `held`'s value of the site (its bases' IT at that $/W: the building's growth is >= 0, hB71).
    `it_lines` (hB71, hB72: `facility_lines`, per pool its reach and lines (a, b)): each (pool, phase)'s term is a
    column Y >= its peak_cost x devices in service and >= a z + b N for each line, z a binary with N <= reach z (0
    where nothing is in service), P >= the sum of the site's Y. (HiGHS mis-solved this form with hB71's hull, above a
    feasible point: the bound's solves have a safety net since hB72, milp_start.sound.)"""
    if m.peak_cost is None or not np.any(m.peak_cost > 0):
        return prog
    sites = sorted({m.pool_site[p] for p in range(len(m.peak_cost)) if m.peak_cost[p] > 0})
    q, n_k = prog[1].shape[1], m.cost.shape[1]
    prog = _grow(prog, len(sites), np.ones(len(sites)), np.array([(held or {}).get(i, 0.0) for i in sites]),
                 np.full(len(sites), np.inf), np.zeros(len(sites)))
    phases = range(n_k) if PEAK_FACILITY else [n_k - 1]
    if it_lines is None:
        return _rows(prog, [({q + i: 1.0, **{in_service(p, k): -float(m.peak_cost[p]) * m.server(p)
                                              for p in range(len(m.peak_cost)) if m.pool_site[p] == site}}, 0.0,
                              np.inf) for i, site in enumerate(sites) for k in phases])
    n = len(it_lines) * n_k
    y0, z0 = q + len(sites), q + len(sites) + n  # a Y per (pool, phase), then a z
    prog = _grow(prog, 2 * n, np.zeros(2 * n), np.zeros(2 * n), np.concatenate([np.full(n, np.inf), np.ones(n)]),
                 np.concatenate([np.zeros(n), np.ones(n)]))
    rows: list[tuple[dict[int, float], float, float]] = []
    for p, (reach, lines) in enumerate(it_lines):
        for k in range(n_k):
            y, z, big_n = y0 + p * n_k + k, z0 + p * n_k + k, in_service(p, k)
            rows += [({big_n: 1.0, z: -float(reach)}, -np.inf, 0.0),
                     ({y: 1.0, big_n: -float(m.peak_cost[p]) * m.server(p)}, 0.0, np.inf)]
            rows += [({y: 1.0, z: -a, big_n: -b}, 0.0, np.inf) for a, b in lines]
    rows += [({q + i: 1.0, **{y0 + p * n_k + k: -1.0 for p in range(len(it_lines)) if m.pool_site[p] == site}},
              0.0, np.inf) for i, site in enumerate(sites) for k in phases]
    return _rows(prog, rows)


def with_lazy(m: PhasedMix, prog: Programme, chain: Chain) -> Programme:
    """The programme with the report's lazy purchases (module docstring, "Lazy purchases"): per (pool, phase) a
    binary z, purchases <= most z, and where z = 1 the in-service at most the servers used plus their spares (the
    spares under the lines over them, the servers used the fewest holding the devices used). A phase that also buys
    ahead for later phases that may not buy (`retirement.ahead`, hR70) buys exactly what one of them lacks where it
    buys more than its own lack: a binary t per such later phase, at least one of its in-service and theirs (t = 1)
    at most their servers used and spares."""
    if m.lazy_buys is None or not m.cohorts:
        return prog
    n_p, n_k = m.cost.shape
    z0, vub = prog[1].shape[1], prog[5].copy()
    for i, o in enumerate(m.options):  # no unit the demand does not need (scenario_caps.trim_idle, fixed_servers)
        vub[i] = min(vub[i], float(np.ceil(m.demand[o.service, o.phase] / o.capacity + 1e-6)))
    early = [(p, k, j) for p in range(n_p) for k in range(n_k) if (j := ahead(m.cohorts[p], k)) is not None]
    t0, columns = z0 + n_p * n_k, n_p * n_k + len(early)
    prog = _grow((*prog[:5], vub, prog[6]), columns, np.zeros(columns), np.zeros(columns), np.ones(columns),
                 np.ones(columns))
    rows: list[tuple[dict[int, float], float, float]] = []
    for p, (most, over) in enumerate(m.lazy_buys):
        g, big = float(m.server(p)), float(most)
        over_used: dict[int, tuple[dict[int, float], float]] = {}  # phase -> (in-service above its lack <= rhs)
        for k in range(n_k):
            used = {i: -float(o.unit_devices) for i, o in enumerate(m.options) if o.pool == p and o.phase == k}
            rows.append(({chain.bought(p, k): 1.0, z0 + p * n_k + k: -big}, -np.inf, 0.0))
            if chain.used is None or chain.spares is None:  # g n <= the devices used + g - 1 where it buys
                over_used[k] = ({chain.in_service(p, k): g, **used}, g - 1.0)
                continue
            u, s = chain.used(p, k), chain.spares(p, k)
            rows.append(({u: g, **used}, -np.inf, g - 1.0))  # u = ceil(devices used / g)
            rows += [({s: 1.0, u: -slope}, -np.inf, intercept) for intercept, slope in over]
            over_used[k] = ({chain.in_service(p, k): g, u: -g, s: -g}, 0.0)  # (in g: one scale for both forms)
        for k in range(n_k):
            tight = {t0 + i: j for i, (q, j, by) in enumerate(early) if q == p and by == k}
            coefficients, rhs = over_used[k]
            rows.append(({**coefficients, z0 + p * n_k + k: g * big, **{t: -g * big for t in tight}}, -np.inf,
                         rhs + g * big))
            rows += [({**over_used[j][0], t: g * big}, -np.inf, over_used[j][1] + g * big) for t, j in tight.items()]
    return _rows(prog, rows)


def with_windows(prog: Programme, chain: Chain, windows: list[list[tuple[float, float]]], n_k: int) -> Programme:
    """The programme with each (pool p, phase k)'s purchases charged on the lines under `windows[p]` (hB71,
    planning/purchase_bound.py's "Windows"): a column X >= 0 costed 1, X >= intercept + slope x purchases."""
    found = [(p, k) for p, lines in enumerate(windows) if lines for k in range(n_k)]
    q, count = prog[1].shape[1], len(found)
    prog = _grow(prog, count, np.ones(count), np.zeros(count), np.full(count, np.inf), np.zeros(count))
    return _rows(prog, [({q + i: 1.0, chain.bought(p, k): -slope}, intercept, np.inf)
                        for i, (p, k) in enumerate(found) for intercept, slope in windows[p]])


def bound_programme(m: PhasedMix, prog: Programme, n_o: int, spares: list[np.ndarray] | None = None,
                    windows: list[list[tuple[float, float]]] | None = None,
                    held: dict[int, float] | None = None,
                    it_lines: list[tuple[int, list[tuple[float, float]]]] | None = None) -> Programme:
    """The phased programme with the purchase bound's columns (module docstring): the spares' chain (with spares(u)
    at its steps where `spares` is given: `with_spare_steps`, hB71), the steps (on that chain's in-service and
    purchases where spares are bought), the facility floor at the peak, the lazy purchases.
    `phased_mix.solve_phased_bound`'s `extend`."""
    prog, chain = with_spare_purchases(m, prog, n_o)
    prog = with_peak(m, with_steps(m, prog, chain.in_service, chain.bought), chain.in_service, held, it_lines)
    prog = with_lazy(m, prog, chain)  # (hB71's columns after: the columns before keep their places)
    if spares is not None:
        prog = with_spare_steps(prog, chain, spares, m.cost.shape[1])
    return prog if windows is None else with_windows(prog, chain, windows, m.cost.shape[1])


SPARE_STEPS_MAX = 32  # thresholds per pool `with_spare_steps` adds at most (any subset keeps the bound)


def with_spare_steps(prog: Programme, chain: Chain, spares: list[np.ndarray], n_k: int) -> Programme:
    """The programme with spares(u) from below at its steps, not only under the hull's lines (hB70, the fleet
    bound under retirement, planning/scenario_bound.py): per (pool p, phase k) and threshold t, a count where
    `spares[p]` (spare servers at 0 .. U servers used) rises, a binary y with u - (U - t + 1) y <= t - 1 (y = 1
    where u >= t) and s >= spares[p][t] y; the y of a (pool, phase) ordered in t. Sound for every answer with u <=
    U (spares are non-decreasing in u: u >= t gives spares(u) >= spares(t)); `SPARE_STEPS_MAX` evenly spaced
    thresholds per pool where it has more."""
    if chain.used is None or chain.spares is None:
        return prog
    q, found = prog[1].shape[1], []
    for p, levels in enumerate(spares):
        rises = [t for t in range(1, len(levels)) if levels[t] > levels[t - 1]]
        if len(rises) > SPARE_STEPS_MAX:
            rises = [rises[round(i * (len(rises) - 1) / (SPARE_STEPS_MAX - 1))] for i in range(SPARE_STEPS_MAX)]
        found += [(p, k, t, len(levels) - 1, float(levels[t])) for k in range(n_k) for t in rises]
    ones = np.ones(len(found))
    prog = _grow(prog, len(found), np.zeros(len(found)), np.zeros(len(found)), ones, ones)
    rows: list[tuple[dict[int, float], float, float]] = []
    for i, (p, k, t, top, level) in enumerate(found):
        rows.append(({chain.used(p, k): 1.0, q + i: -float(top - t + 1)}, -np.inf, float(t - 1)))
        rows.append(({chain.spares(p, k): 1.0, q + i: -level}, 0.0, np.inf))
        if i and found[i - 1][:2] == (p, k):
            rows.append(({q + i - 1: 1.0, q + i: -1.0}, 0.0, np.inf))
    return _rows(prog, rows)
