"""`plan`'s phased MILP under its sites' power caps with the packed power counted (planning/scenario.py's step
2, last part): the programme's caps are linear in its whole servers at the reference watts per device, and the
packing (racks, the fabric at the solution's size, the policy's spare nodes and N+k racks: planning/scenario_report.py
`packed`, planning/spares.py) adds power that is not; while a solution's packed facility power exceeds a cap, the
MILP is solved again with each pool's watts per device scaled by its packed power / (reference watts x the devices of
the whole servers used), at most `CAP_PASSES` solves (a cap the packed devices cannot fit under is one InputError).
Also the devices used, spares and idle units of an assignment, which the caps and the plan's pricing count, and
the assignment re-chosen at the servers the MILP fills by a stated rule (`trim_idle`, planning/fixed_servers.py,
hB64; hR63's per-pool pass before it), so `plan` reports serve-plan's answer where the MILP's tie among
assignments in the same servers left more, and the same rows whichever tied assignment HiGHS handed back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.errors import InputError
from infraplan.planning.fixed_servers import fill_fixed_servers, room_devices
from infraplan.planning.phased_mix import MixOption, PhasedMix, solve_phased_mix
from infraplan.planning.pool_money import node_devices, pool_spares
from infraplan.planning.retirement import lifecycles
from infraplan.planning.scenario_report import packed, site_caps, whole_base
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import Bracket

CAP_PASSES = 3  # MILP solves at most: re-solved with the packed power per device used while a cap is exceeded


def server_devices(spec: ScenarioSpec) -> np.ndarray:
    """Devices per server of every pool (a column: pools x 1), the unit the MILP buys."""
    return np.array([[node_devices(p)] for p in spec.pools], dtype=int)


def scenario_mix(spec: ScenarioSpec, sites: dict[str, int], years: list[float], **fields: Any) -> PhasedMix:
    """The phased MILP of a scenario: what the spec fixes (pools open from their `from_year`, availability, sites
    and their caps, names, whole servers, cohorts) and `fields` (demand, options, prices, watts, installed base,
    ...), the one build `capped_solve` and the two bounds (scenario_bound, purchase_bound) share."""
    return PhasedMix(
        available=[p.available for p in spec.pools],
        pool_open=np.array([[(p.from_year or 0) <= y for y in years] for p in spec.pools]),
        pool_site=[sites[p.site] for p in spec.pools], site_cap_w=site_caps(spec),
        service_names=[s.name for s in spec.services], pool_names=[p.name for p in spec.pools],
        site_names=[s.name for s in spec.sites], server_devices=[node_devices(p) for p in spec.pools],
        cohorts=lifecycles(spec), **{"phase_names": [ph.name for ph in spec.phases], **fields})


def capped_solve(spec: ScenarioSpec, options: list[MixOption], demand: np.ndarray, cost: np.ndarray,
                  watts: np.ndarray, phases: list[str], years: list[float], sites: dict[str, int],
                  brackets: dict[tuple[int, int], list[Bracket]] | None = None,
                  start: np.ndarray | None = None, purchase_cost: np.ndarray | None = None) -> np.ndarray:
    """The phased MILP at one set of prices, re-solved while the packed power exceeds a site cap (module
    docstring, step 2); the units per option with the idle ones trimmed. `start`: the units of an assignment
    feasible at the reference watts (the previous prices' answer), HiGHS's first incumbent in the first pass;
    `purchase_cost`: per device bought per (pool, phase), the capex objective under retirement (PhasedMix)."""
    spare_factor = np.ones(len(spec.pools))
    for attempt in range(CAP_PASSES):
        mix = scenario_mix(spec, sites, years, demand=demand, options=options, cost=cost,
                           watts_per_device=watts * spare_factor, phase_names=phases,
                           installed=[int(n) for n in whole_base(spec)[:, 0]], brackets=brackets,
                           purchase_cost=purchase_cost)
        try:
            x, _ = solve_phased_mix(mix, start if attempt == 0 else None)
        except InputError as exc:
            if attempt == 0:
                raise
            raise InputError(f"{exc} (with the packed racks, fabric and the policy's spare nodes counted against "
                             "the site power caps)") from exc
        x = trim_idle(options, x, mix.demand, server_devices(spec), mix.available, watts)
        used = used_devices(options, x, len(spec.pools), len(phases))
        packed_w = packed_facility_w(spec, used + spare_devices(spec, used))
        if not over_caps(spec, packed_w):
            break
        # the MILP's caps are linear in its whole servers: count each pool's packing (fabric at its size, spares)
        # as a power overhead per device of the servers used
        servers = -(-used // server_devices(spec)) * server_devices(spec)
        spare_factor = np.maximum(spare_factor, np.max(np.where(
            used > 0, packed_w / np.maximum(watts[:, None] * servers, 1e-9), 1.0), axis=1))
    return x


def used_devices(options: list[MixOption], x: np.ndarray, n_pools: int, n_phases: int) -> np.ndarray:
    used = np.zeros((n_pools, n_phases), dtype=int)
    for i, o in enumerate(options):
        if x[i] > 0:
            used[o.pool, o.phase] += int(x[i]) * o.unit_devices
    return used


def spare_devices(spec: ScenarioSpec, used: np.ndarray) -> np.ndarray:
    """Spare devices of every pool and phase for the devices used (planning/spares.py; 0 without the policy)."""
    spares = [[pool_spares(spec, pool, int(n)) for n in row] for pool, row in zip(spec.pools, used, strict=True)]
    return np.array([[0 if sp is None else sp.spare_devices for sp in row] for row in spares], dtype=int)


def packed_facility_w(spec: ScenarioSpec, devices: np.ndarray) -> np.ndarray:
    """Facility watts of `devices` (pools x phases) once packed (`packed`); 0 where a pool has none."""
    return np.array([[packed(spec, pool, int(n)).facility_w if n > 0 else 0.0 for n in row]
                     for pool, row in zip(spec.pools, devices, strict=True)])


def over_caps(spec: ScenarioSpec, packed_w: np.ndarray) -> bool:
    """Whether the packed facility watts (pools x phases) exceed a site's power cap."""
    caps = site_caps(spec)
    for si, site in enumerate(spec.sites):
        mine = [p for p, pool in enumerate(spec.pools) if pool.site == site.name]
        load = packed_w[mine].sum(axis=0)
        if np.any(load > caps[si] * (1 + 1e-9)):
            return True
    return False


def trim_idle(options: list[MixOption], x: np.ndarray, need: np.ndarray, server: np.ndarray | None = None,
              available: list[int | None] | None = None, watts: np.ndarray | None = None) -> np.ndarray:
    """Drop units the demand does not need. Idle units cost the MILP nothing where a pool's installed base
    is sunk (its per-unit charge is below HiGHS's gap), so a service can come back spread over several pools,
    each serving all of it. Removing units only lowers the devices used, so every other constraint still holds;
    the largest assignments go first, then divisible units one at a time. Then the assignment is re-chosen by a
    stated rule at the whole servers (`server` devices each per pool; None: 1) the MILP's answer fills, within
    `available` (planning/fixed_servers.py, hB64, hP64: the fewest devices, then the least power at `watts` per
    device of each pool (None: equal), then the earliest pools, then the earlier options), so the rows do not
    depend on which of the tied assignments HiGHS handed back."""
    n_pools = 1 + max((o.pool for o in options), default=-1)
    n_pools = max(n_pools, 0 if server is None else len(server), len(available or []))
    room = room_devices(options, x, server, available, n_pools, need.shape[1])
    x = x.copy()
    for s, k in zip(*np.nonzero(need > 0), strict=True):
        mine = sorted((i for i, o in enumerate(options) if o.service == s and o.phase == k and x[i] > 0),
                      key=lambda i: -x[i] * options[i].unit_devices)
        surplus = float(sum(x[j] * options[j].capacity for j in mine) - need[s, k])
        for i in mine:
            if surplus >= x[i] * options[i].capacity - 1e-9:
                surplus -= x[i] * options[i].capacity
                x[i] = 0
        for i in mine:
            while x[i] > 0 and surplus >= options[i].capacity - 1e-9:
                surplus -= options[i].capacity
                x[i] -= 1
    return fill_fixed_servers(options, x, need, room, watts)
