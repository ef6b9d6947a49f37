"""`plan`'s assignment re-chosen at the servers its MILP fills, by a stated rule (hB64), so that which pool and
which option serve a service is a function of the servers and the demand, not of HiGHS's search path.

`plan`'s phased MILP (planning/phased_mix.py) prices whole servers; a device of a bought server that no service
needs is free to it but for a 1e-9 charge per device of an option unit, below HiGHS's relative gap (1e-6:
planning/milp_start.py). So where the servers have room, several assignments cost the same and HiGHS hands back
whichever its path reaches first: a service on 179 B200 + 6 MTIA v2 or on 180 B200 + 0 (hZ55, hP27, hA62 in
validation/notes/serving_speed_tried.md), 70B chat in 6 units of its 10-requests/s answer (12 H100) or in its
20-requests/s answer's (8; hR63). Any change to the path (a HiGHS knob, a start, another build) moved those rows.

The rule, a lexicographic programme solved exactly (HiGHS, relative gap 0, one phase at a time: at fixed servers
the phases share no constraint). In each phase every (pool) may hold at most the devices of the whole servers the
MILP's answer fills there (`room`: ceil(used / g) g, and no more than the pool's `available`), less what units of
services without demand there hold; each service's demand is covered (in shares of it, as the MILP's rows); and
among those assignments, in order:
    1. the fewest devices in use (sum of unit_devices x): the busy devices of the phase;
    2. then the least sum of (pool index x devices): the devices on the earliest pools in the scenario's order;
    3. then the least sum of (option index + 1) x units: the earlier options, which for one service on one pool
       are its whole-rate answer before its finer units (planning/scenario_sizing.py `finer_units`), so a coarser
       answer wins a tie of devices (hR63's rule); a tie here would need equal devices, equal device-weighted pool
       order and equal rank-weighted units: then HiGHS's (not seen).
Stage 2 and 3 are the previous stage's optimum as a row (each objective is an integer, so "at most its optimum"
is exact). The devices in use per pool only fall or move within servers already filled, so the servers bought,
the installed base's rows, `available` and the site caps hold, and the spares (sized on the nodes used,
planning/spares.py) are no more; `plan`'s cost (whole servers) is unchanged or lower. Where a stage fails (not
expected: the MILP's own assignment is feasible) the phase keeps the assignment it was given.

This replaces hR63's per-(service, pool) pass (`scenario_caps.fewest_devices`, an exhaustive search over a pool's
options with no bound on their number): stage 1 is its rule over the whole phase, with no search to blow up.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from infraplan.planning.phased_mix import MixOption


def room_devices(options: list[MixOption], x: np.ndarray, server: np.ndarray | None,
                 available: list[int | None] | None, n_pools: int, n_phases: int) -> np.ndarray:
    """Devices each (pool, phase) may hold at the servers an assignment fills: its devices used rounded up to whole
    servers of `server[p]` devices (None: 1, the devices used), at most the pool's `available`."""
    used = np.zeros((n_pools, n_phases), dtype=np.int64)
    for i, o in enumerate(options):
        if x[i] > 0:
            used[o.pool, o.phase] += int(x[i]) * o.unit_devices
    g = np.ones((n_pools, 1), dtype=np.int64) if server is None else np.asarray(server, dtype=np.int64).reshape(-1, 1)
    room = -(-used // g) * g
    for p, limit in enumerate(available or []):
        if limit is not None:
            room[p] = np.minimum(room[p], max(int(limit), 0))
    return np.maximum(room, used)  # never below what the answer holds (a limit it was given within)


def fill_fixed_servers(options: list[MixOption], x: np.ndarray, need: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Units per option chosen by the module's rule at `room` devices per (pool, phase); `x` (units per option, an
    assignment within `room` that covers `need`) for a phase where a stage fails."""
    out = np.asarray(x).astype(int).copy()
    for k in range(need.shape[1]):
        mine = [i for i, o in enumerate(options) if o.phase == k and need[o.service, k] > 0]
        if not mine:
            continue
        free = room[:, k].astype(float).copy()
        for i, o in enumerate(options):  # units of a service without demand here keep their devices
            if o.phase == k and need[o.service, k] <= 0 and out[i] > 0:
                free[o.pool] -= out[i] * o.unit_devices
        got = _phase(options, mine, need[:, k], free)
        if got is not None:
            out[mine] = got
    return out


def _phase(options: list[MixOption], mine: list[int], need: np.ndarray, free: np.ndarray) -> np.ndarray | None:
    """One phase's three stages (module docstring); None where one fails."""
    opts = [options[i] for i in mine]
    services = sorted({o.service for o in opts})
    pools = sorted({o.pool for o in opts})
    rows = np.zeros((len(services) + len(pools), len(opts)))
    for j, o in enumerate(opts):
        rows[services.index(o.service), j] = o.capacity / need[o.service]
        rows[len(services) + pools.index(o.pool), j] = o.unit_devices
    lb = np.concatenate([np.full(len(services), 1.0), np.full(len(pools), -np.inf)])
    ub = np.concatenate([np.full(len(services), np.inf), np.maximum(free[pools], 0.0)])
    most = np.array([_most_units(o, need[o.service], free[o.pool]) for o in opts], dtype=float)
    devices = np.array([o.unit_devices for o in opts], dtype=float)
    objectives = [devices, devices * np.array([o.pool for o in opts], dtype=float),
                  np.array([i + 1 for i in mine], dtype=float)]
    if len(pools) == 1:  # stage 2 is stage 1 times the one pool's index
        objectives.pop(1)
    units = None
    for c in objectives:
        res = milp(c, constraints=LinearConstraint(rows, lb, ub), integrality=np.ones(len(opts)),
                   bounds=Bounds(np.zeros(len(opts)), most), options={"mip_rel_gap": 0.0})
        if res.status != 0 or res.x is None:
            return None
        units = np.round(res.x).astype(int)
        rows = np.vstack([rows, c])  # this stage's optimum (an integer) bounds the next stage
        lb = np.append(lb, -np.inf)
        ub = np.append(ub, float(round(float(c @ units))))
    return units


def _most_units(o: MixOption, need: float, free: float) -> int:
    """The most units of `o` worth a place: what covers the demand alone (1 for a whole option), and what its
    pool's room holds."""
    if o.capacity <= 0 or free < o.unit_devices:
        return 0
    alone = 1 if o.whole else max(1, math.ceil(need / o.capacity))
    return min(alone, int(free // o.unit_devices))
