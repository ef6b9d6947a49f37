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
exact objective. Site caps stay the programme's (facility watts per device at the 1,024-device reference, the first
cap pass): an answer whose packed power exceeds a cap is not taken from the bound's search, and the bound is the
optimum's over those constraints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from infraplan.planning.phased_mix import MixOption, solve_phased_bound
from infraplan.planning.pool_money import node_devices, pool_spares
from infraplan.planning.scenario_caps import scenario_mix
from infraplan.planning.scenario_report import packed
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import Bracket, Optimality, bound_brackets, close_gap, too_many_counts
from infraplan.planning.spares import spare_servers


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


def bound_plan(spec: ScenarioSpec, options: list[MixOption], demand: np.ndarray, cost: np.ndarray,
               watts: np.ndarray, years: list[float], sites: dict[str, int], weight: np.ndarray, figure: str,
               most: list[int], edges: Callable[[int], list[tuple[int, int]]], answer: np.ndarray,
               answer_cost: float, cost_of: Callable[[np.ndarray], float],
               bought: Callable[[np.ndarray], np.ndarray], used: Callable[[np.ndarray], np.ndarray],
               trim: Callable[[np.ndarray], np.ndarray], over_caps: Callable[[np.ndarray], bool]
               ) -> tuple[np.ndarray, Optimality]:
    """The bound loop on a plan: `answer` (units per option) and its exact objective `answer_cost`; `cost_of`,
    `bought`, `used`, `trim` and `over_caps` are scenario.py's (own-price objective, devices bought and used per
    (pool, phase), idle units dropped, packed power over a cap). Returns the answer (the bound's search's when it
    costs less and fits the caps) and the `Optimality`."""
    g = [node_devices(p) for p in spec.pools]
    refused = too_many_counts(sum(-(-m // gp) for m, gp in zip(most, g, strict=True)), answer_cost)
    if refused is not None:
        return answer, refused
    values = exact_costs(spec, figure, most)
    n_k = len(years)

    def solve_bound(exact: dict[int, set[int]]) -> tuple[np.ndarray, float, list[tuple[int, int]]]:
        brackets: dict[tuple[int, int], list[Bracket]] = {}
        for p in range(len(spec.pools)):
            lines = bound_brackets(edges(p), values[p], exact.get(p, ()))
            for k in range(n_k):
                w = float(weight[k])
                brackets[p, k] = [Bracket(b.lo, b.hi, b.fixed * w, b.per_server * w) for b in lines]
        mix = scenario_mix(spec, sites, years, demand=demand, options=options, cost=cost, watts_per_device=watts,
                           installed=[p.installed for p in spec.pools], brackets=brackets)
        x, servers, lower = solve_phased_bound(mix)
        return trim(x), lower, [(p, int(n)) for p, row in enumerate(servers) for n in row]

    def admissible(x: np.ndarray) -> float | None:
        return None if over_caps(x) else cost_of(x)

    start = bought(used(answer))
    exact = {p: {int(n) // g[p] for n in start[p] if n} for p in range(len(spec.pools))}
    x, _, opt = close_gap(answer, answer_cost, solve_bound, admissible, exact)
    return x, opt
