"""Price each pool at the size the programme gives it: the fixed point `fleet-mix` (planning/fleet_mix.py) and
`plan` (planning/scenario.py) both solve.

A pool's power and money per device depend on its device count (the fabric's tiers, switches and optics per
device, `facility.campus_fabric.built_load`), while a MILP's costs must be linear in the devices. So: solve with
every pool priced at a reference size, re-price each pool used at the devices the solution gives it, re-solve,
and stop when the sizes repeat (converged: every pool is priced at its own count), at most `PRICING_ROUNDS`
solves. Without convergence (the sizes come back in a cycle, or the bound) the answer is the visited solution
that costs least at its own sizes' prices (the first of equals); so too where a solution visited before the sizes
settled costs less at its own prices than the fixed point (said: no fixed point, hK69). Deterministic: the same
start, the same solver, the same prices for the same size. (hW, session 35, fleet-mix; hW2, plan: one loop for both.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

PRICING_ROUNDS = 8  # MILP solves at most while each pool is re-priced at the whole servers it bought (fixed point)

Solution = TypeVar("Solution")
Sizes = TypeVar("Sizes")


@dataclass(frozen=True)
class SizedSolution(Generic[Solution, Sizes]):
    """The fixed point's answer: the solution, the sizes its pools are priced at (its own), the solves it took,
    whether the sizes settled, and the sentence the commands print (`pricing`)."""

    solution: Solution
    at: Sizes
    rounds: int
    converged: bool
    pricing: str
    state: str = ""  # the sentence's end: converged, or why not


def sized_fixed_point(reference: Sizes, solve: Callable[[Sizes], Solution | None],
                      own_sizes: Callable[[Solution], Sizes], own_cost: Callable[[Solution, Sizes], float],
                      start: str, rounds_max: int = PRICING_ROUNDS) -> SizedSolution[Solution, Sizes] | None:
    """Solve at `reference` sizes, re-price at each solution's `own_sizes`, re-solve until they repeat (module
    docstring). `solve(sizes)` is the programme with every pool priced at its entry of `sizes` (None: infeasible,
    which prices do not change); `own_cost(solution, sizes)` its objective at those prices; `start` names the
    reference sizes in the sentence. None when the first solve is infeasible."""
    at, seen = reference, [reference]
    visited: list[tuple[float, Solution, Sizes]] = []  # own-price objective, solution, its own sizes
    converged, stop, rounds = False, "the bound", 0
    while rounds < rounds_max:
        rounds += 1
        solution = solve(at)
        if solution is None:
            if not visited:
                return None
            stop = "an infeasible re-solve"  # not expected: prices leave the constraints alone
            break
        own = own_sizes(solution)
        visited.append((own_cost(solution, own), solution, own))
        if own == at:
            converged = True
            break
        if own in seen:  # a cycle: the sizes came back without settling
            stop = "a cycle"
            break
        seen.append(own)
        at = own
    # the cheapest visited at its own prices (the fixed point itself on a tie): a fixed point can cost more than an
    # assignment visited on the way (hK69), and every visited one is priced at its own sizes, so each is an answer
    cheapest = min(range(len(visited)), key=lambda i: (visited[i][0], i != len(visited) - 1 or not converged, i))
    _, solution, own = visited[cheapest]
    if converged and cheapest != len(visited) - 1:
        converged, stop = False, f"the sizes settled at solve {rounds}, dearer than solve {cheapest + 1}'s"
    state = ("converged: every pool is priced at the whole servers it bought" if converged
             else f"no fixed point in {rounds} solves ({stop}): "
             "the assignment visited that costs least at its own pools' prices, priced at its counts")
    text = (f"each pool priced at its own size (the cost model for its device count, {start} first): {rounds} "
            f"MILP solve{'s' if rounds > 1 else ''}, {state}")
    return SizedSolution(solution, own, rounds, converged, text, state)



def stepped_fixed_point(reference: Sizes, solve: Callable[[Sizes], Solution | None],
                        solve_stepped: Callable[[Sizes], Solution | None], own_sizes: Callable[[Solution], Sizes],
                        own_cost: Callable[[Solution, Sizes], float], start: str,
                        rounds_max: int = PRICING_ROUNDS) -> SizedSolution[Solution, Sizes] | None:
    """`sized_fixed_point` from `reference` (the answer without brackets), then a descent with `solve_stepped` (the
    programme with every pool's tier brackets, `with_brackets`) from that answer's sizes, which its brackets price
    exactly: while a solve's assignment costs less at its own pools' prices than the best so far it is kept and
    the programme re-solved at its sizes (a fixed point when they repeat); the first solve that is not cheaper
    ends it. So the answer never costs more than the first loop's. `rounds_max` bounds the solves of both together
    (none left: the first loop's answer). None when the first solve is infeasible."""
    first = sized_fixed_point(reference, solve, own_sizes, own_cost, start, rounds_max)
    if first is None or first.rounds >= rounds_max:  # the bound counts every solve
        return first
    best, best_cost, converged = first.solution, own_cost(first.solution, first.at), first.converged
    at, rounds, found = first.at, first.rounds, False
    while rounds < rounds_max:
        rounds += 1
        solution = solve_stepped(at)
        if solution is None:
            break
        own = own_sizes(solution)
        cost = own_cost(solution, own)
        if found and own == at and cost <= best_cost:  # the sizes repeat: the cheaper assignment is a fixed point
            best, best_cost, converged = solution, cost, True
            break
        if cost >= best_cost:
            break
        best, best_cost, converged, at, found = solution, cost, False, own, True
    state = (("converged: every pool is priced at the whole servers it bought" if found else first.state)
             if converged else "no fixed point: the assignment visited that costs least at its own pools' prices, "
             "priced at its counts")
    text = (f"each pool priced at its own size (the cost model for its device count, {start} first, then every "
            f"pool's fabric tier brackets from that answer{': a cheaper assignment' if found else ''}): {rounds} "
            f"MILP solves, {state}")
    return SizedSolution(best, at if found else first.at, rounds, converged, text, state)

# Stepped prices inside the programme (hW4, session 36). The fixed point above re-prices only the pools a solution
# uses, so a pool cheaper at a size the start's prices never lead to is not found (hF2: 1 of 26 H100-vs-A100 specs
# moved with the start). So each pool's cost is piecewise linear in its servers inside the MILP: brackets of one
# fabric tier count each (`tier_brackets`: the sizes where `facility.campus_fabric.built_load` adds a tier, a zone's
# aggregation tiers included), a binary choosing the bracket, the servers within its [lo, hi], its cost the secant
# of the pool's own-size total through its edges (exact there); every size the fixed point has priced the pool at
# splits its bracket (exact there too), so at a fixed point every pool is costed at its own size (reported figures
# = `facility --count`) and a size visited once is never mispriced again.


@dataclass(frozen=True)
class Bracket:
    """Servers lo..hi (inclusive) of a pool within one fabric tier count, costing `fixed` + `per_server` x servers
    when chosen: the secant through the pool's own-size totals at lo and hi, exact at both (a segment after a
    breakpoint inside its tier bracket: at lo - 1 and hi, `bracket_costs`)."""

    lo: int
    hi: int
    fixed: float
    per_server: float


def tier_brackets(tiers_at: Callable[[int], int], servers_max: int) -> list[tuple[int, int]]:
    """Server ranges (lo, hi) covering 1..`servers_max` within which `tiers_at(servers)` (the fabric's tier count,
    non-decreasing in the servers) is constant: one exponential and binary search per edge."""
    out: list[tuple[int, int]] = []
    lo = 1
    while lo <= servers_max:
        tiers, hi, step = tiers_at(lo), lo, 1
        while hi + step <= servers_max and tiers_at(hi + step) == tiers:  # the last size with this count
            hi, step = hi + step, step * 2
        top = min(hi + step, servers_max + 1)  # tiers_at(top) differs, or top is past the end
        while top - hi > 1:
            mid = (hi + top) // 2
            hi, top = (mid, top) if tiers_at(mid) == tiers else (hi, mid)
        out.append((lo, hi))
        lo = hi + 1
    return out


def bracket_costs(edges: list[tuple[int, int]], total_at: Callable[[int], float],
                  points: Iterable[int] = ()) -> list[Bracket]:
    """Each tier bracket's cost as segments: the secants of `total_at(servers)` (the pool's own-size cost of that
    many servers) between consecutive breakpoints, the bracket's edges and the `points` inside it (the sizes the
    fixed point has priced the pool at: there the cost is exact); a breakpoint inside a bracket belongs to the segment
    that ends there, the next one starts a server above it (hZ55: both lines are exact there, so a shared breakpoint
    was one count written two ways, a tie HiGHS's branch and bound had to refute; every count keeps its cost)."""
    out = []
    inner = sorted(set(points))
    for lo, hi in edges:
        if hi == lo:
            out.append(Bracket(lo, hi, 0.0, total_at(lo) / lo))
            continue
        cuts = [lo, *(n for n in inner if lo < n < hi), hi]
        for a, b in zip(cuts, cuts[1:], strict=False):
            c_a, c_b = total_at(a), total_at(b)
            slope = (c_b - c_a) / (b - a)
            out.append(Bracket(a if a == lo else a + 1, b, c_a - slope * a, slope))
    return out


def with_brackets(c: np.ndarray, a: np.ndarray, lb: np.ndarray, ub: np.ndarray, var_lb: np.ndarray,
                  var_ub: np.ndarray, columns: dict[int, list[Bracket]]) -> tuple[np.ndarray, ...]:
    """The programme (cost c, rows lb <= a x <= ub, bounds; every column integer) with each server column `i` of
    `columns` costed by its brackets: per bracket a binary z and servers d, d in [lo z, hi z], sum z <= 1, column
    i = sum d, cost fixed z + per_server d (column i itself then costs nothing). Returns the extended (c, a, lb, ub,
    var_lb, var_ub, integrality): d is continuous (it equals the integer column i in the one bracket chosen; fewer
    integers for HiGHS to branch on)."""
    n_new = sum(2 * len(b) for b in columns.values())
    n_var = a.shape[1]
    rows = sum(2 + 2 * len(b) for b in columns.values())
    a2 = np.zeros((a.shape[0] + rows, n_var + n_new))
    a2[:a.shape[0], :n_var] = a
    c2 = np.concatenate([c, np.zeros(n_new)])
    vlb2, vub2 = np.concatenate([var_lb, np.zeros(n_new)]), np.concatenate([var_ub, np.zeros(n_new)])
    lb2, ub2 = list(lb), list(ub)
    r, v = a.shape[0], n_var
    for i, brackets in columns.items():
        c2[i], eq = 0.0, r
        a2[eq, i] = 1.0  # column i = sum of the brackets' servers
        a2[eq + 1, [v + 2 * j for j in range(len(brackets))]] = 1.0  # at most one bracket
        lb2 += [0.0, -np.inf]
        ub2 += [0.0, 1.0]
        r += 2
        for j, b in enumerate(brackets):
            z, d = v + 2 * j, v + 2 * j + 1
            a2[eq, d] = -1.0
            c2[z], c2[d] = b.fixed, b.per_server
            vub2[z], vub2[d] = 1.0, float(b.hi)
            a2[r, d], a2[r, z] = 1.0, -float(b.hi)  # d <= hi z
            a2[r + 1, d], a2[r + 1, z] = 1.0, -float(b.lo)  # d >= lo z
            lb2 += [-np.inf, 0.0]
            ub2 += [0.0, np.inf]
            r += 2
        v += 2 * len(brackets)
    integrality = np.ones(n_var + n_new)
    integrality[n_var + 1::2] = 0.0  # the brackets' servers d: continuous
    return c2, a2, np.array(lb2), np.array(ub2), vlb2, vub2, integrality


# A proven lower bound (hW5, session 37). The answer above is the better of two local searches. To say how far it
# can be from the optimum, each pool's cost is bounded below by lines: on every server range the pieces of
# `lower_pieces` lie under the pool's exact own-size cost at EVERY count of the range (each piece is the secant of
# the exact costs at its ends lowered by the largest amount any count inside falls below it, so it holds by
# construction, with no assumption on the cost's shape: the cost is not monotone, e.g. A100's fabric needs 120
# switches at 88 servers and 101 at 89). One MILP over those lines (`with_brackets`) has a minimum <= the
# programme's with exact costs: its HiGHS dual bound is the lower bound LB; the answer's exact objective is UB.
# While (UB - LB) / UB > `GAP_TOLERANCE`, the counts the bound's answer chose are priced exactly (each its own
# one-count bracket, the branch) and it is re-solved, each bound answer also a candidate kept when it costs less
# at its own prices (so the answer never gets worse), at most `BOUND_SOLVES` solves.

# relative gap under which the refinement stops: HiGHS's own mip_rel_gap, i.e. until proven optimal. At 1 % (the
# first choice) no spec of 114 measured refined at all (gaps up to 0.64 % were left); to 1e-6 the ones with a gap
# took 2-4 solves, ~0.1-1 s each beside the pricing of every count (hW5's notes)
GAP_TOLERANCE = 1e-6
BOUND_SOLVES = 8  # MILP solves at most of the lower-bounding programme (each refinement one)
PIECES_MAX = 8  # lines per server range between exact counts (more: a tighter first bound, a bigger MILP)
PIECE_TOLERANCE = 1e-3  # a range's lines are split while one falls more than this share of its top cost below it
BOUND_COUNTS_MAX = 200_000  # server counts priced at most for a bound (~0.3-0.6 ms each: about 1-2 min of CPU)


def lower_pieces(lo: int, hi: int, values: np.ndarray, pieces_max: int = PIECES_MAX,
                 tolerance: float = PIECE_TOLERANCE) -> list[Bracket]:
    """Lines under `values[n - lo]` (the exact cost of n servers) for every n in lo..hi: start from the secant of
    the range's ends, split the piece whose line is furthest above a count at that count (a vertex of the lower
    hull), until every piece is within `tolerance` x its top cost or there are `pieces_max`; each piece's line is
    its secant lowered by its largest excess, so no count of the piece costs less than its line."""
    ns = np.arange(lo, hi + 1, dtype=float)

    def piece(i: int, j: int) -> tuple[float, int, Bracket]:
        if i == j:
            return 0.0, i, Bracket(lo + i, lo + i, 0.0, float(values[i]) / (lo + i))
        slope = float(values[j] - values[i]) / (j - i)
        excess = values[i] + slope * (ns[i:j + 1] - ns[i]) - values[i:j + 1]
        k = int(np.argmax(excess))
        delta = max(0.0, float(excess[k]))
        line = Bracket(lo + i, lo + j, float(values[i]) - slope * float(ns[i]) - delta, slope)
        return delta / max(abs(float(values[j])), 1e-300), i + k, line

    out = [(0, hi - lo, *piece(0, hi - lo))]
    while len(out) < pieces_max:
        worst = max(range(len(out)), key=lambda t: out[t][2])
        i, j, rel, k, _ = out[worst]
        if rel <= tolerance or k in (i, j):
            break
        out[worst:worst + 1] = [(i, k, *piece(i, k)), (k, j, *piece(k, j))]
    return [b for *_, b in out]


def bound_brackets(edges: list[tuple[int, int]], values: np.ndarray, exact: Iterable[int] = ()) -> list[Bracket]:
    """A pool's lower-bounding brackets: per tier bracket (lo, hi) of `edges`, each count in `exact` its own
    one-count bracket at its exact cost, the ranges between them `lower_pieces`; `values[n - 1]` is the exact
    cost of n servers (n = 1 .. the last edge)."""
    points = sorted(set(exact))
    out: list[Bracket] = []
    for lo, hi in edges:
        cuts = [n for n in points if lo <= n <= hi]
        start = lo
        for n in [*cuts, hi + 1]:
            if start <= n - 1:
                out += lower_pieces(start, n - 1, values[start - 1:n])
            if n <= hi:
                out.append(Bracket(n, n, 0.0, float(values[n - 1]) / n))
            start = n + 1
    return out


@dataclass(frozen=True)
class Optimality:
    """The lower bound on the programme's optimum, the answer's objective (upper bound), their relative gap, the
    bound's solves and the sentence the commands print."""

    lower_bound: float | None
    upper_bound: float
    gap_fraction: float | None
    solves: int
    text: str


BOUND_TOLERANCE = 1e-7
"""The relative excess of a bound over its answer taken as the solver's, not a fault (`proven_bound`): HiGHS proves
its dual bound from LP duals feasible to its `dual_feasibility_tolerance`, and accepts a solution within its
`primal_feasibility_tolerance`, both 1e-7 by default (HiGHS 1.12 options, scipy 1.17's binding; tested equal); so a
tight bound may read up to about that above the optimum. Was 1e-9 (hP70, "the sums' rounding"), under the solver's
own: hK71 found no case between (1,999 seeded covering MILPs of the bound's form, HiGHS's bound at most 2.7e-15
above the enumerated optimum), and the text's "optimal" claim is HiGHS's 1e-6 gap, so a bound nearer than that is
optimal by the same claim; a fault of the programme (hR70's spares: 1e8 above) is far above either."""


def proven_bound(lower: float, answer: float) -> float:
    """The lower bound reported beside an `answer`: a tight bound summed in another order, or proven to the solver's
    tolerance, can come out above the answer by a hair, and the optimum is at most the answer, so it is the answer
    there; a bound above the answer by more than `BOUND_TOLERANCE` is reported as it is, not clamped: it is no lower
    bound (a fault to be seen, hP70: a clamp let a test's `lower <= objective` pass on any bound)."""
    return min(lower, answer) if lower <= answer + BOUND_TOLERANCE * abs(answer) else lower


def bound_above_answer(lower: float | None, answer: float) -> str | None:
    """The line a plan prints where its `lower` bound came out above its answer by more than the solver's tolerance
    (`BOUND_TOLERANCE`; `proven_bound` reports it as it is): such a bound proves nothing, so no gap is claimed. The
    case known until hB70 (hR70): the fleet bound (planning/scenario_bound.py) of TCO / power / carbon charged spares
    on top of the devices in service where devices retire (its "Retirement" paragraph). None where the bound holds."""
    if lower is None or lower <= answer + BOUND_TOLERANCE * abs(answer):
        return None
    return (f"no proven optimality gap: the lower bound ({lower:,.0f}) came out above the answer ({answer:,.0f}), "
            "which a lower bound cannot: a fault of the bounding programme, not of the answer, which is priced as "
            "the report sums it (docs/planning.md, \"Optimality gap\": the known case)")


def too_many_counts(counts: int, answer_cost: float) -> Optimality | None:
    """No bound where it would price more than `BOUND_COUNTS_MAX` server counts (one line saying so), else None."""
    if counts <= BOUND_COUNTS_MAX:
        return None
    return Optimality(None, answer_cost, None, 0, f"not computed: the bound prices every server count of every pool "
                      f"up to the most it can hold, {counts:,} here, more than {BOUND_COUNTS_MAX:,}")


Key = TypeVar("Key")


def close_gap(answer: Solution, answer_cost: float,
              solve_bound: Callable[[dict[Key, set[int]]], tuple[Solution, float, list[tuple[Key, int]]] | None],
              cost_of: Callable[[Solution], float | None], exact: dict[Key, set[int]],
              tolerance: float = GAP_TOLERANCE, solves_max: int = BOUND_SOLVES
              ) -> tuple[Solution, float, Optimality]:
    """The bound loop (section comment): `solve_bound(exact)` solves the lower-bounding programme with the counts
    `exact[key]` priced exactly, returning its answer, its proven bound and the (key, servers) it chose (None:
    infeasible); `cost_of(solution)` is a bound answer's objective at its own prices (None: not an admissible
    answer, e.g. over a site cap once packed). `exact` starts with the answer's own counts. Returns the answer
    (the bound's when it costs less), its cost and the `Optimality`."""
    best, best_cost, lower, solves, stop = answer, answer_cost, -np.inf, 0, ""
    exact = {k: set(v) for k, v in exact.items()}
    while solves < solves_max:
        solves += 1
        got = solve_bound(exact)
        if got is None:
            stop = "the bound's programme was infeasible"
            break
        candidate, bound, chosen = got
        lower = max(lower, bound)
        cost = cost_of(candidate)
        if cost is not None and cost < best_cost * (1 - 1e-12):
            best, best_cost = candidate, cost
        if best_cost - lower <= tolerance * abs(best_cost):
            break
        new = [(k, n) for k, n in chosen if n > 0 and n not in exact.setdefault(k, set())]
        if not new:
            stop = "every count the bound chose is priced exactly"
            break
        for k, n in new:
            exact[k].add(n)
    else:
        stop = f"the bound's budget of {solves_max} solves ended"
    gap = max(0.0, (best_cost - lower) / abs(best_cost)) if best_cost and np.isfinite(lower) else None
    plural = "s" if solves > 1 else ""
    if gap is None:
        text = f"no lower bound ({stop or 'a zero objective'})"
    elif gap <= 1e-6:
        text = (f"optimal: the lower bound from {solves} MILP solve{plural} of every pool's cost bounded below "
                "by lines equals the objective (within HiGHS's 1e-6 relative gap)")
    else:
        text = (f"within {gap * 100:.3g} % of the optimum: the lower bound from {solves} MILP solve{plural} of "
                f"every pool's cost bounded below by lines{f' ({stop})' if stop else ''}")
    proven = proven_bound(float(lower), float(best_cost)) if np.isfinite(lower) else None
    fault = bound_above_answer(proven, float(best_cost))
    if fault is not None:
        gap, text = None, fault
    return best, best_cost, Optimality(proven, float(best_cost), gap, solves, text)
