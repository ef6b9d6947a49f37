"""Price each pool at the size the programme gives it: the fixed point `fleet-mix` (planning/fleet_mix.py) and
`plan` (planning/scenario.py) both solve.

A pool's power and money per device depend on its device count (the fabric's tiers, switches and optics per
device, `facility.campus_fabric.built_load`), while a MILP's costs must be linear in the devices. So: solve with
every pool priced at a reference size, re-price each pool used at the devices the solution gives it, re-solve,
and stop when the sizes repeat (converged: every pool is priced at its own count), at most `PRICING_ROUNDS`
solves. Without convergence (the sizes come back in a cycle, or the bound) the answer is the visited solution
that costs least at its own sizes' prices (the first of equals). Deterministic: the same start, the same solver,
the same prices for the same size. (hW, session 35, fleet-mix; hW2, plan: one loop for both.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

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
    _, solution, own = visited[-1] if converged else min(visited, key=lambda v: v[0])
    state = ("converged: every pool is priced at the whole servers it bought" if converged
             else f"no fixed point in {rounds} solves ({stop}): "
             "the assignment visited that costs least at its own pools' prices, priced at its counts")
    text = (f"each pool priced at its own size (the cost model for its device count, {start} first): {rounds} "
            f"MILP solve{'s' if rounds > 1 else ''}, {state}")
    return SizedSolution(solution, own, rounds, converged, text)
