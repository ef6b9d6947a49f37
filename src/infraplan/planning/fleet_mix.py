"""Heterogeneous fleet placement: how many devices of each pool serve each service, bought as whole servers, as a
mixed-integer linear programme solved by HiGHS (scipy.optimize.milp).

The programme (its variables, constraints and the Gavel formulation) is built and solved in
planning/fleet_milp.py; here each (service, pool) pair is sized and the pools priced at their own sizes.

c = peak IT power per device (objective `power`) or yearly TCO per device (objective `tco`) of the pool at the size
the programme gives it, at the spec's site, through `device_money` (what `plan` and `facility --accelerator DEVICE
--count N` charge for N devices: the fabric's tiers and switches per device depend on N). The costs must be linear
in n, so the price is a fixed point: solve with every pool at its reference cluster (`Cluster.resolve(device)`: one
node of an accelerator, i.e. one server, a system's size; one video ASIC), re-price each pool used at the devices
of the whole servers its rows need, re-solve, until the sizes repeat; then re-solve with every pool's cost stepped
by its fabric's tier brackets from that answer (sized_pricing.stepped_fixed_point; kept only where cheaper at its own
prices), at most `PRICING_ROUNDS` solves in all (`solver.pricing_rounds`, `pricing_converged`). Without convergence
(a cycle, or the bound) the answer is the visited assignment cheapest at its own pools' prices. A pool's and the
totals' figures are its whole servers' at that size,
`facility --accelerator DEVICE --count BOUGHT`'s (an unused pool's per-device price: its reference cluster's); a
row's are its devices used x the pool's per device, so the rows leave out a pool's idle devices.
`solver.objective_value_w` / `objective_value_usd_per_year` is the MILP's objective at those prices: the totals'
figure, or above it where an LLM share's re-search (fleet_mix_llm.llm_share) freed a server.
A pool's power and money per device are planning/fleet_pool_money.py's (the power chain, the one cost model); a
service's capacity per device is planning/pool_capacity.py's (recsys, video) or fleet_mix_llm.py's (LLM). A pool
with neither price is planned on objective `power` with its capex and TCO null (`cost_reason`, as `infraplan plan`
does; the priced parts' sums beside them, `capex_priced_usd`, hK2-77); objective `tco` refuses it in one line.
The GPU-only baseline re-solves with GPU pools only (unlimited), and video on CPU pools: A100/H100 have no NVENC
encoder. An infeasible programme is explained by its elastic
relaxation: the least total relative shortfall and the pools it fills.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from infraplan.catalog.answer_bands import parts_band
from infraplan.catalog.error_bands import FACILITY_STACK
from infraplan.catalog.inference_loader import is_video_device
from infraplan.cluster import Cluster
from infraplan.errors import InputError, wrong_kind
from infraplan.limits import MAX_ACCELERATORS, peak_demand_at_most
from infraplan.planning.device_money import (
    part_domain_note,
    past_system_note,
    pool_notes,
    pool_price_note,
    reference_devices,
)
from infraplan.planning.fields_read import check_pool_stacks
from infraplan.planning.fleet_milp import solve_units, why_infeasible
from infraplan.planning.fleet_mix_llm import (
    LLM_SEARCHES_MOST,
    finer_options,
    llm_option,
    llm_peak_rate,
    llm_share,
    llm_shares,
)
from infraplan.planning.fleet_mix_results import FleetMixResult
from infraplan.planning.fleet_pool_money import FIGURES as FIGURES  # re-exported
from infraplan.planning.fleet_pool_money import (
    CostsAt,
    Pairs,
    fleet_pool_money,
    pool_unpriced,
    priced_pairs,
    pricer,
    server_devices,
    whole_server_devices,
)
from infraplan.planning.fleet_pool_money import bought_pools as _pools
from infraplan.planning.fleet_pool_money import fleet_totals as _totals
from infraplan.planning.fleet_spec import FleetSpec, ServiceSpec, load_fleet_spec
from infraplan.planning.llm_precision import mixed_precision_notes, option_ran
from infraplan.planning.pool_capacity import device_kind, labelled_notes, pool_option
from infraplan.planning.scenario_bound import SEARCH_COUNTS_MAX, found_text, kept
from infraplan.planning.sized_pricing import (
    PRICING_ROUNDS,
    Bracket,
    bound_brackets,
    bracket_costs,
    close_gap,
    stepped_fixed_point,
    tier_brackets,
    too_many_counts,
)

SUPPORTED_SERVICES = ("recsys", "video", "llm")


def _demand(service: ServiceSpec) -> float:
    """A service's peak demand in its unit, a recsys or video one within `limits.peak_demand_at_most`."""
    if service.kind == "llm":
        return llm_peak_rate(service)
    if service.kind == "recsys":
        return peak_demand_at_most(service.name, "recsys", float(service.qps), "qps")  # type: ignore[arg-type]
    return peak_demand_at_most(service.name, "video", float(service.daily_hours) / 24.0 * service.peak_to_average,  # type: ignore[arg-type]
                               "daily_hours / 24 x peak_to_average")


def llm_searches(spec: FleetSpec) -> list[int]:
    """The most serve-plan capacity searches sizing each (service, pool) pair runs, service-major as `plan_fleet`
    sizes them: an LLM service on a pool that runs LLM serving, its whole rate and up to FINER_HALVINGS halvings
    (`fleet_mix_llm.LLM_SEARCHES_MOST`); 0 elsewhere (a recsys or video estimate, a few ms; a CPU or video ASIC is
    refused without a search). Not counted: one per share the MILP splits (known after it). `plan_fleet`'s progress
    and the web's work bound (web/fleet_mix.py) read it."""
    return [LLM_SEARCHES_MOST if svc.kind == "llm" and device_kind(pool) not in ("cpu", "video-asic") else 0
            for svc in spec.services for pool in spec.pools]


def _counts(spec: FleetSpec, pairs: Pairs, x: np.ndarray) -> list[int]:
    """Devices each pool holds in an assignment (its rows: an LLM share's deployment, `llm_share`)."""
    rows = _assignment(spec, pairs, x)
    return [sum(r["devices"] for r in rows if r["pool"] == pool.name) for pool in spec.pools]


@dataclass(frozen=True)
class _Sized:
    """`_sized_solve`'s answer: units per pair, servers bought per pool (MILP), the pairs priced at the pools' own
    sizes, those sizes (devices bought, or the reference for an unused pool), the MILP's objective at them, the
    solver's pricing fields."""

    x: np.ndarray
    servers: list[int]
    res: Any
    priced: Pairs
    at: list[int]
    objective: float
    info: dict[str, Any]


def _sized_solve(spec: FleetSpec, pairs: Pairs, demand: np.ndarray, limits: list[int | None], objective: str,
                 costs_at: CostsAt, bound: bool = False) -> _Sized | None:
    """The programme in whole servers with every pool priced at the devices it buys (module docstring;
    `sized_pricing.sized_fixed_point`, the loop `plan` runs too): each pool's servers costed by its fabric's tier
    brackets (`sized_pricing.bracket_costs`: its own-size cost at the brackets' edges and at every size the loop
    priced it at), re-priced at each pool's whole servers, re-solved until the sizes repeat, at most
    `PRICING_ROUNDS` solves. None when the programme is infeasible (prices do not change feasibility). The bound's
    search (`close_gap`) runs wherever it prices at most `scenario_bound.SEARCH_COUNTS_MAX` server counts and its
    cheaper answer is taken, so `fleet-mix` answers as `fleet-mix --optimality-gap` (hQ71); above, only `bound`
    runs it and keeps the loop's answer (`scenario_bound.kept`). `bound`: also report how far the answer can be
    from the optimum."""
    ref = [reference_devices(pool.device) for pool in spec.pools]
    g = [server_devices(pool) for pool in spec.pools]
    key = "power_w" if objective == "power" else "tco_usd_per_year"
    n_x = len(pairs)
    seen: dict[int, set[int]] = {}  # servers each pool has been priced at
    edges: dict[int, list[tuple[int, int]]] = {}

    def total_at(p: int, servers: int) -> float:  # a pool's own-size cost of that many whole servers
        return float(costs_at(p, servers * g[p])[key] or 0.0) * servers * g[p]

    def brackets(at: list[int]) -> dict[int, list[Bracket]]:
        out = {}
        for p in sorted({p for _, p, _ in pairs}):
            def tiers(servers: int, p: int = p) -> int:
                return fleet_pool_money(spec, spec.pools[p], servers * g[p]).tiers

            def total(servers: int, p: int = p) -> float:
                return total_at(p, servers)

            if p not in edges:  # up to the most the pool can usefully hold: every service it serves on it alone
                limit = MAX_ACCELERATORS if limits[p] is None else int(limits[p])  # type: ignore[arg-type]
                need: dict[int, int] = {}  # per service, its most devices over the pool's options
                for s, q, o in pairs:
                    if q == p:
                        need[s] = max(need.get(s, 0), math.ceil(demand[s] / o["capacity"] - 1e-9) *
                                      o.get("unit_devices", 1))
                most = sum(need.values())
                edges[p] = tier_brackets(tiers, max(1, -(-min(limit, most) // g[p])))
            if at[p]:
                seen.setdefault(p, set()).add(at[p] // g[p])
            out[p] = bracket_costs(edges[p], total, seen.get(p, ()))
        return out

    def solve(at: list[int], stepped: bool = False) -> tuple[np.ndarray, list[int], Any] | None:
        x, res = solve_units(spec, priced_pairs(pairs, costs_at, at), demand, limits, objective, g,
                        brackets(at) if stepped else None)
        return None if x is None else (x, [int(v) for v in np.round(res.x[n_x:n_x + len(g)])], res)

    def own_sizes(solved: tuple[np.ndarray, list[int], Any]) -> list[int]:  # an unused pool stays at its reference
        counts = _counts(spec, priced_pairs(pairs, costs_at, ref), solved[0])
        return [whole_server_devices(c, g[p]) if c > 0 else ref[p] for p, c in enumerate(counts)]

    def own_cost(solved: tuple[np.ndarray, list[int], Any], own: list[int]) -> float:
        """The MILP's objective (servers x devices per server x the pool's cost per device) at `own` prices."""
        return float(sum(float(costs_at(p, own[p])[key] or 0.0) * g[p] * n for p, n in enumerate(solved[1]) if n))

    fixed = stepped_fixed_point(ref, solve, lambda at: solve(at, True), own_sizes, own_cost, "reference clusters",
                                PRICING_ROUNDS)
    if fixed is None:
        return None
    solution, own = fixed.solution, fixed.at
    info: dict[str, Any] = {"pricing_rounds": fixed.rounds, "pricing_converged": fixed.converged,
                            "pricing": fixed.pricing}
    if edges.keys() != {p for _, p, _ in pairs}:
        brackets(ref)  # every used pool's tier brackets (edges), where the loop did not price them
    counts = sum(e[-1][1] for e in edges.values())
    if bound or counts <= SEARCH_COUNTS_MAX:  # one answer with and without --optimality-gap (scenario_bound.kept)

        def solve_bound(exact: dict[int, set[int]]) -> tuple[Any, float, list[tuple[int, int]]] | None:
            x, res = solve_units(spec, priced_pairs(pairs, costs_at, ref), demand, limits, objective, g,
                                 {p: bound_brackets(edges[p], values[p], exact.get(p, ())) for p in edges}, True, cost)
            if x is None:
                return None
            servers = [int(v) for v in np.round(res.x[n_x:n_x + len(g)])]
            dual = getattr(res, "mip_dual_bound", None)  # HiGHS's proven bound (<= its answer's objective)
            lower = float(res.fun) if dual is None or not np.isfinite(dual) else min(float(res.fun), float(dual))
            return (x, servers, res), lower, [(p, servers[p]) for p in edges]

        first, cost = solution, own_cost(solution, own)
        opt = too_many_counts(counts, cost)
        if opt is None:
            values = {p: np.array([total_at(p, n) for n in range(1, e[-1][1] + 1)]) for p, e in edges.items()}
            solution, found, opt = close_gap(solution, cost, solve_bound, lambda s: own_cost(s, own_sizes(s)),
                                             {p: {solution[1][p]} for p in edges if solution[1][p]})
            if solution is not first and counts > SEARCH_COUNTS_MAX:  # plan's answer kept, the cheaper one named
                solution, opt = first, kept(opt, cost, found, "fleet-mix")
        if solution is not first:
            own = own_sizes(solution)
            info["pricing"] += found_text(opt.solves)
        if bound:
            info.update(optimality_gap_fraction=opt.gap_fraction, optimality=opt.text, optimality_solves=opt.solves,
                        **{f"objective_lower_bound_{'w' if objective == 'power' else 'usd_per_year'}":
                           opt.lower_bound})
    x, servers, res = solution
    return _Sized(x, servers, res, priced_pairs(pairs, costs_at, own), own, own_cost(solution, own), info)



def _joined(spec: FleetSpec, pairs: Pairs, x: np.ndarray, got: np.ndarray) -> dict[tuple[int, int], tuple]:
    """(served, devices, detail) of each LLM service on each pool where the MILP took units of several of the
    pool's options (the whole-rate answer's and finer ones, `fleet_mix_llm.finer_options`) and serve-plan finds one
    deployment for their share within all their accelerators (`llm_shares`); else each option is its own row."""
    parts: dict[tuple[int, int], list[tuple[dict, int]]] = {}
    for units, (s, p, o) in zip(x, pairs, strict=True):
        if units > 0 and spec.services[s].kind == "llm":
            parts.setdefault((s, p), []).append((o, int(units)))
    out = {}
    for (s, p), used in parts.items():
        if len(used) > 1:
            served = float(_demand(spec.services[s]) * sum(o["capacity"] * u for o, u in used) / got[s])
            if (one := llm_shares(spec.services[s], spec.pools[p].device, used, served)) is not None:
                out[s, p] = (served, *one)
    return out


def _assignment(spec: FleetSpec, pairs: list[tuple[int, int, dict]], x: np.ndarray) -> list[dict[str, Any]]:
    """The rows: each service's devices used on each pool, its share of the pool's power and TCO per device."""
    rows: list[dict[str, Any]] = []
    got = np.zeros(len(spec.services))  # capacity each service got: an LLM share is its part of the demand
    for units, (s, _, o) in zip(x, pairs, strict=True):
        got[s] += units * o["capacity"]
    joined, done = _joined(spec, pairs, x, got), set()
    for units, (s, p, o) in zip(x, pairs, strict=True):
        if units <= 0 or (s, p) in done:
            continue
        svc, pool = spec.services[s], spec.pools[p]
        n, served, detail = int(units) * o.get("unit_devices", 1), o["capacity"] * units, o["detail"]
        if (s, p) in joined:  # one deployment for the units of the pool's several options
            served, n, detail = joined[s, p]
            done.add((s, p))
        elif svc.kind == "llm":  # serve-plan's deployment for the pool's share (fleet_mix_llm.llm_share)
            served = float(_demand(svc) * served / got[s])
            n, detail = llm_share(svc, pool.device, o, int(units), served)
        per_device = served / n if svc.kind == "llm" else o["capacity"]  # recsys/video: `recsys`/`video`'s own
        row = {"service": svc.name, "pool": pool.name, "device": pool.device, "devices": n,  # (not n x it / n)
               "capacity_per_device": per_device, "unit": o["unit"], "served": served,
               "power_w": o["cost"]["power_w"] * n,
               "tco_usd_per_year": None if o["cost"]["tco_usd_per_year"] is None
               else o["cost"]["tco_usd_per_year"] * n,
               "usd_per_device_hour": o["cost"]["usd_per_device_hour"],
               **detail}
        rows.append(row)
    return rows


def plan_fleet(spec: FleetSpec | str, objective: str | None = None,
               progress: Callable[[int, int], None] | None = None, optimality_gap: bool = False) -> FleetMixResult:
    """Solve the fleet mix for a spec (object or YAML path); `objective` overrides the spec's; `optimality_gap`:
    also prove a lower bound on the optimum and report the gap (`solver.optimality_gap_fraction`; it prices every
    count of every used pool, so it is asked for: `--optimality-gap`).

    `progress(done, total)` is called as the sizing begins (0: the inputs are read and checked; hR77: the web's
    `jobs.check_input` ran a fleet's first pair whole, its LLM searches included, in the request thread, and the job
    ran it again) and after each (service, pool) pair is sized, `search_plans`' convention (the
    web's jobs turn it into their fraction done; the MILP after the last pair takes milliseconds), in steps: an
    LLM pair its most serve-plan searches (`llm_searches`: the whole rate and its halvings), any other pair one."""
    if not isinstance(spec, str | FleetSpec):  # a dict was an AttributeError deep inside (hK66)
        raise wrong_kind("spec", "a fleet-mix YAML path (text) or a FleetSpec", spec)
    spec = load_fleet_spec(spec) if isinstance(spec, str) else spec
    objective = objective or spec.objective
    if objective not in ("power", "tco"):
        raise InputError(f"--objective must be power or tco, got {objective!r}")
    unpriced_by_pool = [pool_unpriced(p) for p in spec.pools]
    unpriced = [r for r in unpriced_by_pool if r]
    if unpriced and objective == "tco":
        raise InputError(f"{unpriced[0]} (objective tco needs a price; objective power plans without one)")
    for pool in spec.pools:  # unknown devices fail early and clearly
        if not is_video_device(pool.device):
            Cluster.resolve(pool.device)
    check_pool_stacks(spec.pools)  # a pool's stack file, read now (the spec's check leaves files to the run)
    demand = np.array([_demand(s) for s in spec.services])  # a demand past its limit: refused before any sizing
    pairs: Pairs = []
    excluded = []
    steps = [max(1, n) for n in llm_searches(spec)]  # a pair's work: its most searches, else one estimate
    total = sum(steps)
    if progress is not None:  # the inputs read, the sizing begins: told first (`web.jobs.check_input` stops there)
        progress(0, total)
    for s, svc in enumerate(spec.services):
        for p, pool in enumerate(spec.pools):
            opt = (llm_option(svc, pool.device, device_kind(pool), pool.name, pool.stack) if svc.kind == "llm"
                   else pool_option(svc, pool))
            if "reason" in opt:
                excluded.append({"service": svc.name, "pool": pool.name, "reason": opt["reason"]})
            else:  # an LLM answer of coarse units: finer ones beside it (fleet_mix_llm.finer_options)
                pairs.extend((s, p, o) for o in [opt, *(finer_options(svc, pool.device, device_kind(pool), pool.name,
                                                                      pool.stack, opt) if svc.kind == "llm" else [])])
            if progress is not None:  # a pair that searched fewer halvings than it may counts them all
                progress(sum(steps[:s * len(spec.pools) + p + 1]), total)
    for s, svc in enumerate(spec.services):
        if not any(ps == s for ps, _, _ in pairs):
            why = "; ".join(f"{e['pool']}: {e['reason']}" for e in excluded if e["service"] == svc.name)
            raise InputError(f"infeasible: no pool can serve {svc.name!r} ({why})")
    # a pool without `available` holds at most the product's limit of accelerators (infraplan.limits)
    limits: list[int | None] = [MAX_ACCELERATORS if p.available is None else p.available for p in spec.pools]
    costs_at = pricer(spec)
    solved = _sized_solve(spec, pairs, demand, limits, objective, costs_at, optimality_gap)
    if solved is None:
        raise InputError(why_infeasible(spec, pairs, demand, limits))
    assignment = _assignment(spec, solved.priced, solved.x)
    pools = _pools(spec, assignment, solved.at, costs_at)
    totals = _totals(pools)
    unit = "w" if objective == "power" else "usd_per_year"
    out: dict[str, Any] = {
        "fleet": spec.name, "objective": objective, "assignment": assignment, "totals": totals, "pools": pools,
        "excluded": excluded,
        "solver": {"method": "scipy.optimize.milp (HiGHS branch and cut)", "status": "optimal",
                   f"objective_value_{unit}": solved.objective, "objective_value": solved.objective,
                   "objective_unit": "W (peak IT power)" if objective == "power" else "USD per year (TCO)",
                   "message": str(solved.res.message), **solved.info},
        "supported_services": list(SUPPORTED_SERVICES),
        "cost_reason": "; ".join(r for p, r in zip(spec.pools, unpriced_by_pool, strict=True)
                                 if r and any(a["pool"] == p.name for a in assignment)) or None,
        "price_note": "; ".join(n for p in spec.pools if any(a["pool"] == p.name for a in assignment)
                                and (n := pool_price_note(p.name, p.device, p.price_usd_per_device))) or None,
        "figures_note": "; ".join(n for p in spec.pools if any(a["pool"] == p.name for a in assignment)
                                  and (n := pool_notes(p.name, p.device, p.host_power_w))) or None,
        "notes": labelled_notes((spec.services[s].name, spec.pools[p].name, o.get("notes", ()))  # video, recsys
                                for u, (s, p, o) in zip(solved.x, solved.priced, strict=True) if u > 0)
        + [note for p in pools for f in (part_domain_note, past_system_note)  # plan's (hU67, hP73)
           if (note := f(p["pool"], p["device"], p["devices_bought"]))],
        # an LLM service's pools sized at different precisions (MTIA bf16 beside GB200 fp8), as `plan` says it (hB59)
        "precision_notes": mixed_precision_notes([(spec.services[s], spec.pools[p], option_ran(o["detail"]))
                                                  for s, p, o in pairs]),
    }
    out["error_band"], out["error_band_basis"] = parts_band(  # hE40: the bought devices' IT power
        [p.device for p in spec.pools if any(a["pool"] == p.name for a in assignment)], FACILITY_STACK, "facility",
        "it_power", "the IT power of the devices bought (totals.power_w)", FLEET_MIX_NOT_VALIDATED)
    out.update(_gpu_only(spec, pairs, demand, objective, totals, costs_at))
    return FleetMixResult.model_validate(out)


FLEET_MIX_NOT_VALIDATED = ("not in this band: each service's capacity per device, its own model's (an LLM's: "
                           "serve-plan's band; recsys: one validation campaign, no band; video: no validation case), "
                           "the facility power's PUE (no validation case) and the money (one cost campaign: no band)")


def _gpu_only(spec: FleetSpec, pairs: Pairs, demand: np.ndarray, objective: str, totals: dict[str, float],
              costs_at: CostsAt) -> dict[str, Any]:
    kinds = [device_kind(p) for p in spec.pools]
    keep = [(s, p, o) for s, p, o in pairs
            if kinds[p] == "gpu" or (spec.services[s].kind == "video" and kinds[p] == "cpu")]
    missing = [svc.name for i, svc in enumerate(spec.services) if not any(s == i for s, _, _ in keep)]
    if missing:
        return {"gpu_only": None, "saving_vs_gpu_only": None,
                "gpu_only_note": f"no GPU-only fleet serves {', '.join(missing)} "
                                 "(no GPU pool, or no CPU pool for video)"}
    solved = _sized_solve(spec, keep, demand, [None] * len(spec.pools), objective, costs_at)
    if solved is None:  # cannot happen without limits, but never pretend
        return {"gpu_only": None, "saving_vs_gpu_only": None, "gpu_only_note": "GPU-only programme infeasible"}
    assignment = _assignment(spec, solved.priced, solved.x)
    base = _totals(_pools(spec, assignment, solved.at, costs_at))
    saving = {k: None if base[k] is None or totals[k] is None else base[k] - totals[k]
              for k in ("power_w", "tco_usd_per_year", "capex_usd")}
    saving.update({f"{k}_fraction": None if saving[k] is None else saving[k] / base[k] if base[k] else 0.0
                   for k in ("power_w", "tco_usd_per_year")})
    return {"gpu_only": {"assignment": assignment, "totals": base,
                         "rule": "GPU pools only, unlimited; video on CPU pools (no GPU video encoder modelled)",
                         "pricing": solved.info["pricing"]},
            "saving_vs_gpu_only": saving}
