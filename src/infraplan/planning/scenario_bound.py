"""`plan --optimality-gap`: a proven lower bound on the phased programme's optimum with exact own-size prices, so
the answer of planning/scenario.py's fixed point says how far from the optimum it can be (hW5, session 37; the
loop and the lines under the cost are planning/sized_pricing.py's `close_gap` and `bound_brackets`).

The exact objective of an answer (scenario.py `own_cost`) charges (pool p, phase k) the objective's figure of the
pool packed at its reported devices (`packed`: whole servers, the fabric at that size, N+k racks) x the phase's
weight. With n = the servers the programme buys there (the most any phase up to k needed,
scenario_prices.bought_devices) and no installed base above it, the reported devices are the nodes of that phase
plus their Poisson spare nodes (planning/spares.py: spares depend on the nodes, ceil(devices / g), and grow with
them, so the phase of the most devices also has the most devices + spares; they come in whole units of the pool's
blast radius, r servers: r x the Poisson quantile of the mean of ceil(nodes / r) units (k spare trays per domain:
ceil(nodes / (r - k)) units and k trays in each), non-decreasing in the nodes, and r is one per pool, fixed before
the MILP by what the pool can run, planning/pool_money.py `pool_instance`, so the answer and the bound count spares
alike), and the cost model packs whole servers (`pool_money(N).devices` = ceil(N / g) g, hW3): the figure is exactly
E(n) = F(n + spares(n) servers) x weight. At n = the installed base's servers the reported devices are max(base,
nodes + spares) for some nodes <= n, so E there is the least of those. E is evaluated at every count from one server
to the most the pool can usefully hold (scenario_prices.most_devices: the programme's own bound on n), lines under
it (`bound_brackets`) cost the bounding programme, and HiGHS's dual bound of that programme is below every answer's
exact objective. No monotone cost is assumed (hP73): the servers column may hold more servers than the devices used
need (g n >= used), so the bound charges the least of its lines at or above the servers used (hP73: a system's own
tiers cost 3.4 % more at its size than the generic Clos past it, dgx-h100-superpod; the catalog's are monotone since
hP74, a user's system file need not be). Site caps stay the programme's (facility watts per device at the 1,024-device
reference, the first cap pass): an answer whose packed
power exceeds a cap is not taken from the bound's search, and the bound is the optimum's over those constraints.

Retirement (hB70, session 70). Where devices retire and the policy holds spares, the report's fleet is not n +
spares(n): it keeps in service the chain of the servers used u AND their spares, each bought as late as its survivors
lack them (retirement.servers_in_service), so spares bought with an earlier phase's devices, and devices bought ahead
of a `refresh_with` successor's phase (retirement.ahead, hR70), are already among n; E(n) charged them again, above
the answer (hR70's seeded sweep: 5 of 50 plans; A100 on a 4-year life refreshed by B200, power, spares 0.99:
1,092,734.5 over 1,077,719.5). There the figure is F(N) (`in_service_costs`: n servers packed, spares among them),
lines under it on N, the in-service of planning/bound_columns.py's chain (`with_spare_purchases`: g u >= the
devices used, s >= lines under spares(u), N = the base alive + the purchases B alive, N >= u + s) with B kept to the
phases the report buys in (where the pool may, else the phase `ahead` names), and spares(u) from below at its steps
too (`with_spare_steps`: the hull's lines alone left draw 26 of that sweep at 1.41 %). Every answer is a point:
u its servers used, s = spares(u), B the report's purchases, N the report's in-service, each (pool, phase) charged
lines under F at it. Without spares (N = n) or without retirement (E on n is exact) the bound is as before.

One answer (hP71, session 71). The bound's search (`close_gap`: each bound answer priced at its own sizes, kept
where it costs less) finds assignments the pricing loops (sized_pricing.stepped_fixed_point, planning/pools_alone.py)
miss: on 30 of 217 seeded plans it cost less (0.01-6.7 %), 20 of them retiring with spares. The loops' programme
prices each (pool, phase) linearly in its servers (secants through exact costs at the tier brackets' edges and the
counts visited), so a count where the exact cost dips below that secant (a server fewer under a spare-node or N+k
rack step) is not seen, and under retirement with spares it has no spare columns (the chain above); in hB70's 9 the
search moves 8-20 devices of load between two pools in one phase (16 -> 8 H100 beside 40 -> 56 A100 in 2031, no 8
H100 bought ahead in 2029: TCO $2,759,308 -> $2,647,203 a year); elsewhere a loop ran out of solves (8) before a
fixed point (GB200 then H200 instead of GB200 throughout: power -6.7 %). Seeing them needs the exact cost at every
count, the bound's. So every plan whose bound prices at most `SEARCH_COUNTS_MAX` server counts runs the search
(scenario.py), and `--optimality-gap` reports that run: both answer alike. Above it (gigawatt-2027: 98,993 counts,
meta-2024: 69,851) only `--optimality-gap` runs it, and keeps the loops' answer where it finds a cheaper one, with
its gap to the lower bound and a line saying so (`kept`).

Speed (hP72, session 72). In benchmarks/scenario_plan.py's plan (8 pools, 12,203 counts) the search was ~5.5 s of CPU:
pricing every count (`exact_costs`, ~1 s) and one bound solve (HiGHS ~4 s: 1,168 branch-and-bound nodes; the root
LP sits 2 % under the optimum, the lines' fixed parts relaxed). Where the loops' answer is optimal, that solve only
proves it; so the search first solves once from the answer, handed to HiGHS as its first incumbent (feasible in the
bounding programme; its counts priced exactly, it costs there what it costs): 511 nodes, ~1.8 s. Where that proves
the answer optimal the search ends; else it runs as before, from no start (that solve is not counted in `solves`):
a start steers HiGHS to the answer's own assignment among bound optima of equal cost, which the search's step (price
the counts chosen) cannot leave (a seeded refresh plan kept the loops' $3,256,150 a year where the search finds
$3,249,425). Under retirement with spares (the chain's columns) no start is handed over.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from infraplan.planning.bound_columns import spare_lines, with_spare_purchases, with_spare_steps
from infraplan.planning.phased_mix import MixOption, PhasedMix, Programme, solve_phased_bound
from infraplan.planning.pool_money import node_devices, pool_spares
from infraplan.planning.retirement import ahead, lifecycles, servers_in_service
from infraplan.planning.scenario_caps import scenario_mix, server_devices, spare_devices
from infraplan.planning.scenario_report import packed, whole_base
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import (
    GAP_TOLERANCE,
    Bracket,
    Optimality,
    bound_above_answer,
    bound_brackets,
    close_gap,
    proven_bound,
    tier_brackets,
    too_many_counts,
    with_brackets,
)
from infraplan.planning.spares import spare_servers

SEARCH_COUNTS_MAX = 5_000
"""The most server counts (`bound_counts`) at which every `plan` runs the bound's search (`bound_plan`), not only
`plan --optimality-gap` (module docstring, "One answer"). 2,000 in session 71 (the search cost benchmarks/
scenario_plan.py's plan, 12,203 counts, 5.1 s against its 10 s goal); 5,000 since hP72's faster search (module
docstring, "Speed"; CPU at load 7-14): that plan would still pay 2.8 s (its goal missed); on hP71's 2-3 pool ranking
draws at 150x their QPS plain `plan` paid +0.5-2.9 s for the search at 2,206-6,208 counts (+2.2 s at 2,206 counts
before), but +7.9-15.5 s on 3 of 7 plans at 8,008-9,986 counts, where the search spends its 8 solves unconverged.
Kept at 5,000 in hP73: with the pricing's memos (`device_money.cost_overrides`, `load_hardware_cost`) the benchmark's
plan searched at 10.8-11.0 s of CPU (8.5 s without; load 8-13), still past its 10 s goal."""


def bound_counts(spec: ScenarioSpec, most: list[int]) -> int:
    """The server counts the bound prices: one to the most servers each pool can usefully hold, summed."""
    return sum(-(-m // node_devices(p)) for m, p in zip(most, spec.pools, strict=True))


def exact_costs(spec: ScenarioSpec, figure: str, most: list[int]) -> list[np.ndarray]:
    """Per pool, E(n) for n = 1 .. ceil(most / g) servers (module docstring), unweighted."""
    out = []
    for p, pool in enumerate(spec.pools):
        g = node_devices(pool)
        cache: dict[int, float] = {}

        def f(servers: int, pool: Any = pool, g: int = g, cache: dict[int, float] = cache) -> float:
            if servers not in cache:
                cache[servers] = float(getattr(packed(spec, pool, servers * g), figure) or 0.0)
            return cache[servers]

        top = -(-most[p] // g)
        spares = spare_nodes_by_count(spec, pool, top)
        base = pool.installed // g  # the installed base's whole servers (scenario_report.whole_base)
        values = []
        for n in range(1, top + 1):
            if n == base:  # the installed base: max(base, nodes + spares) for nodes 0 .. n
                values.append(min(f(max(k + int(spares[k]), n)) for k in range(n + 1)))
            else:
                values.append(f(n + int(spares[n])))
        out.append(np.array(values))
    return out


def spare_nodes_by_count(spec: ScenarioSpec, pool: Any, top: int) -> np.ndarray:
    """Spare nodes for 0 .. `top` nodes used: `pool_spares`' Poisson quantile over all counts at once
    (planning/spares.py `spare_servers`, the one count `spare_nodes` takes, the pool's blast radius included)."""
    one = pool_spares(spec, pool, node_devices(pool))
    if one is None or spec.policy.spare_probability is None:
        return np.zeros(top + 1, dtype=int)
    return spare_servers(np.arange(top + 1), one, spec.policy.spare_probability)


def spare_lines_under(spec: ScenarioSpec, most: list[int]) -> list[list[tuple[float, float]]] | None:
    """Per pool the lines under its spare servers at 0 .. the most servers it can use (planning/bound_columns.py
    `spare_lines`, over `spare_nodes_by_count`); None without spares."""
    if spec.policy.spare_probability is None:
        return None
    lines = [spare_lines(spare_nodes_by_count(spec, pool, -(-most[p] // node_devices(pool))))
             for p, pool in enumerate(spec.pools)]
    return lines if any(lines) else None


def in_service_costs(spec: ScenarioSpec, figure: str, most: list[int]) -> list[np.ndarray]:
    """Per pool, F(n) for n = 1 .. the most servers its report can keep in service (its `most` devices' servers
    and their spare nodes, or its installed base's: purchase_bound.least_increments' reach), unweighted: the
    figure of n servers in service, spares among them (module docstring, "Retirement")."""
    out = []
    for p, pool in enumerate(spec.pools):
        g = node_devices(pool)
        top = -(-most[p] // g)
        reach = max(top + int(spare_nodes_by_count(spec, pool, top)[top]), int(whole_base(spec)[p, 0]) // g, 1)
        out.append(np.array([float(getattr(packed(spec, pool, n * g), figure) or 0.0) for n in range(1, reach + 1)]))
    return out


def in_service_edges(spec: ScenarioSpec, values: list[np.ndarray]) -> list[list[tuple[int, int]]]:
    """Per pool its fabric's tier brackets (sized_pricing.tier_brackets) over 1 .. len(values[p]) servers."""
    def tiers(pool: Any, n: int) -> int:
        return packed(spec, pool, n * node_devices(pool)).tiers
    return [tier_brackets(partial(tiers, pool), len(v)) for pool, v in zip(spec.pools, values, strict=True)]


def report_servers(spec: ScenarioSpec, used: np.ndarray) -> np.ndarray:
    """The servers the report keeps in service per (pool, phase) for the devices `used`: theirs and their spares'
    (scenario_prices.own_sizes' reported count, in servers)."""
    g = server_devices(spec)
    return servers_in_service(used + spare_devices(spec, used), whole_base(spec), g, lifecycles(spec))[0] // g


def bound_plan(spec: ScenarioSpec, options: list[MixOption], demand: np.ndarray, cost: np.ndarray,
               watts: np.ndarray, years: list[float], sites: dict[str, int], weight: np.ndarray, figure: str,
               most: list[int], edges: Callable[[int], list[tuple[int, int]]], answer: np.ndarray,
               answer_cost: float, cost_of: Callable[[np.ndarray], float],
               bought: Callable[[np.ndarray], np.ndarray], used: Callable[[np.ndarray], np.ndarray],
               trim: Callable[[np.ndarray], np.ndarray], over_caps: Callable[[np.ndarray], bool],
               adopt: bool = True) -> tuple[np.ndarray, Optimality]:
    """The bound loop on a plan: `answer` (units per option) and its exact objective `answer_cost`; `cost_of`,
    `bought`, `used`, `trim` and `over_caps` are scenario.py's (own-price objective, devices bought and used per
    (pool, phase), idle units dropped, packed power over a cap). Returns the answer (the bound's search's when it
    costs less and fits the caps, and `adopt`: else the answer, its gap and a line saying what was found, `kept`)
    and the `Optimality`. Where devices retire and the policy holds spares, the figure is charged on the report's
    in-service chain (module docstring, "Retirement")."""
    g = [node_devices(p) for p in spec.pools]
    refused = too_many_counts(bound_counts(spec, most), answer_cost)
    if refused is not None:
        return answer, refused
    lines = spare_lines_under(spec, most) if lifecycles(spec) is not None else None
    values = exact_costs(spec, figure, most) if lines is None else in_service_costs(spec, figure, most)
    ranges = [edges(p) for p in range(len(spec.pools))] if lines is None else in_service_edges(spec, values)
    spares = [spare_nodes_by_count(spec, pool, -(-most[p] // g[p])) for p, pool in enumerate(spec.pools)]
    n_k = len(years)

    def solve_bound(exact: dict[int, set[int]], start: np.ndarray | None = None
                    ) -> tuple[np.ndarray, float, list[tuple[int, int]]]:
        brackets: dict[tuple[int, int], list[Bracket]] = {}
        for p in range(len(spec.pools)):
            pieces = bound_brackets(ranges[p], values[p], exact.get(p, ()))
            for k in range(n_k):
                w = float(weight[k])
                brackets[p, k] = [Bracket(b.lo, b.hi, b.fixed * w, b.per_server * w) for b in pieces]
        mix = scenario_mix(spec, sites, years, demand=demand, options=options, watts_per_device=watts,
                           cost=cost if lines is None else np.zeros_like(cost),  # (the chain's N carries it)
                           installed=[p.installed for p in spec.pools],
                           **({"brackets": brackets} if lines is None else {"spare_lines": lines}))
        if lines is None:
            x, servers, lower = solve_phased_bound(mix, ceiling=answer_cost, start=start)
        else:
            chain = ChargedChain(brackets, spares)
            x, servers, lower = solve_phased_bound(mix, chain.extend, chain.in_service, answer_cost)
        return trim(x), lower, [(p, int(n)) for p, row in enumerate(servers) for n in row]

    def admissible(x: np.ndarray) -> float | None:
        return None if over_caps(x) else cost_of(x)

    start = bought(used(answer)) // np.array(g)[:, None] if lines is None else report_servers(spec, used(answer))
    exact = {p: {int(n) for n in start[p] if n} for p in range(len(spec.pools))}
    if lines is None:  # one solve from the answer: where it proves the answer optimal, that is the search's end
        x, found, opt = close_gap(answer, answer_cost, partial(solve_bound, start=answer), admissible, exact,
                                  solves_max=1)  # (module docstring, "Speed")
        if x is answer and opt.gap_fraction is not None and opt.gap_fraction <= GAP_TOLERANCE:
            return answer, opt
    x, found, opt = close_gap(answer, answer_cost, solve_bound, admissible, exact)
    return (x, opt) if adopt or x is answer else (answer, kept(opt, answer_cost, found))


def kept(opt: Optimality, answer_cost: float, found: float, command: str = "plan") -> Optimality:
    """The `Optimality` of the loop's answer (cost `answer_cost`) where the bound's search found an assignment
    costing `found`, less, which is not taken (the `command`, `plan` or `fleet-mix`, searches only up to
    `SEARCH_COUNTS_MAX` counts, and answers alike with `--optimality-gap`): the gap to the same lower bound, the
    line saying what was found."""
    lower = None if opt.lower_bound is None else proven_bound(opt.lower_bound, answer_cost)
    gap = None if lower is None or not answer_cost else max(0.0, (answer_cost - lower) / abs(answer_cost))
    text = (f"within {(gap or 0.0) * 100:.3g} % of the optimum; the lower bound's search found an assignment "
            f"costing {found:,.2f}, less than the answer's {answer_cost:,.2f}, not taken: `{command}` runs that "
            f"search only up to {SEARCH_COUNTS_MAX:,} server counts, and `{command} --optimality-gap` answers as "
            f"`{command}` does")
    fault = bound_above_answer(lower, answer_cost)
    return Optimality(lower, answer_cost, None if fault else gap, opt.solves, fault or text)


def found_text(solves: int) -> str:
    """`pricing`'s clause where the bound's search (`solves` MILP solves) found the answer (`plan`, `fleet-mix`)."""
    return (f"; the lower bound's search found a cheaper assignment (its answer: {solves} MILP solve"
            f"{'s' if solves > 1 else ''} of every pool's cost bounded below by lines at every server count)")


class ChargedChain:
    """The fleet bound's programme under retirement with spares (module docstring, "Retirement"): bound_columns'
    chain of the servers used and their spares in service (`with_spare_purchases`: u, s, N, B), each (pool,
    phase)'s `brackets` (lines under F, weighted) on N instead of on n, which keeps the site caps and no cost."""

    def __init__(self, brackets: dict[tuple[int, int], list[Bracket]], spares: list[np.ndarray]) -> None:
        self.brackets, self.spares = brackets, spares
        self.column: Callable[[int, int], int] | None = None

    def extend(self, m: PhasedMix, prog: Programme, n_o: int) -> Programme:
        """`solve_phased_bound`'s `extend`: the chain's columns and rows, then the brackets on its in-service."""
        prog, chain = with_spare_purchases(m, prog, n_o)
        prog = with_spare_steps(prog, chain, self.spares, m.cost.shape[1])
        self.column = chain.in_service
        c, a, lb, ub, vlb, vub, integrality = prog
        vub = vub.copy()
        for p, cycle in enumerate(m.cohorts or []):  # the report buys where the pool may, else ahead (retirement)
            for k in range(len(cycle.buy_open)):
                if not cycle.buy_open[k] and ahead(cycle, k) is not None:
                    vub[chain.bought(p, k)] = 0.0
        c, a, lb, ub, vlb, vub, kept = with_brackets(c, a, lb, ub, vlb, vub, {
            chain.in_service(p, k): b for (p, k), b in self.brackets.items()})
        kept[:len(integrality)] = integrality  # (with_brackets makes every earlier column integer: s stays not)
        return c, a, lb, ub, vlb, vub, kept

    def in_service(self, p: int, k: int) -> int:
        """`solve_phased_bound`'s `servers`: the column of N[p, k] (set by `extend`)."""
        assert self.column is not None
        return self.column(p, k)
