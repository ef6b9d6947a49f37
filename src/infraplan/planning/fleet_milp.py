"""Fleet-mix's mixed-integer linear programme (HiGHS through scipy.optimize.milp), its idle-unit trim and the
elastic LP relaxation that explains an infeasible one; `planning.fleet_mix` sizes the (service, pool) pairs, prices
the pools at their own sizes and reports the answer.

Variables x[s, p] >= 0, integer: units of pool p dedicated to service s (only pairs where the device can serve the
service at its SLO; an LLM pair may come as several options, the whole-rate answer's units and finer ones,
`fleet_mix_llm.finer_options`, each its own variable), each of g[s, p] devices; n[p] >= 0, integer: whole servers of
pool p bought, each of G[p] devices (`fleet_pool_money.server_devices`: what the cost model packs whole and
`facility --count N` houses, ceil(N / G) servers; the unit `plan` buys, planning/pool_money.py `node_devices`; a
video ASIC card is its own unit). With T[s, p] the capacity per unit from the performance models (recsys: QPS at the
best batch meeting the latency SLO, g = 1; video: real-time transcodes per device, g = 1; LLM: requests/s per
replica of the layout serve-plan's capacity search picks at the service's whole rate, g = its TP x PP x attention-DP
accelerators, or per gcd(P, D) group of a disaggregated answer, g = the group's accelerators
(`fleet_mix_llm.split_units`), planning/fleet_mix_llm.py, which also names the deployment on each pool used):

    minimise   sum_p c[p] G[p] n[p]
    subject to sum_p T[s, p] x[s, p]         >= demand[s]        for every service
               sum_s g[s, p] x[s, p]         <= G[p] n[p]        the devices used come from the servers bought
               sum_s g[s, p] x[s, p]         <= available[p]     for every pool with a limit

with n[p] <= ceil(available[p] / G[p]). `available` is the devices the services may use ("devices that can be
deployed", fleet_spec.PoolSpec): the servers holding them may round it up, as `plan` reads the same field
(planning/phased_mix.py, hW3). A unit inside a server already bought costs nothing, so units no service needs are
dropped after each solve (`trim_idle`), and the assignment is then re-chosen at the whole servers the answer fills by
`plan`'s stated rule (planning/fixed_servers.py: the fewest devices, then the least power at the pools' priced watts
per device, then the earliest pools, then the earlier pairs; `at_fixed_servers`), so which pool serves a service is
not HiGHS's path's choice among equal-cost answers (hB65: HiGHS `random_seed` 1 moved 7 of examples/fleet-mix.yaml's
devices between pools, the same servers bought). This is the throughput-matrix formulation of Gavel (Narayanan et
al., OSDI 2020) at the procurement horizon.

The costs c[p] are per device at the size the pool is priced at (`fleet_mix`'s fixed point); `brackets` replaces a
pool's by its fabric's tier brackets (sized_pricing.with_brackets, hW4's stepped prices).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from infraplan.planning.fixed_servers import fill_fixed_servers, room_devices
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.milp_start import MIP_REL_GAP, quiet, solve_bound
from infraplan.planning.phased_mix import SHARE_MOST, MixOption
from infraplan.planning.scenario_types import amount_text
from infraplan.planning.sized_pricing import Bracket, with_brackets

UNIT_TEXT = {"recsys": "QPS", "video": "streams", "llm": "requests/s"}


def solve_units(spec: FleetSpec, pairs: list[tuple[int, int, dict]], demand: np.ndarray, limits: list[int | None],
           objective: str, servers: list[int] | None = None,
           brackets: dict[int, list[Bracket]] | None = None, shares: bool = True,
           ceiling: float | None = None) -> tuple[np.ndarray | None, Any]:
    """The MILP (module docstring): x, the units of each pair (idle units dropped and the rest re-chosen at the servers
    filled, `at_fixed_servers`), and HiGHS's result,
    whose variables n_x .. n_x + len(pools) are the whole servers n[p] bought (`servers[p]` devices each; None:
    1); `brackets[p]`: pool p's servers costed by its tier brackets (sized_pricing.with_brackets) instead of the
    pairs' per-device cost. `shares`: each service's row in shares of its demand (a service asking nothing keeps its
    row in its units, >= 0), every solve: with rows of 1e8 QPS HiGHS's presolve returned 160,103 W as optimal where
    158,080 W was feasible (hW5), and the phased MILP's stepped solve 0.09-0.74 % above its optimum, varying with
    HiGHS's seed (hP26). False: every row in the demand's own units. `ceiling` (a lower bound's solve, fleet_mix):
    the objective the bound is below, milp_start.solve_bound (its BOUND_OPTIONS, and its safety net: presolve off
    where HiGHS's bound passes it)."""
    n_s, n_p, n_x = len(spec.services), len(spec.pools), len(pairs)
    g = [1] * n_p if servers is None else [max(1, int(v)) for v in servers]
    key = "power_w" if objective == "power" else "tco_usd_per_year"
    per_device = [0.0] * n_p  # a pool's cost per device at its priced size: every pair of the pool carries it
    for _, p, o in pairs:
        per_device[p] = float(o["cost"][key])
    c = np.concatenate([np.zeros(n_x), [per_device[p] * g[p] for p in range(n_p)]])
    a = np.zeros((n_s + 2 * n_p, n_x + n_p))
    for x, (s, p, o) in enumerate(pairs):
        a[s, x] = o["capacity"]
        a[n_s + p, x] = a[n_s + n_p + p, x] = o.get("unit_devices", 1)
    for p in range(n_p):
        a[n_s + p, n_x + p] = -float(g[p])  # the devices used come from the pool's whole servers
    asked = np.asarray(demand, dtype=float)
    scale = np.where(asked > 0, asked, 1.0) if shares else np.ones(n_s)
    a[:n_s] /= scale[:, None]
    if shares:  # a unit serving its demand over a million times counts as a million (`phased_mix.SHARE_MOST`)
        a[:n_s] = np.minimum(a[:n_s], SHARE_MOST)
    lb = np.concatenate([asked / scale, np.full(2 * n_p, -np.inf)])
    ub = np.concatenate([np.full(n_s, np.inf), np.zeros(n_p),
                         [np.inf if v is None else float(v) for v in limits]])  # devices used <= available
    used = {p for _, p, _ in pairs}
    n_ub = [0.0 if p not in used else np.inf if (v := limits[p]) is None else float(-(-int(v) // g[p]))
            for p in range(n_p)]
    v_lb, v_ub = np.zeros(n_x + n_p), np.concatenate([np.full(n_x, np.inf), n_ub])
    integrality = np.ones(n_x + n_p)
    if brackets:
        c, a, lb, ub, v_lb, v_ub, integrality = with_brackets(c, a, lb, ub, v_lb, v_ub,
                                                 {n_x + p: b for p, b in brackets.items() if n_ub[p] > 0})
    if ceiling is not None:  # a bound: milp_start's BOUND_OPTIONS and its net (hK72)
        res = solve_bound(c, a, lb, ub, v_lb, v_ub, integrality, ceiling)
    else:
        with quiet():
            res = milp(c, constraints=LinearConstraint(a, lb, ub), integrality=integrality,
                       bounds=Bounds(v_lb, v_ub), options={"mip_rel_gap": MIP_REL_GAP})
    if res.status != 0:
        return None, res
    return at_fixed_servers(pairs, np.round(res.x[:n_x]).astype(int), demand, g, limits), res


def at_fixed_servers(pairs: list[tuple[int, int, dict]], x: np.ndarray, demand: np.ndarray, servers: list[int],
                     limits: list[int | None]) -> np.ndarray:
    """The units of an answer `x` (units per pair, idle ones included) with the idle units dropped (`trim_idle`) and
    the assignment re-chosen by `plan`'s rule (planning/fixed_servers.py, one phase) within the whole servers of
    `servers[p]` devices that `x` fills on each pool, at most `limits[p]` devices: the fewest devices in use, then
    the least power at each pool's watts per device as the pairs price it (`cost.power_w`, the objective `power`'s
    figure), then the earliest pools, then the earlier pairs (a service's whole-rate answer before its finer units,
    `fleet_mix_llm.finer_options`). Devices only fall or move inside servers already filled, so the servers
    bought, the limits and the objective hold."""
    options = [MixOption(s, p, 0, float(o["capacity"]), int(o.get("unit_devices", 1)), False) for s, p, o in pairs]
    room = room_devices(options, x, np.asarray(servers, dtype=np.int64).reshape(-1, 1), limits, len(servers), 1)
    watts = np.zeros(len(servers))
    for _, p, o in pairs:
        watts[p] = float(o["cost"]["power_w"])
    return fill_fixed_servers(options, trim_idle(pairs, x, demand), np.asarray(demand, dtype=float)[:, None], room,
                              watts)


def trim_idle(pairs: list[tuple[int, int, dict]], x: np.ndarray, demand: np.ndarray) -> np.ndarray:
    """Drop the units a service does not need: inside servers already bought a unit costs nothing, so the MILP may
    assign idle ones (plan charges them 1e-9, planning/phased_mix.py; here they are removed, pairs in order, while
    each service's capacity stays >= its demand)."""
    x = x.copy()
    got = np.zeros(len(demand))
    for units, (s, _, o) in zip(x, pairs, strict=True):
        got[s] += units * o["capacity"]
    for i, (s, _, o) in enumerate(pairs):
        drop = min(int(x[i]), int((got[s] - demand[s]) // o["capacity"])) if o["capacity"] > 0 else int(x[i])
        while drop > 0 and got[s] - drop * o["capacity"] < demand[s]:
            drop -= 1
        if drop > 0:
            x[i] -= drop
            got[s] -= drop * o["capacity"]
    return x


def why_infeasible(spec: FleetSpec, pairs: list[tuple[int, int, dict]], demand: np.ndarray,
                    limits: list[int | None]) -> str:
    """Elastic LP relaxation: minimise the total relative shortfall; name the short services and, of the pools that
    could serve one of them, those used up (msvp, a video pool, was named for a ranking shortage: hI63 / hO63).
    Each pair's variable is its pool's limit's share (devices / limit; an unlimited pool's: the units that meet
    the demand), so that no coefficient falls below HiGHS's small-value cut (1e-9, `small_matrix_value`): devices
    in units of one left a 1e15-QPS ranking row's CPU entries at ~1e-11, dropped, and the service "100 % short"
    beside an unused 10 M-socket pool."""
    n_s, n_p, n_x = len(spec.services), len(spec.pools), len(pairs)
    scale = np.array([float(lim) if (lim := limits[p]) else (demand[s] / o["capacity"] if o["capacity"] > 0 else 1.0)
                      for s, p, o in pairs])
    c = np.concatenate([np.zeros(n_x), np.ones(n_s)])
    a_ub, b_ub = [], []
    for s in range(n_s):  # -(sum T x) / demand - short <= -1: in shares of the demand, one scale for every
        row = np.zeros(n_x + n_s)  # service (a 1e40 QPS row beside unit rows failed and was read as "all short")
        for x, (ss, _, o) in enumerate(pairs):
            if ss == s:
                row[x] = -o["capacity"] * scale[x] / demand[s]
        row[n_x + s] = -1.0
        a_ub.append(row)
        b_ub.append(-1.0)
    for p in range(n_p):
        if (lim := limits[p]) is not None:  # devices / limit <= 1 (none where `available: 0`)
            row = np.zeros(n_x + n_s)
            for x, (_, pp, o) in enumerate(pairs):
                row[x] = o.get("unit_devices", 1) * scale[x] / max(lim, 1) if pp == p else 0.0
            a_ub.append(row)
            b_ub.append(1.0 if lim > 0 else 0.0)
    res = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=[(0, None)] * n_x + [(0, 1)] * n_s,
                  method="highs")
    if res.status != 0:
        return "HiGHS: the programme is infeasible and its elastic LP relaxation failed"
    short = res.x[n_x:]
    used = np.zeros(n_p)
    for x, (_, p, _) in enumerate(pairs):
        used[p] += res.x[x] * scale[x] * pairs[x][2].get("unit_devices", 1)
    parts = [f"{spec.services[s].name} short by {amount_text(short[s] * demand[s])} of {amount_text(demand[s])} "
             f"{UNIT_TEXT[spec.services[s].kind]} ({short[s] * 100:.0f} %)"
             for s in range(n_s) if short[s] > 1e-9]
    serving = {p for s, p, _ in pairs if short[s] > 1e-9}  # pools that could serve a short service
    full = [f"{spec.pools[p].name} ({limits[p]:,} of {limits[p]:,})" for p in range(n_p)
            if p in serving and limits[p] is not None and used[p] >= limits[p] * (1 - 1e-9) - 1e-6]  # type: ignore[operator]
    short_text = "; ".join(parts) or "integer rounding"
    return (f"HiGHS: the programme is infeasible; even the LP relaxation leaves {short_text}"
            f"{'; pools used up: ' + ', '.join(full) if full else ''}")
