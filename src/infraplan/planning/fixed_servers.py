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
    2. then the least power of them (sum of W_p x devices, W_p a pool's facility watts per device as `plan`'s MILP
       prices its power: the power chain at 1,024 devices, planning/scenario.py `watts`, rounded to whole watts;
       hP64), so a service sits on the device that serves it for the least power, not on the pool typed first;
    3. then the least sum of (pool index x devices): the devices on the earliest pools in the scenario's order (a
       tie of whole watts);
    4. then the least sum of (option index + 1) x units: the earlier options, which for one service on one pool
       are its whole-rate answer before its finer units (planning/scenario_sizing.py `finer_units`), so a coarser
       answer wins a tie of devices (hR63's rule); a tie here would need equal devices, power, device-weighted pool
       order and rank-weighted units: then HiGHS's (not seen).
Each stage's optimum is a row of the next (each objective is an integer, so "at most its optimum" is exact). Stages
2 and 3 are one solve of S x power + order, S = (the spread of the phase's pool indexes) x (stage 1's devices) + 1:
at stage 1's devices two assignments' order differs by less than S, so a watt outweighs any order and the least of
the sum is the least power, then the least order (its power and order at the optimum become two rows). That holds
in integers; it is solved in doubles only where the sum stays below 2^40 (`MERGE_BELOW`, there a double's spacing
is 2^-12, HiGHS's tolerances 1e-6), else as two solves. Where the phase's pools have equal whole watts, stage 2 is
stage 1 times them and only the order is solved; on one pool, only stages 1 and 4. So a phase takes three solves
(as hB64's rule did; four where the merged sum could pass 2^40: meta-2024's phase, 18,590 devices, 3.7e12). The devices
in use per pool only fall or move within servers already filled (by the MILP's answer, idle units included), so the
servers bought, the installed base's rows, `available` and the site caps hold; the spares (sized on the nodes used,
planning/spares.py) can grow where work moves onto a pool whose filled servers held only idle units (meta-2024's
2024 ranking: 2 of 45 H100 onto rsc's and other-gpus' installed base, rsc's 8 spares from its idle devices; hP64).
Where a stage fails (not expected: the MILP's own assignment is feasible) the phase keeps the assignment it was
given.

Spares on a newly busy server (hB65). A pool's spares are a nondecreasing function of its busy servers alone
(planning/pool_money.py `pool_spares`: its widest instance is fixed per pool, not by the answer). The rule adds a busy
server to a pool only where the MILP's answer holds units on a server none of which a service needs (idle units
only). On an installed base that server and its spares come from the base's idle devices (meta-2024's rsc above; a
purchase only where they are fewer than the new spares). On a bought pool the report installs each phase's busy and
spare devices and keeps them until they retire (retirement.servers_in_service), so the new server is one the report
already holds wherever an earlier phase had that many busy servers (their spares, nondecreasing, survive with them).
Otherwise it is a server the MILP bought and no phase used, which an optimum holds only (a) within HiGHS's relative
gap (a server worth under 1e-6 of the objective) or (b) where buying it before it is needed costs the objective the
same (e.g. capex at one price in two phases). There the report buys, in that phase, a server the MILP had paid for
plus its spares (which `plan`'s objective prices only where spares alone buy, planning/purchase_capex.py). Not
seen: on plan-minimal, plan-refresh, mtia-vs-gpu, the benchmark's scenario and tests/planning/
test_plan_capex_purchases_hW54.py's capex spares case no solve's rule gave any pool a newly busy server; on meta-2024
only installed bases did (rsc, other-gpus: 0 -> 1, nothing bought) (hB65's count over every call); not constructed.

fleet-mix runs the same rule on its one phase (planning/fleet_milp.py `at_fixed_servers`, hB65: its pairs as options,
the watts per device its pairs price, the servers its MILP fills), where idle room in bought servers left the same
kind of tie (examples/fleet-mix.yaml moved at HiGHS random_seed 1).

This replaces hR63's per-(service, pool) pass (`scenario_caps.fewest_devices`, an exhaustive search over a pool's
options with no bound on their number): stage 1 is its rule over the whole phase, with no search to blow up.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from infraplan.planning.milp_start import quiet
from infraplan.planning.phased_mix import SHARE_MOST, MixOption


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
        if limit is not None and int(limit) < int(room[p].max()):  # (a larger limit caps nothing, and one past int64,
            room[p] = np.minimum(room[p], max(int(limit), 0))  # `available: 1e30`, raised OverflowError here: hS65)
    return np.maximum(room, used)  # never below what the answer holds (a limit it was given within)


def fill_fixed_servers(options: list[MixOption], x: np.ndarray, need: np.ndarray, room: np.ndarray,
                       watts: np.ndarray | None = None) -> np.ndarray:
    """Units per option chosen by the module's rule at `room` devices per (pool, phase) and `watts` per device of
    each pool (rounded to whole watts; None: the same for every pool, so stage 2 is the pool order alone); `x`
    (units per option, an assignment within `room` that covers `need`) for a phase where a stage fails."""
    out = np.asarray(x).astype(int).copy()
    w = (np.zeros(room.shape[0], dtype=np.int64) if watts is None
         else np.rint(np.asarray(watts, dtype=float)).astype(np.int64))
    for k in range(need.shape[1]):
        mine = [i for i, o in enumerate(options) if o.phase == k and need[o.service, k] > 0]
        if not mine:
            continue
        free = room[:, k].astype(float).copy()
        for i, o in enumerate(options):  # units of a service without demand here keep their devices
            if o.phase == k and need[o.service, k] <= 0 and out[i] > 0:
                free[o.pool] -= out[i] * o.unit_devices
        got = _phase(options, mine, need[:, k], free, w)
        if got is not None:
            out[mine] = got
    return out


class _Stages:
    """A phase's programme (demand rows, room rows, unit bounds) to which each stage's optimum is added as a row."""

    def __init__(self, rows: np.ndarray, lb: np.ndarray, ub: np.ndarray, most: np.ndarray) -> None:
        self.rows, self.lb, self.ub, self.most = rows, lb, ub, most

    def least(self, c: np.ndarray, *keep: np.ndarray) -> np.ndarray | None:
        """The units of least integer objective `c` (HiGHS, relative gap 0); then each of `keep` (c itself where
        none) at most its value there, a row of the next stages. None where HiGHS ends other than optimal."""
        n = len(c)
        with quiet():  # HiGHS's stray stdout line (milp_start)
            res = milp(c.astype(float), constraints=LinearConstraint(self.rows, self.lb, self.ub),
                       integrality=np.ones(n), bounds=Bounds(np.zeros(n), self.most), options={"mip_rel_gap": 0.0})
        if res.status != 0 or res.x is None:
            return None
        units = np.round(res.x).astype(np.int64)
        for row in keep or (c,):
            self.rows = np.vstack([self.rows, row.astype(float)])
            self.lb = np.append(self.lb, -np.inf)
            self.ub = np.append(self.ub, float(row @ units))  # an integer: "at most" it is exact
        return units


def _phase(options: list[MixOption], mine: list[int], need: np.ndarray, free: np.ndarray,
           watts: np.ndarray) -> np.ndarray | None:
    """One phase's stages (module docstring); None where one fails."""
    opts = [options[i] for i in mine]
    services = sorted({o.service for o in opts})
    pools = sorted({o.pool for o in opts})
    rows = np.zeros((len(services) + len(pools), len(opts)))
    for j, o in enumerate(opts):
        rows[services.index(o.service), j] = min(o.capacity / need[o.service], SHARE_MOST)  # (as the MILP's rows)
        rows[len(services) + pools.index(o.pool), j] = o.unit_devices
    lb = np.concatenate([np.full(len(services), 1.0), np.full(len(pools), -np.inf)])
    ub = np.concatenate([np.full(len(services), np.inf), np.maximum(free[pools], 0.0)])
    most = np.array([_most_units(o, need[o.service], free[o.pool]) for o in opts], dtype=float)
    stages = _Stages(rows, lb, ub, most)
    devices = np.array([o.unit_devices for o in opts], dtype=np.int64)
    units = stages.least(devices)  # 1. the fewest devices
    if units is not None and len(pools) > 1:  # (one pool: stage 2's keys are stage 1's times constants)
        at = np.array([o.pool for o in opts], dtype=np.int64)
        order = devices * at
        for c, keep in _power_then_order(devices @ units, devices * watts[at], order, watts[pools], at):
            units = stages.least(c, *keep)
            if units is None:
                break
    if units is not None:  # 3. the earlier options
        units = stages.least(np.array([i + 1 for i in mine], dtype=np.int64))
    return units


def _power_then_order(busy: int, power: np.ndarray, order: np.ndarray, pool_watts: np.ndarray,
                      at: np.ndarray) -> list[tuple[np.ndarray, tuple[np.ndarray, ...]]]:
    """Stage 2's solves, each an objective and the rows its optimum adds: the least power, then the least pool
    order, at `busy` devices in use (stage 1's optimum). One solve of `scale` x power + order where that weighting
    is exact and small (module docstring); two where it is not; the order alone where the pools' watts are equal
    (power is then stage 1's devices times them)."""
    if int(np.ptp(pool_watts)) == 0:
        return [(order, ())]
    scale = int(np.ptp(at)) * int(busy) + 1  # more than the order of two assignments of `busy` devices differs by
    if (scale * int(np.max(pool_watts)) + int(np.max(at))) * int(busy) < MERGE_BELOW:  # its largest value
        merged = scale * power + order
        return [(merged, (power, order))]
    return [(power, ()), (order, ())]


MERGE_BELOW = 2**40  # a merged objective's largest value: a double's spacing there (2^-12) and HiGHS's absolute
# tolerances (1e-6 feasibility and gap) are far below its step of 1, so its least is the lexicographic least


def _most_units(o: MixOption, need: float, free: float) -> int:
    """The most units of `o` worth a place: what covers the demand alone (1 for a whole option), and what its
    pool's room holds."""
    if o.capacity <= 0 or free < o.unit_devices:
        return 0
    alone = 1 if o.whole else max(1, math.ceil(need / o.capacity))
    return min(alone, int(free // o.unit_devices))
