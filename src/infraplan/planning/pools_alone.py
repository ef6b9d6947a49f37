"""Each pool's plan alone: a candidate answer of `plan` under every objective (hK69 for capex under retirement; every
objective since hP70).

planning/scenario.py's fixed points start at the 1,024-device reference prices and move by the sizes their answers
give the pools; no price they visit need lead to one pool alone. A plan that uses one pool is a plan of the scenario
(an unused pool adds nothing beyond its installed base while it serves, under every objective: capex, TCO, facility
power and tCO2e are charged per device in service, `scenario.own_cost`, or per purchase, `purchase_capex`), priced
by the same function as the loops' answers. So for each pool
with an option for every (service, phase) that has demand (where there are >= 2 pools), the same fixed point
(`sized_pricing.sized_fixed_point`) over that pool's options alone gives candidates, and the plan keeps the cheapest
assignment at its own prices under the scenario's own objective (`cheapest_priced`; the loops' answer on a tie).
hB69's 4-phase no-base N+k case (capex under retirement): no price of the two-pool loops leads to the H100 pool
alone, 6.1 % below their answer; a carbon scenario (GB200 and MI300X on 3-year lives, N+2 racks) ends on the GB200
pool's plan, 1.8 % above the MI300X pool alone (tests/planning/test_pools_alone_every_objective_hP70.py).
`fleet-mix` (one phase, planning/fleet_mix.py) does not price its pools alone: on 360 seeded random recsys fleets (2-3
of H100, H200, A100, B200, MTIA v2; power and TCO) one pool alone never cost less than its loop's answer (hP70).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from infraplan.errors import InputError
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import sized_fixed_point

Sizes = TypeVar("Sizes")
Solution = TypeVar("Solution")


def cheapest_priced(candidates: list[np.ndarray], cost: Callable[[np.ndarray], float]) -> tuple[int, np.ndarray]:
    """The index and the assignment of the `candidates` that costs least (`cost`: the objective at its own sizes'
    prices, what the report charges), the first of equals; each distinct assignment priced once (hK69)."""
    costs: dict[bytes, float] = {}
    for y in candidates:
        if (key := y.tobytes()) not in costs:  # (`setdefault(key, cost(y))` priced every copy: hI71)
            costs[key] = cost(y)
    best = min(range(len(candidates)), key=lambda i: (costs[candidates[i].tobytes()], i))
    return best, candidates[best]


def each_alone(n_pools: int, serves_all: Callable[[int], bool], solve: Callable[[int, Sizes], Solution | None],
               sizes: Callable[[Solution], Sizes], cost: Callable[[Solution, Sizes], float],
               reference: Sizes) -> list[Solution]:
    """Every answer of the fixed point over each pool alone (module docstring): `solve(p,
    sizes)` the programme with pool p's options alone at those sizes' prices (None: infeasible), `sizes(x)` an
    answer's own sizes, `cost(x, sizes)` its objective there, `reference` the sizes the loop starts at; only the
    pools that `serves_all` (an option for every demand), and none with a single pool (its plan is the loop's)."""
    got: list[Solution] = []

    def solve_one(p: int) -> Callable[[Sizes], Solution | None]:
        def one(at: Sizes) -> Solution | None:
            out = solve(p, at)
            if out is not None:
                got.append(out)
            return out
        return one

    for p in range(n_pools if n_pools > 1 else 0):
        if serves_all(p):
            sized_fixed_point(reference, solve_one(p), sizes, cost, "")
    return got


def pools_alone(spec: ScenarioSpec, options: list[MixOption], need: np.ndarray,
                solve: Callable[[list[MixOption], Sizes], np.ndarray], sizes: Callable[[np.ndarray], Sizes],
                cost: Callable[[np.ndarray, Sizes], float], reference: Sizes) -> list[np.ndarray]:
    """`each_alone` on `plan`'s options, as units of all the `options`: `solve(sub, sizes)` the programme over the
    options `sub` (InputError: the pool alone cannot serve it, a cap or a date, no candidate); `need` the demand per
    (service, phase)."""
    wanted = [(int(s), int(k)) for s, k in np.argwhere(need > 0)]
    columns = [[i for i, o in enumerate(options) if o.pool == p] for p in range(len(spec.pools))]

    def serves_all(p: int) -> bool:
        return all(any(options[i].service == s and options[i].phase == k for i in columns[p]) for s, k in wanted)

    def solve_sub(p: int, at: Sizes) -> np.ndarray | None:
        try:
            x = solve([options[i] for i in columns[p]], at)
        except InputError:
            return None
        full = np.zeros(len(options))
        full[columns[p]] = x
        return full

    return each_alone(len(spec.pools), serves_all, solve_sub, sizes, cost, reference)


def alone_text(solves: int, kept: bool) -> str:
    """`pricing`'s clause for the pools alone (`solves` MILP solves) and whether one of their plans is kept."""
    if not solves:
        return ""
    text = f"; then each pool alone, priced the same way: {solves} MILP solve{'s' if solves > 1 else ''}"
    return text + ("; a plan of one pool alone costs less at its own pools' prices than the loop's answer, which is "
                   "kept" if kept else "")
