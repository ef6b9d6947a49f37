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
on N (the report's in-service includes its spares)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from infraplan.planning.phased_mix import PhasedMix, Programme


def spare_lines(spares: np.ndarray) -> list[tuple[float, float]]:
    """Lines (intercept, slope) under `spares` at every index u of the array: the edges of the lower convex hull of
    the points (u, spares[u]) (Andrew's monotone chain), those rising above 0 (s >= 0 holds already)."""
    hull: list[tuple[float, float]] = []
    for point in ((float(u), float(v)) for u, v in enumerate(spares)):
        while len(hull) >= 2 and ((hull[-1][0] - hull[-2][0]) * (point[1] - hull[-2][1])
                                  - (hull[-1][1] - hull[-2][1]) * (point[0] - hull[-2][0])) <= 0:
            hull.pop()  # hull[-1] is on or above the chord from hull[-2] to the point: not a lower corner
        hull.append(point)
    lines = []
    for (x0, y0), (x1, y1) in zip(hull, hull[1:], strict=False):
        slope = (y1 - y0) / (x1 - x0)
        if slope > 0 or y0 > 0:
            lines.append((y0 - slope * x0, slope))
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


def with_spare_purchases(m: PhasedMix, prog: Programme, n_o: int) -> tuple[Programme, Callable[[int, int], int]]:
    """The programme with the chain of purchases of the devices used and their spares (module docstring), and the
    column of each (pool, phase)'s in service the step past the base reads (N; n where `spare_lines` is None)."""
    n_p, n_k = m.cost.shape
    n_n = n_p * n_k

    def n(p: int, k: int) -> int:
        return n_o + p * n_k + k

    if m.spare_lines is None or not m.cohorts:
        return prog, n
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
            b = n_o + n_n + p * n_k + k  # the programme's purchase column (no elastic columns here)
            moved[big_n(p, k) - q], moved[big_b(p, k) - q] = c[n(p, k)], c[b]
            c[n(p, k)] = c[b] = 0.0
    limits = [float(prog[5][n(p, k)]) for p in range(n_p) for k in range(n_k)]  # u <= n's bound: u <= n holds
    high = np.concatenate([limits, np.full(3 * n_n, np.inf)])
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
    return _rows(prog, rows), big_n


def with_first_step(m: PhasedMix, prog: Programme, in_service: Callable[[int, int], int]) -> Programme:
    """The programme with a binary y after every other column for each step (pool p, count t, excess e, most) of
    `first_step` (module docstring): in_service[p, k] - (most - t) y <= t in every phase k, y costed e."""
    if m.first_step is None or not len(m.first_step):
        return prog
    n_k = m.cost.shape[1]
    rows = [(int(p), int(t), float(e), float(most)) for p, t, e, most in m.first_step]
    y0 = prog[1].shape[1]
    prog = _grow(prog, len(rows), np.array([e for _, _, e, _ in rows]), np.zeros(len(rows)), np.ones(len(rows)),
                 np.ones(len(rows)))
    vub = prog[5]
    return _rows(prog, [({in_service(p, k): 1.0, y0 + j: -max(min(float(vub[in_service(p, k)]), most) - t, 0.0)},
                         -np.inf, float(t)) for j, (p, t, _, most) in enumerate(rows) for k in range(n_k)])


def bound_programme(m: PhasedMix, prog: Programme, n_o: int) -> Programme:
    """The phased programme with the purchase bound's columns (module docstring): the spares' chain, then the
    steps past the base (on that chain's in-service where spares are bought). `phased_mix.solve_phased_bound`'s
    `extend`."""
    prog, in_service = with_spare_purchases(m, prog, n_o)
    return with_first_step(m, prog, in_service)
