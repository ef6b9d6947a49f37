"""The whole-stack plan: a scenario (planning/scenario_spec.py) from demand to gigawatts, phase by phase.

1. Size every service on every pool with the single-layer models (planning/scenario_sizing.py).
2. Assign services to pools with the phased MILP (planning/phased_mix.py `solve_phased_mix`, scipy HiGHS):
   heterogeneous generations are pools, delivery and site dates are zero bounds, site power caps are linear in
   the devices (facility watts per device of the power chain at a 1,024-device reference size), and the
   objective is the policy's: capex (what is bought), TCO per year, facility power or tCO2e, summed over phases
   (capex where devices retire: each phase's purchase columns, planning/purchase_capex.py).
   The MILP buys whole servers (an integer number per pool and phase, devices = servers x the pool's devices per
   server, what step 3 packs). Its per-device coefficients are each pool's figure as the plan reports it in that
   phase (step 3's packing at the reported count: the fabric's share depends on the count; the policy's spare
   nodes and N+k racks, which are not linear in the servers) over the servers the MILP buys there, a fixed point
   shared with fleet-mix (planning/sized_pricing.py): solved at the 1,024-device price, re-priced at each
   (pool, phase)'s own counts, re-solved until they repeat, then re-solved with every (pool, phase)'s cost stepped
   by its fabric's tier brackets from that answer (sized_pricing.stepped_fixed_point: a pool cheaper at a size no
   price led to is found; kept only where cheaper at its own prices) (at most `PRICING_ROUNDS` solves in all, said
   in `pricing_rounds`, `pricing_converged`, `pricing`). `objective_value` is the objective at the answer's own
   prices: at a fixed point, the reported figures (capex, TCO, facility power or tCO2e) weighted by phase.
   Each pool alone (planning/pools_alone.py: the same loop over its options, where it can serve every demand) is a
   candidate under every objective; the plan keeps the cheapest assignment at its own prices (the loop's on a tie;
   its solves counted in `pricing_rounds`).
   The packed power (step 3: racks, the fabric at the solution's size, the policy's spare nodes and racks)
   counts against the caps: while a solution's packed facility power exceeds a cap, the MILP is solved again
   with each pool's watts per device scaled by its packed power / (reference watts x devices used)
   (planning/scenario_caps.py: at most `CAP_PASSES` solves; a cap the packed devices cannot fit under is one
   InputError), so a site sized by `campus` holds what `campus` puts in it and no plan reports more power than its
   site's cap.
3. Pack each pool's devices into servers and racks and build its scale-out fabric (planning/pool_money.py:
   the rack layout under the site's cooling, the fabric `campus` and `facility` build), add the
   policy's spare nodes (planning/spares.py: the reliability model's node failures x repair time, a Poisson
   quantile at `spare_probability`, on the devices the services use) and N+k spare racks, and cost it with
   the one cost model (`cluster.cost.cluster_cost`: capex by asset class, annualised capex + opex, energy at the
   load factor x PUE, and location-based tCO2e).
4. Sum pools into sites (facility power against the cap) and phases; H100-equivalents are dense bf16 peak /
   H100's (Epoch AI's convention, planning/campus.py).
Steps 3 and 4 (packing, the report's rows) are planning/scenario_report.py.
Step 3's packing, power and money of one pool are planning/pool_money.py: a pool without a price is planned on a
power or carbon objective with its money fields null (`cost_reason`); a capex or TCO objective refuses it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import numpy as np

from infraplan.errors import InputError, wrong_kind
from infraplan.planning import site_building
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.pool_money import (
    pool_money,
    require_prices,
)
from infraplan.planning.pools_alone import alone_text, cheapest_priced, pools_alone
from infraplan.planning.purchase_bound import fleet_value_bound, purchase_bound
from infraplan.planning.purchase_capex import (
    OBJECTIVE_UNIT,
    charges_purchases,
    pricing_text,
    purchase_capex,
    purchase_costs,
    purchase_pricer,
    purchase_sizes,
)
from infraplan.planning.retirement import (
    check_lifecycles,
    out_of_service,
    with_successors,
)
from infraplan.planning.scenario_bound import SEARCH_COUNTS_MAX, bound_counts, bound_plan, found_text
from infraplan.planning.scenario_caps import (
    capped_solve,
    over_caps,
    packed_facility_w,
    server_devices,
    spare_devices,
    trim_idle,
    used_devices,
)
from infraplan.planning.scenario_checks import check_power_caps, check_presets
from infraplan.planning.scenario_prices import (
    Sizes,
    bought_devices,
    bracket_prices,
    edge_finder,
    most_devices,
    own_sizes,
    pricer,
)
from infraplan.planning.scenario_report import assemble_plan
from infraplan.planning.scenario_results import ScenarioPlan
from infraplan.planning.scenario_sizing import Sized, demand, shared_part_pools, size_options
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario
from infraplan.planning.scenario_types import amount_text
from infraplan.planning.sized_pricing import (
    PRICING_ROUNDS,
    sized_fixed_point,
    stepped_fixed_point,
)
from infraplan.serving.engine_memo import kept_engine_runs

REFERENCE_DEVICES = 1024  # size at which the MILP's per-device watts and costs are taken from the power chain
# capex where devices retire: each phase's purchases (planning/purchase_capex.py OBJECTIVE_UNIT), not this one's
OBJECTIVE_UNITS = {"capex": "USD (the last phase's fleet value, fleet_value_usd: the money spent plus the installed "
                            "base's value, a constant; earlier phases weighted 1e-6)",
                   "tco": "USD (TCO per year x the years to the next phase, summed over phases)",
                   "power": "W x years (facility power x the years to the next phase, summed over phases)",
                   "carbon": "tCO2e (per year x the years to the next phase, summed over phases)"}


StageProgress = Callable[[str, int, int], None]
"""A long run's progress callback: (what it is doing, steps done, steps in all), called before each step and once
at the end (done = total); the CLI draws it as a bar on stderr, the web as its job's fraction."""


def plan_scenario(spec: ScenarioSpec | str, optimality_gap: bool = False,
                  progress: StageProgress | None = None) -> ScenarioPlan:
    """Size, place, pack, power and cost a scenario (object or YAML path), phase by phase; `optimality_gap`: also
    prove a lower bound on the optimum (planning/scenario_bound.py; it prices every count of every pool, so it
    is asked for: `plan --optimality-gap`). `progress`: told each service sized on each pool in each phase (step
    1, the time of a large plan: a 1 GW example's 16 sizings are ~99 % of its run), then the pricing."""
    start = time.perf_counter()
    if not isinstance(spec, str | ScenarioSpec):  # a dict was an AttributeError deep inside (hK66)
        raise wrong_kind("spec", "a scenario YAML path (text) or a ScenarioSpec", spec)
    spec = load_scenario(spec) if isinstance(spec, str) else spec
    return _planned(spec, optimality_gap, progress, start)


def _planned(spec: ScenarioSpec, optimality_gap: bool, progress: StageProgress | None,
             start: float) -> ScenarioPlan:
    """`plan_scenario`'s work on a loaded scenario (`start`: its clock at the call)."""
    check_lifecycles(spec)
    spec = with_successors(spec)  # refresh_with's pools (planning/retirement.py)
    check_presets(spec)
    require_prices(spec)
    sites = {s.name: i for i, s in enumerate(spec.sites)}
    site_of = {p.name: spec.sites[sites[p.site]] for p in spec.pools}
    ref = {p.name: pool_money(spec, p, site_of[p.name], REFERENCE_DEVICES) for p in spec.pools}
    unit_w = {n: m.facility_w / m.devices * min(m.devices_per_rack, m.devices) for n, m in ref.items()}
    check_power_caps(spec, unit_w)
    phases = [ph.name for ph in spec.phases]
    need = np.array([[demand(s, ph, spec.policy.headroom) for ph in phases] for s in spec.services])
    options: list[MixOption] = []
    sized: dict[int, Sized] = {}
    excluded: list[str] = []
    steps, done = int((need > 0).sum()) * len(spec.pools) + 1, 0  # every sizing, then the pricing (one step)
    shared = shared_part_pools(spec.services, spec.pools)  # two systems of one part: searches share engine runs
    for si, svc in enumerate(spec.services):
        for k, ph in enumerate(phases):
            if need[si, k] <= 0:
                continue
            reasons = []
            keep = shared if svc.kind == "llm" else []  # its engine runs kept from the first such pool to the last
            with ExitStack() as memo:
                for pi, pool in enumerate(spec.pools):
                    if keep and pi == keep[0]:  # (`serving.engine_memo`: the same answers, sooner)
                        memo.enter_context(kept_engine_runs())
                    elif keep and pi == keep[-1] + 1:
                        memo.close()
                    if progress is not None:
                        progress(f"sizing {svc.name} on {pool.name} ({ph})", done, steps)
                    done += 1
                    if (why := out_of_service(spec, pi, k)) is not None:
                        reasons.append(f"{pool.name}: {why}")
                        continue
                    got = size_options(svc, pool, float(need[si, k]))  # an LLM's finer units too (fleet-mix's)
                    if isinstance(got, str):
                        reasons.append(f"{pool.name}: {got}")
                        continue
                    for one in got:
                        sized[len(options)] = one
                        options.append(MixOption(si, pi, k, one.capacity, one.unit_devices, one.whole, one.whole_why))
            if not any(o.service == si and o.phase == k for o in options):
                unit = {"training": "run", "llm": "requests/s", "recsys": "QPS", "image": "images/s",
                        "video": "streams"}[svc.kind]
                raise InputError(f"no pool can serve {svc.name!r} in {ph} (short by {amount_text(need[si, k])} "
                                 f"{unit}): " + "; ".join(reasons))
            excluded += [f"{svc.name} in {ph} on {r}" for r in reasons]
    years = [ph.year for ph in spec.phases]
    span = [b - a for a, b in zip(years, years[1:], strict=False)] + [1]  # years (a half-year phase: 0.5)
    figure = {"capex": "capex_usd", "tco": "tco_usd_per_year", "power": "facility_w",
              "carbon": "co2_t_per_year"}[spec.policy.objective]
    weight = np.array([1e-6] * (len(phases) - 1) + [1.0]) if spec.policy.objective == "capex" else np.array(span)
    whole = np.array([[1.0 if s.kind == "training" else 0.0] for s in spec.services])  # an LLM's unit: a replica
    watts = np.array([m.facility_w / m.devices for m in ref.values()])
    per_device = pricer(spec, ref, figure)
    mix_demand = np.where((whole > 0) & (need > 0), 1.0, need)  # a whole training job: one unit of 1

    most = most_devices(spec, options, mix_demand)
    bracket_edges = edge_finder(spec, most)
    seen: dict[int, set[int]] = {}  # the servers each pool has been priced at

    last: list[np.ndarray] = []  # the latest answer: the next solve's start (prices move, constraints stay)
    solved: list[np.ndarray] = []  # every answer a solve gave, feasible (caps checked): a candidate (hK69)

    def costs(at: Sizes) -> np.ndarray:  # per device bought per (pool, phase) at `at`, weighted by phase
        return np.array([[per_device(p, n) for n in row] for p, row in enumerate(at)]) * weight

    def solve(at: Sizes, stepped: bool = False) -> np.ndarray:
        x = capped_solve(spec, options, mix_demand, costs(at), watts, phases, years, sites,
                         bracket_prices(spec, at, per_device, weight, bracket_edges, years, seen) if stepped else None,
                         last[-1] if last else None)
        last[:] = [x]
        solved.append(x)
        return x

    def used(x: np.ndarray) -> np.ndarray:
        return used_devices(options, x, len(spec.pools), len(phases))

    def sizes(x: np.ndarray) -> Sizes:
        return own_sizes(spec, options, x, len(phases))

    def own_cost(x: np.ndarray, at: Sizes) -> float:
        bought = bought_devices(spec, used(x))
        return float(sum(per_device(p, n) * weight[k] * bought[p, k] for p, row in enumerate(at)
                         for k, n in enumerate(row)))

    def solve_stepped(at: Sizes) -> np.ndarray | None:
        try:
            return solve(at, True)
        except InputError:  # not expected (the brackets cover every useful size): keep the answer without them
            return None

    def fits(y: np.ndarray) -> bool:  # its packed power under every site's cap (a last cap pass may not be)
        return not over_caps(spec, packed_facility_w(spec, used(y) + spare_devices(spec, used(y))))

    if progress is not None:
        progress("pricing and placing (MILP)" + (", proving the optimality gap" if optimality_gap else ""), done,
                 steps)
    reference: Sizes = tuple(((0, 0),) * len(phases) for _ in spec.pools)  # (0, 0): the REFERENCE_DEVICES price
    fixed = stepped_fixed_point(reference, solve, solve_stepped, sizes, own_cost, f"{REFERENCE_DEVICES:,} devices",
                                PRICING_ROUNDS)
    assert fixed is not None  # solve raises InputError (infeasible) rather than return None
    x, at = fixed.solution, fixed.at
    pricing: dict[str, Any] = {"pricing_rounds": fixed.rounds, "pricing_converged": fixed.converged,
                               "pricing": fixed.pricing}
    purchases = charges_purchases(spec)
    objective = own_cost
    if purchases:  # capex under retirement: each phase's purchases (planning/purchase_capex.py)
        price = purchase_pricer(spec, ref)
        none = np.zeros((len(spec.pools), len(phases)))

        def solve_buys(at: Sizes) -> np.ndarray:
            x = capped_solve(spec, options, mix_demand, none, watts, phases, years, sites, None,
                             last[-1] if last else None, purchase_costs(spec, at, price))
            last[:] = [x]
            solved.append(x)
            return x

        def buys(x: np.ndarray) -> Sizes:
            return purchase_sizes(spec, used(x))

        def objective(x: np.ndarray, at: Sizes) -> float:
            return purchase_capex(spec, at, price)

        nothing: Sizes = tuple(((0, 0, 0),) * len(phases) for _ in spec.pools)  # (0, 0, 0): the reference price
        bought = sized_fixed_point(nothing, solve_buys, buys, objective, f"{REFERENCE_DEVICES:,} devices",
                                   PRICING_ROUNDS)
        assert bought is not None
        alone = pools_alone(spec, options, need, lambda o, at: capped_solve(  # a plan no price led to (hK69)
            spec, o, mix_demand, none, watts, phases, years, sites, None, None, purchase_costs(spec, at, price)),
            buys, objective, nothing)
        # the purchase prices can miss (purchase_capex.py), and a loop's answer can cost more than an assignment
        # an earlier solve gave (hK69): the cheapest answer priced at its own purchases is kept (on a tie the
        # purchases' answer, then the first's, then the earliest solve's, then a pool alone's)
        more = [y for y in solved if fits(y)]
        which, x = cheapest_priced([bought.solution, x, *more, *filter(fits, alone)], lambda y: objective(y, buys(y)))
        kind = min(which, 2) if which < 2 + len(more) else 3
        at = buys(x)
        pricing.update(pricing_rounds=fixed.rounds + bought.rounds + len(alone),
                       pricing_converged=(bought.converged, fixed.converged, False, False)[kind],
                       pricing=pricing_text(fixed.pricing, bought.rounds, bought.state, kind, len(alone)))
    else:  # every other objective: each pool alone at its own sizes too (planning/pools_alone.py, hP70)
        alone = pools_alone(spec, options, need, lambda o, at: capped_solve(
            spec, o, mix_demand, costs(at), watts, phases, years, sites), sizes, own_cost, reference)
        which, x = cheapest_priced([x, *filter(fits, alone)], lambda y: own_cost(y, sizes(y)))
        at = sizes(x)  # each candidate compared and reported at its own sizes (the loop's: `fixed.at`, hP71)
        pricing.update(pricing_rounds=fixed.rounds + len(alone), pricing_converged=fixed.converged and not which,
                       pricing=fixed.pricing + alone_text(len(alone), which > 0))
    # the bound's search finds assignments the loops miss (30 of 217 seeded plans, hP71): every plan it is cheap in
    # runs it, so `plan` and `plan --optimality-gap` give one answer (scenario_bound.py, "One answer")
    search = bound_counts(spec, most) <= SEARCH_COUNTS_MAX
    if purchases and (optimality_gap or search):  # a bound on the purchases, its assignment (purchase_bound.py)
        def priced(y: np.ndarray) -> tuple[np.ndarray, float] | None:  # idle units dropped, within the caps
            t = trim_idle(options, y, mix_demand, server_devices(spec), [p.available for p in spec.pools], watts)
            return (t, objective(t, buys(t))) if fits(t) else None

        best, opt = purchase_bound(spec, options, mix_demand, watts, sites, most, x, objective(x, at),
                                   priced if search else None)  # (one answer: `plan` runs it only where `search`)
        if best is not x:  # hB72
            x, at = best, buys(best)
            pricing.update(pricing_converged=False, pricing=pricing["pricing"] + "; the lower bound's assignment "
                           "costs less (its answer: 1 MILP solve of the purchases at their least increments)")
        if optimality_gap:
            pricing.update(optimality_gap_fraction=opt.gap_fraction, objective_lower_bound=opt.lower_bound,
                           optimality=opt.text, optimality_solves=opt.solves)
    elif optimality_gap or (search and not purchases):
        ref_cost = np.array([[per_device(p, (0, 0))] * len(phases) for p in range(len(spec.pools))]) * weight
        best, opt = bound_plan(
            spec, options, mix_demand, ref_cost, watts, years, sites, weight, figure, most, bracket_edges, x,
            own_cost(x, at), lambda y: own_cost(y, sizes(y)),
            lambda u: bought_devices(spec, u), used,
            lambda y: trim_idle(options, y, mix_demand, server_devices(spec), [p.available for p in spec.pools],
                                watts),
            lambda y: not fits(y), search)
        if best is not x:
            x, at = best, sizes(best)
            pricing.update(pricing_converged=False, pricing=pricing["pricing"] + found_text(opt.solves))
        if optimality_gap and spec.policy.objective == "capex":  # the last phase's fleet value: purchases from
            opt = fleet_value_bound(spec, options, mix_demand, watts, sites, most, opt)  # below too (hB69)
        if optimality_gap:
            pricing.update(optimality_gap_fraction=opt.gap_fraction, objective_lower_bound=opt.lower_bound,
                           optimality=opt.text, optimality_solves=opt.solves)
    pricing.update(objective_value=objective(x, at),
                   objective_unit=OBJECTIVE_UNIT if purchases else OBJECTIVE_UNITS[spec.policy.objective])
    if progress is not None:
        progress("done", steps, steps)
    by_site = site_building.site_spends if site_building.SITE_BUILDING_REUSE else None  # a refresh reuses the building
    return assemble_plan(spec, options, sized, x, need, excluded, start, by_site).model_copy(update=pricing)


def plan_summary(plan: ScenarioPlan) -> dict[str, Any]:
    """The headline numbers compared side by side (`compare`): the money also over its priced parts (hK77), which a
    scenario with a pool without a price has where its capex and TCO are null."""
    return {k: getattr(plan, k) for k in ("devices", "h100_equivalents", "facility_power_w",
                                          "facility_power_average_w", "capex_usd",
                                          "fleet_value_usd", "tco_usd_per_year", "capex_priced_usd",
                                          "fleet_value_priced_usd", "tco_priced_usd_per_year", "energy_mwh_per_year",
                                          "co2_t_per_year", "embodied_co2_t_per_year", "total_co2_t_per_year")}
