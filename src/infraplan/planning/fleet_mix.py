"""Heterogeneous fleet placement: how many devices of each pool serve each service, as a mixed-integer
linear programme solved by HiGHS (scipy.optimize.milp).

Variables x[s, p] >= 0, integer: units of pool p dedicated to service s (only pairs where the device can
serve the service at its SLO), each of g[s, p] devices. With T[s, p] the capacity per unit from the performance
models (recsys: QPS at the best batch meeting the latency SLO, g = 1; video: real-time transcodes per device,
g = 1; LLM: requests/s per replica of the layout serve-plan's capacity search picks at the service's whole rate,
g = its TP x PP x attention-DP accelerators, planning/fleet_mix_llm.py, which also names the deployment on each
pool used):

    minimise   sum c[s, p] g[s, p] x[s, p]
    subject to sum_p T[s, p] x[s, p]         >= demand[s]        for every service
               sum_s g[s, p] x[s, p]         <= available[p]     for every pool with a limit

This is the throughput-matrix formulation of Gavel (Narayanan et al., OSDI 2020) at the procurement horizon.
c = peak IT power per device (objective `power`) or yearly TCO per device (objective `tco`) of the pool at the size
the programme gives it, at the spec's site, through `device_money` (what `plan` and `facility --accelerator DEVICE
--count N` charge for N devices: the fabric's tiers and switches per device depend on N). The costs must be linear
in x, so the price is a fixed point: solve with every pool at its reference cluster (`Cluster.resolve(device)`: one
node of an accelerator, a system's size; one video ASIC), re-price each pool used at the devices it got, re-solve,
until the counts repeat (at most `PRICING_ROUNDS` solves; `solver.pricing_rounds`, `pricing_converged`). Without
convergence (a cycle, or the bound) the answer is the visited assignment cheapest at its own pools' prices. Every
money and power figure reported is the pool's at its own count; an unused pool's, its reference cluster's.
The power is the power chain's IT load per device (`facility.campus_fabric.built_load` over
`cluster.power.it_load`: the device at TDP, its host share, the fabric's switches and optics, the storage share; a
video ASIC its device and host power), the load its electricity is billed on and the one `facility --accelerator
DEVICE --count N` reports for the pool's N devices, so the totals' facility power x load factor x 8,760 h x price
is their electricity cost. The TCO is the one cost model's (planning/device_money.py over cluster/cost.py,
what `plan`, `facility`, `serve` and `serve-plan` charge): the site's `electricity_usd_per_kwh`, `pue` and
`load_factor` (default economics.yaml's 0.8) for every pool, the pool's `capex_usd` as the server price per device
(else the catalog's) and its `lifetime_years` as the servers' life; network and facility shares, maintenance and
the 8,760-hour year are the cost model's, energy the power chain's peak IT x load factor x PUE (not the service's
operating draw: one price per device-hour whatever it serves). A pool with neither price is planned on objective
`power` with its capex and TCO null (`cost_reason`, as `infraplan plan` does); objective `tco` refuses it in one
line. The GPU-only baseline re-solves with GPU pools only (unlimited), and video on CPU pools: A100/H100 have no NVENC
encoder. An infeasible programme is explained by its elastic relaxation: the least total relative shortfall and
the pools it fills.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from infraplan.catalog.inference_loader import is_video_device
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.limits import MAX_ACCELERATORS
from infraplan.planning.device_money import (
    DeviceMoney,
    cost_overrides,
    device_money,
    device_site,
    missing_price,
    pool_figures_note,
    pool_price_note,
    reference_devices,
)
from infraplan.planning.fleet_mix_llm import llm_option, llm_peak_rate, llm_share
from infraplan.planning.fleet_spec import FleetSpec, PoolSpec, ServiceSpec, load_fleet_spec
from infraplan.planning.results import FleetMixResult
from infraplan.planning.scenario_spec import InferenceServiceSpec, amount_text
from infraplan.planning.sized_pricing import PRICING_ROUNDS, sized_fixed_point
from infraplan.recsys.estimate import estimate_recsys
from infraplan.video.transcode import estimate_video

SUPPORTED_SERVICES = ("recsys", "video", "llm")
UNIT_TEXT = {"recsys": "QPS", "video": "streams", "llm": "requests/s"}


def _device_kind(pool: PoolSpec) -> str:
    return "video-asic" if is_video_device(pool.device) else Cluster.resolve(pool.device).accelerator.kind


def _option(service: InferenceServiceSpec, pool: PoolSpec) -> dict[str, Any]:
    """Per-device capacity and operating point of `pool` serving `service` (fleet-mix's or a scenario's), or
    {'reason': why not}; its power and money are the pool's (`_costs`)."""
    kind = _device_kind(pool)
    if service.kind == "recsys":
        if kind == "video-asic":
            return {"reason": f"{pool.device} is a video transcoder"}
        try:
            r = estimate_recsys(service.model, pool.device, latency_slo_s=service.latency_slo)  # type: ignore[arg-type]
        except InputError as exc:
            return {"reason": str(exc)}
        if not r.meets_slo:
            return {"reason": f"latency {r.latency_s * 1e3:.3g} ms at batch 1 exceeds the SLO "
                              f"{service.latency_slo * 1e3:.3g} ms"}  # type: ignore[operator]
        return {"capacity": r.qps, "unit": "qps",
                "detail": {"batch": r.batch, "latency_s": r.latency_s, "bound": r.bound}}
    if kind not in ("video-asic", "cpu"):
        nvenc = " (A100 and H100 have no NVENC)" if kind == "gpu" else ""
        return {"reason": f"{pool.device} ({kind}) has no video encoder modelled{nvenc}"}
    try:
        v = estimate_video(pool.device, service.input, service.ladder, service.codec, service.quality)
    except InputError as exc:
        return {"reason": str(exc)}
    return {"capacity": v.streams_per_device, "unit": "streams", "detail": {"encoder": v.encoder, "bound": v.bound}}


def _demand(service: ServiceSpec) -> float:
    if service.kind == "llm":
        return llm_peak_rate(service)
    if service.kind == "recsys":
        return float(service.qps)  # type: ignore[arg-type]
    return float(service.daily_hours) / 24.0 * service.peak_to_average  # type: ignore[arg-type]


def _unpriced(pool: PoolSpec) -> str | None:
    """Why a fleet pool has no price, or None (`missing_price`)."""
    return missing_price(pool.name, pool.device, pool.capex_usd)


def _pool_money(spec: FleetSpec, pool: PoolSpec, devices: int | None = None) -> DeviceMoney:
    """The one cost model's money of `devices` of a pool (default: its reference cluster,
    `device_money.reference_devices`) at the spec's site: its electricity price, PUE and load factor, the pool's
    `capex_usd` as the server price and its `lifetime_years` as the servers' life (`plan` charges the same,
    planning/pool_money.py; `facility --accelerator DEVICE --count N` the same for N devices)."""
    over = cost_overrides(spec.electricity_usd_per_kwh, spec.pue, pool.capex_usd, pool.lifetime_years,
                          spec.load_factor, unpriced=_unpriced(pool) is not None)
    n = reference_devices(pool.device) if devices is None else devices
    return device_money(pool.device, n, device_site(pool.device, over), pool.host_power_w)


def _costs(money: DeviceMoney, priced: bool) -> dict[str, float | None]:
    """Per device: peak IT and facility power (the power chain's, the load its electricity is billed on), yearly
    TCO, its energy part, capex and the $ per device-hour (money None for a pool without a price)."""
    n = money.devices
    power = {"power_w": money.it_w / n, "facility_power_w": money.facility_w / n,
             "energy_usd_per_year": money.annual.opex_breakdown_usd_per_year["electricity"] / n}
    if not priced:
        return {**power, "tco_usd_per_year": None, "capex_usd": None, "usd_per_device_hour": None}
    return {**power, "tco_usd_per_year": money.annual.tco_usd_per_year / n,
            "capex_usd": sum(money.capex_usd.values()) / n, "usd_per_device_hour": money.usd_per_device_hour}


def _solve(spec: FleetSpec, pairs: list[tuple[int, int, dict]], demand: np.ndarray, limits: list[int | None],
           objective: str) -> tuple[np.ndarray | None, Any]:
    n_s, n_p, n_x = len(spec.services), len(spec.pools), len(pairs)
    key = "power_w" if objective == "power" else "tco_usd_per_year"
    c = np.array([o["cost"][key] * o.get("unit_devices", 1) for _, _, o in pairs])
    a = np.zeros((n_s + n_p, n_x))
    for x, (s, p, o) in enumerate(pairs):
        a[s, x] = o["capacity"]
        a[n_s + p, x] = o.get("unit_devices", 1)
    lb = np.concatenate([demand, np.zeros(n_p)])
    ub = np.concatenate([np.full(n_s, np.inf), [np.inf if v is None else float(v) for v in limits]])
    res = milp(c, constraints=LinearConstraint(a, lb, ub), integrality=np.ones(n_x), bounds=Bounds(0, np.inf),
               options={"mip_rel_gap": 1e-6})
    return (np.round(res.x).astype(int) if res.status == 0 else None), res


Pairs = list[tuple[int, int, dict]]
CostsAt = Callable[[int, int], dict[str, float | None]]


def _pricer(spec: FleetSpec) -> CostsAt:
    """`costs_at(pool index, devices)`: `_costs` of that many devices of the pool, each size computed once."""
    cache: dict[tuple[int, int], dict[str, float | None]] = {}

    def costs_at(p: int, devices: int) -> dict[str, float | None]:
        if (p, devices) not in cache:
            pool = spec.pools[p]
            cache[p, devices] = _costs(_pool_money(spec, pool, devices), _unpriced(pool) is None)
        return cache[p, devices]
    return costs_at


def _priced(pairs: Pairs, costs_at: CostsAt, at: list[int]) -> Pairs:
    return [(s, p, {**o, "cost": costs_at(p, at[p])}) for s, p, o in pairs]


def _counts(spec: FleetSpec, pairs: Pairs, x: np.ndarray) -> list[int]:
    """Devices each pool holds in an assignment (its rows: an LLM share's deployment, `llm_share`)."""
    rows, _ = _assignment(spec, pairs, x)
    return [sum(r["devices"] for r in rows if r["pool"] == pool.name) for pool in spec.pools]


def _sized_solve(spec: FleetSpec, pairs: Pairs, demand: np.ndarray, limits: list[int | None], objective: str,
                 costs_at: CostsAt) -> tuple[np.ndarray, Any, Pairs, list[int], dict[str, Any]] | None:
    """The programme with every pool priced at the devices it gets (module docstring;
    `sized_pricing.sized_fixed_point`, the loop `plan` runs too): solve at the reference clusters' prices,
    re-price each pool used at its count, re-solve until the counts repeat, at most `PRICING_ROUNDS` solves.
    Returns x, the last HiGHS result, the pairs priced at x's own counts, the devices each pool is priced at, and
    the solver's pricing fields; None when the programme is infeasible (prices do not change feasibility)."""
    ref = [reference_devices(pool.device) for pool in spec.pools]
    key = "power_w" if objective == "power" else "tco_usd_per_year"

    def solve(at: list[int]) -> tuple[np.ndarray, Any] | None:
        x, res = _solve(spec, _priced(pairs, costs_at, at), demand, limits, objective)
        return None if x is None else (x, res)

    def own_sizes(solved: tuple[np.ndarray, Any]) -> list[int]:  # an unused pool stays at its reference
        counts = _counts(spec, _priced(pairs, costs_at, ref), solved[0])
        return [c if c > 0 else ref[p] for p, c in enumerate(counts)]

    def own_cost(solved: tuple[np.ndarray, Any], own: list[int]) -> float:
        return float(_assignment(spec, _priced(pairs, costs_at, own), solved[0])[1][key])

    fixed = sized_fixed_point(ref, solve, own_sizes, own_cost, "reference clusters", PRICING_ROUNDS)
    if fixed is None:
        return None
    (x, res), own = fixed.solution, fixed.at
    info = {"pricing_rounds": fixed.rounds, "pricing_converged": fixed.converged, "pricing": fixed.pricing}
    return x, res, _priced(pairs, costs_at, own), own, info


def _why_infeasible(spec: FleetSpec, pairs: list[tuple[int, int, dict]], demand: np.ndarray,
                    limits: list[int | None]) -> str:
    """Elastic LP relaxation: minimise the total relative shortfall; name the short services and full pools."""
    n_s, n_p, n_x = len(spec.services), len(spec.pools), len(pairs)
    c = np.concatenate([np.zeros(n_x), np.ones(n_s)])
    a_ub, b_ub = [], []
    for s in range(n_s):  # -(sum T x) / demand - short <= -1: in shares of the demand, one scale for every
        row = np.zeros(n_x + n_s)  # service (a 1e40 QPS row beside unit rows failed and was read as "all short")
        for x, (ss, _, o) in enumerate(pairs):
            if ss == s:
                row[x] = -o["capacity"] / demand[s]
        row[n_x + s] = -1.0
        a_ub.append(row)
        b_ub.append(-1.0)
    for p in range(n_p):
        if limits[p] is not None:
            row = np.zeros(n_x + n_s)
            for x, (_, pp, o) in enumerate(pairs):
                row[x] = o.get("unit_devices", 1) if pp == p else 0.0
            a_ub.append(row)
            b_ub.append(float(limits[p]))  # type: ignore[arg-type]
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=[(0, None)] * n_x + [(0, 1)] * n_s,
                  method="highs")
    if res.status != 0:
        return "HiGHS: the programme is infeasible and its elastic LP relaxation failed"
    short = res.x[n_x:]
    used = np.zeros(n_p)
    for x, (_, p, _) in enumerate(pairs):
        used[p] += res.x[x] * pairs[x][2].get("unit_devices", 1)
    parts = [f"{spec.services[s].name} short by {amount_text(short[s] * demand[s])} of {amount_text(demand[s])} "
             f"{UNIT_TEXT[spec.services[s].kind]} ({short[s] * 100:.0f} %)"
             for s in range(n_s) if short[s] > 1e-9]
    full = [f"{spec.pools[p].name} ({limits[p]:,} of {limits[p]:,})" for p in range(n_p)
            if limits[p] is not None and used[p] >= limits[p] - 1e-6]  # type: ignore[operator]
    short_text = "; ".join(parts) or "integer rounding"
    return (f"HiGHS: the programme is infeasible; even the LP relaxation leaves {short_text}"
            f"{'; pools used up: ' + ', '.join(full) if full else ''}")


def _assignment(spec: FleetSpec, pairs: list[tuple[int, int, dict]], x: np.ndarray) -> tuple[list, dict]:
    rows: list[dict[str, Any]] = []
    totals: dict[str, Any] = {"devices": 0, "power_w": 0.0, "facility_power_w": 0.0, "capex_usd": 0.0,
                              "tco_usd_per_year": 0.0, "energy_usd_per_year": 0.0}
    got = np.zeros(len(spec.services))  # capacity each service got: an LLM share is its part of the demand
    for units, (s, _, o) in zip(x, pairs, strict=True):
        got[s] += units * o["capacity"]
    for units, (s, p, o) in zip(x, pairs, strict=True):
        if units <= 0:
            continue
        svc, pool = spec.services[s], spec.pools[p]
        n, served, detail = int(units) * o.get("unit_devices", 1), o["capacity"] * units, o["detail"]
        if svc.kind == "llm":  # serve-plan's deployment for the pool's share (fleet_mix_llm.llm_share)
            served = float(_demand(svc) * served / got[s])
            n, detail = llm_share(svc, pool.device, o, int(units), served)
        row = {"service": svc.name, "pool": pool.name, "device": pool.device, "devices": n,
               "capacity_per_device": served / n, "unit": o["unit"], "served": served,
               "power_w": o["cost"]["power_w"] * n,
               "tco_usd_per_year": None if o["cost"]["tco_usd_per_year"] is None
               else o["cost"]["tco_usd_per_year"] * n,
               "usd_per_device_hour": o["cost"]["usd_per_device_hour"],
               **detail}
        rows.append(row)
        totals["devices"] += int(n)
        for k in ("power_w", "facility_power_w", "capex_usd", "tco_usd_per_year", "energy_usd_per_year"):
            totals[k] = None if totals[k] is None or o["cost"][k] is None else totals[k] + o["cost"][k] * n
    return rows, totals


def plan_fleet(spec: FleetSpec | str, objective: str | None = None,
               progress: Callable[[int, int], None] | None = None) -> FleetMixResult:
    """Solve the fleet mix for a spec (object or YAML path); `objective` overrides the spec's.

    `progress(done, total)` is called after each (service, pool) pair is sized, `search_plans`' convention (the
    web's jobs turn it into their fraction done; the MILP after the last pair takes milliseconds)."""
    spec = load_fleet_spec(spec) if isinstance(spec, str) else spec
    objective = objective or spec.objective
    if objective not in ("power", "tco"):
        raise InputError(f"--objective must be power or tco, got {objective!r}")
    unpriced_by_pool = [_unpriced(p) for p in spec.pools]
    unpriced = [r for r in unpriced_by_pool if r]
    if unpriced and objective == "tco":
        raise InputError(f"{unpriced[0]} (objective tco needs a price; objective power plans without one)")
    for pool in spec.pools:  # unknown devices fail early and clearly
        if not is_video_device(pool.device):
            Cluster.resolve(pool.device)
    pairs: Pairs = []
    excluded = []
    total = len(spec.services) * len(spec.pools)
    for s, svc in enumerate(spec.services):
        for p, pool in enumerate(spec.pools):
            opt = (llm_option(svc, pool.device, _device_kind(pool)) if svc.kind == "llm"
                   else _option(svc, pool))
            if "reason" in opt:
                excluded.append({"service": svc.name, "pool": pool.name, "reason": opt["reason"]})
            else:
                pairs.append((s, p, opt))
            if progress is not None:
                progress(s * len(spec.pools) + p + 1, total)
    demand = np.array([_demand(s) for s in spec.services])
    for s, svc in enumerate(spec.services):
        if not any(ps == s for ps, _, _ in pairs):
            why = "; ".join(f"{e['pool']}: {e['reason']}" for e in excluded if e["service"] == svc.name)
            raise InputError(f"infeasible: no pool can serve {svc.name!r} ({why})")
    # a pool without `available` holds at most the product's limit of accelerators (infraplan.limits)
    limits: list[int | None] = [MAX_ACCELERATORS if p.available is None else p.available for p in spec.pools]
    costs_at = _pricer(spec)
    solved = _sized_solve(spec, pairs, demand, limits, objective, costs_at)
    if solved is None:
        raise InputError(_why_infeasible(spec, pairs, demand, limits))
    x, res, priced, at, pricing = solved
    assignment, totals = _assignment(spec, priced, x)
    out: dict[str, Any] = {
        "fleet": spec.name, "objective": objective, "assignment": assignment, "totals": totals,
        "pools": [_pool_row(pool, sum(a["devices"] for a in assignment if a["pool"] == pool.name), at[p],
                            costs_at(p, at[p])) for p, pool in enumerate(spec.pools)],
        "excluded": excluded,
        "solver": {"method": "scipy.optimize.milp (HiGHS branch and cut)", "status": "optimal",
                   "objective_value": float(res.fun),
                   "objective_unit": "W (peak IT power)" if objective == "power" else "USD per year (TCO)",
                   "message": str(res.message), **pricing},
        "supported_services": list(SUPPORTED_SERVICES),
        "cost_reason": "; ".join(r for p, r in zip(spec.pools, unpriced_by_pool, strict=True)
                                 if r and any(a["pool"] == p.name for a in assignment)) or None,
        "price_note": "; ".join(n for p in spec.pools if any(a["pool"] == p.name for a in assignment)
                                and (n := pool_price_note(p.name, p.device, p.capex_usd))) or None,
        "figures_note": "; ".join(n for p in spec.pools if any(a["pool"] == p.name for a in assignment)
                                  and (n := pool_figures_note(p.name, p.device))) or None,
    }
    out.update(_gpu_only(spec, pairs, demand, objective, totals, costs_at))
    return FleetMixResult.model_validate(out)


def _pool_row(pool: PoolSpec, used: int, at: int, cost: dict[str, float | None]) -> dict[str, Any]:
    """A pool's devices used and its money at its own size (`at` devices: its count, else its reference cluster)."""
    return {"pool": pool.name, "device": pool.device, "used": used, "available": pool.available,
            "priced_at_devices": at, "power_w_per_device": cost["power_w"],
            "usd_per_device_hour": cost["usd_per_device_hour"],
            **{k: None if cost[k] is None else cost[k] * used  # type: ignore[operator]
               for k in ("power_w", "facility_power_w", "capex_usd", "tco_usd_per_year", "energy_usd_per_year")}}


def _gpu_only(spec: FleetSpec, pairs: Pairs, demand: np.ndarray, objective: str, totals: dict[str, float],
              costs_at: CostsAt) -> dict[str, Any]:
    kinds = [_device_kind(p) for p in spec.pools]
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
    x, _, priced, _, pricing = solved
    assignment, base = _assignment(spec, priced, x)
    saving = {k: None if base[k] is None or totals[k] is None else base[k] - totals[k]
              for k in ("power_w", "tco_usd_per_year", "capex_usd")}
    saving.update({f"{k}_fraction": None if saving[k] is None else saving[k] / base[k] if base[k] else 0.0
                   for k in ("power_w", "tco_usd_per_year")})
    return {"gpu_only": {"assignment": assignment, "totals": base,
                         "rule": "GPU pools only, unlimited; video on CPU pools (no GPU video encoder modelled)",
                         "pricing": pricing["pricing"]},
            "saving_vs_gpu_only": saving}
