"""Steps 3 and 4 of `infraplan plan` (planning/scenario.py): the MILP's answer packed, powered, costed and reported.

Each pool's devices in a phase (the services' units, the policy's spare nodes, the installed base's whole servers,
`whole_base`; bought hardware stays until it retires: a pool whose whole fleet retires keeps a row of 0 in service
with its retired devices, `retired_row`) are packed into servers and racks at their site with the policy's N+k spare
racks (`packed`: the rack layout and scale-out fabric `campus` and `facility` build, costed by the one cost model
through planning/pool_money.py), summed into sites (facility power against the site's power cap of the phase,
`site_caps`: 0 before the site is online) and phases (tCO2e operational, embodied and their sum, as `facility`
reports them); H100-equivalents are dense bf16 peak / H100's (Epoch AI's convention, planning/campus.py).

Money to spend apart from the fleet's value (hL45, session 43; named so in hL47, session 44): `capex_usd` is the
money a phase spends, a pool's `fleet_value_usd` (its whole fleet at the one cost model's capex, installed base
included) less the phase before's (the installed base's whole servers priced by the same cost model before the first
phase, without N+k racks, which are bought), so fleet value = `installed_base_value_usd` + the phases' capex_usd
summed (unless a phase's larger fleet prices lower: its capex is $0, not money back, `capex_new`), and the plan's
`capex_usd` is that sum; with planning/site_building.py's SITE_BUILDING_REUSE a pool's facility share is charged only
for its site's IT above the site's peak so far (a refresh reuses the building, hN57). (Until 2026-12-04 `capex_usd`
was the fleet's value and `capex_new_usd` the money: a planner reading capex as money to spend counted the owned
base as bought.) TCO is the fleet's, the base amortised
too: owned hardware has an economic cost (its price over its life) whether or not the plan pays for it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np

from infraplan.catalog.answer_bands import parts_band
from infraplan.catalog.error_bands import FACILITY_STACK
from infraplan.facility.facility import total_co2_t_per_year
from infraplan.identity_memo import IdentityMemo
from infraplan.planning.campus import h100_equivalents
from infraplan.planning.device_money import part_domain_note as domain_note
from infraplan.planning.device_money import past_system_note
from infraplan.planning.llm_precision import mixed_precision_notes
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.plan_dates import span_text, year_text
from infraplan.planning.pool_capacity import labelled_notes
from infraplan.planning.pool_money import (
    PoolMoney,
    node_devices,
    pool_figures_note,
    pool_money,
    pool_network_notes,
    pool_note,
    pool_spares,
)
from infraplan.planning.pool_units import pool_ref
from infraplan.planning.retirement import bought_ahead, lifecycles, out_of_service, servers_in_service
from infraplan.planning.scenario_results import (
    ScenarioPhaseRow,
    ScenarioPlan,
    ScenarioPoolRow,
    ScenarioServiceRow,
    ScenarioSiteRow,
)
from infraplan.planning.scenario_sizing import Sized, demand, pool_kind
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec
from infraplan.planning.site_use import unused_site_notes
from infraplan.units import power_text


def part_domain_note(pool: PoolSpec, devices: int) -> str | None:
    """`device_money.part_domain_note` of a plan pool (its system, else its device: `pool_ref`)."""
    return domain_note(pool.name, pool_ref(pool), devices)


def site_caps(spec: ScenarioSpec) -> np.ndarray:
    """Each site's power cap (W) per phase (sites x phases): 0 before the site's `online_year`."""
    return np.array([[0.0 if (s.online_year or 0) > ph.year else s.power for ph in spec.phases] for s in spec.sites])


def whole_base(spec: ScenarioSpec) -> np.ndarray:
    """Each pool's installed base in whole servers, devices (pools x 1): what the plan keeps and the MILP's lower
    bound (planning/phased_mix.py). A base that is not whole servers (1,001 H100 on 8-GPU servers) has a partial
    server the layout cannot use: a server's GPUs are one SXM/OAM baseboard or an NVL tray, built and sold whole,
    not topped up, so the odd devices are left out (not powered, priced or counted) and named (`odd_base`), rather
    than completed by devices reported as bought."""
    return np.array([[p.installed // node_devices(p) * node_devices(p)] for p in spec.pools], dtype=int)


def odd_base(spec: ScenarioSpec) -> list[str]:
    """One warning per pool whose installed base is not whole servers (`whole_base`)."""
    out = []
    for pool, (whole,) in zip(spec.pools, whole_base(spec), strict=True):
        odd, g = pool.installed - int(whole), node_devices(pool)
        if odd:
            out.append(f"pool {pool.name}: installed {pool.installed:,} {pool.device} is not whole {g}-device "
                       f"servers: the plan keeps {int(whole) // g:,} servers ({int(whole):,} devices); the other "
                       f"{odd:,} {'device is' if odd == 1 else 'devices are'} not usable in the server layout (a "
                       "server's baseboard or tray is built whole, not topped up) and left out of its devices, power, "
                       "money and carbon")
    return out


def idle_stacks(spec: ScenarioSpec) -> list[str]:
    """One warning per pool whose serving `stack` no LLM deployment can read (planning/fields_read.py: a scenario
    without an LLM service is refused at load): its LLM services have no demand in any phase the pool has devices
    in (`retirement.out_of_service`) and its site online, so the MILP has no LLM option on it. A warning, not an
    error: the stack is unused, the plan is sound, and a what-if that moves a phase or a delivery year keeps the
    pool's line."""
    out = []
    for p, pool in enumerate(spec.pools):
        if pool.stack is None:
            continue
        site = next(s for s in spec.sites if s.name == pool.site)
        open_phases = [ph for k, ph in enumerate(spec.phases)
                       if out_of_service(spec, p, k) is None and (site.online_year or 0) <= ph.year]
        llm = [s for s in spec.services if s.kind == "llm"]
        if not any(demand(s, ph.name, spec.policy.headroom) > 0 for s in llm for ph in open_phases):
            names = ", ".join(s.name for s in llm)
            where = ", ".join(ph.name for ph in open_phases) or "none: it is never delivered with its site online"
            out.append(f"pool {pool.name}: stack {pool.stack} is unused: no LLM deployment runs on the pool, since "
                       f"llm service{'s' if len(llm) > 1 else ''} {names} {'have' if len(llm) > 1 else 'has'} no "
                       f"demand in the phases the pool is in ({where})")
    return out


def past_lifetime(spec: ScenarioSpec, pools: list[ScenarioPoolRow]) -> list[str]:
    """One warning per pool whose devices the plan buys in a phase (a row's `new_devices`, the installed base not
    among them) are still in service in a later phase more than their `lifetime_years` on, which only a plan with
    `policy.retire_at_lifetime: false` keeps (planning/retirement.py): such devices are kept in service and the cost
    model's TCO still charges their servers' depreciation every year (price / life), a charge that ends when the
    servers are paid off (hV53: 8 H100 on a 2-year life bought in 2025 are in the 2032 phase, depreciation charged in
    both phases). A warning: the plan is the MILP's answer; the planner is told what it assumed."""
    if spec.policy.retire_at_lifetime:
        return []  # nothing serves past its life (retirement.check_lifecycles refuses a phase step beyond it)
    year = {ph.name: ph.year for ph in spec.phases}

    def named(phase: str) -> str:
        return phase if phase == year_text(year[phase]) else f"{phase} ({year_text(year[phase])})"

    out = []
    for pool in spec.pools:
        rows = [r for r in pools if r.pool == pool.name]
        late = next(((r, later) for i, r in enumerate(rows) if r.new_devices > 0 for later in rows[i + 1:]
                     if year[later.phase] - year[r.phase] > pool.lifetime_years), None)
        if late is not None:
            bought, later = late
            out.append(f"pool {pool.name}: {bought.new_devices:,} devices bought in {named(bought.phase)} are still "
                       f"in service in {named(later.phase)}, {span_text(year[later.phase] - year[bought.phase])} "
                       f"years on, past their {pool.lifetime_years:g}-year lifetime_years: "
                       "policy.retire_at_lifetime is false, so the plan neither retires nor refreshes them, and the "
                       "TCO keeps charging their servers' depreciation after they are paid off")
    return out


# (installed, survivors, base, priced parts only) -> money spent per (pool, phase): planning/site_building.site_spends
SiteSpends = Callable[[ScenarioSpec, np.ndarray, np.ndarray, np.ndarray, bool], list[list[float | None]]]
# `pool_money` answers by scenario (its identity: a frozen spec, held by the memo) and (pool, devices); emptied at the
# bound. `plan --optimality-gap` prices every count and each count's N+k racks, the devices of a count k racks above.
_MONEY: IdentityMemo[PoolMoney] = IdentityMemo(4096)


def _money(spec: ScenarioSpec, pool: PoolSpec, n: int) -> PoolMoney:
    """`pool_money` of `n` devices of a pool at its site, each size priced once (`_MONEY`)."""
    kept = _MONEY.get(spec, (pool.name, n))
    if kept is not None:
        return kept
    site = next(s for s in spec.sites if s.name == pool.site)
    return _MONEY.put(spec, (pool.name, n), pool_money(spec, pool, site, n))


def packed(spec: ScenarioSpec, pool: PoolSpec, devices: int) -> PoolMoney:
    """A pool's `devices` packed at its site, with the policy's N+k spare racks; each size priced once (`_MONEY`)."""
    m = _money(spec, pool, devices)
    if spec.policy.redundancy_racks:
        m = _money(spec, pool, m.devices + spec.policy.redundancy_racks * m.devices_per_rack)
    return m


def base_money(spec: ScenarioSpec, pool: PoolSpec, devices: int) -> PoolMoney:
    """A pool's installed base of `devices` (its whole servers) as it stands before the first phase: no N+k racks."""
    return _money(spec, pool, devices)


def base_capex(spec: ScenarioSpec, pool: PoolSpec, devices: int, priced: bool = False) -> float | None:
    """The capex of a pool's installed base (its whole servers, `whole_base`) by the one cost model, as it stands
    before the first phase (no N+k racks added to it): $0 without a base, None where the pool has no price.
    `priced`: over its priced parts (`PoolMoney.priced_parts`: never None)."""
    if devices <= 0:
        return 0.0
    m = _money(spec, pool, devices)
    return (m.priced_parts() if priced else m).capex_usd


def value_before(spec: ScenarioSpec, pool: PoolSpec, phase: int, survivors: int, base: int,
                 priced: bool = False) -> float | None:
    """A pool's fleet value before phase `phase` buys (`capex_new`'s `before`): in the first phase its installed
    base's (`base_capex`, no N+k racks), else its survivors' packed (`packed`; survivors = the phase before's fleet
    where nothing retires: retirement.in_service); $0 without survivors, None where the pool has no price.
    `priced`: over its priced parts (hK77)."""
    if phase == 0:
        return base_capex(spec, pool, base, priced)
    if survivors <= 0:
        return 0.0
    m = packed(spec, pool, survivors)
    return (m.priced_parts() if priced else m).capex_usd


def capex_new(now: float | None, before: float | None) -> float | None:
    """The money spent on a pool in a phase: its capex after the phase less before it (`assemble_plan`), the new
    devices with the servers, racks, fabric and facility share their count adds; None where the pool has no price.
    Never below $0: a larger fleet the cost model prices lower (a system's own fabric at its exact size, left for
    a built one) is not money back."""
    return None if now is None or before is None else max(0.0, now - before)


def retired_row(spec: ScenarioSpec, pool: PoolSpec, phase: str, retired: int) -> ScenarioPoolRow:
    """The row of a pool whose whole fleet retires in `phase`: 0 devices in service (no racks, fabric, power, money or
    carbon: each figure of nothing is 0) and its `retired` devices, so a reader of the pool rows keeps them."""
    zero = dict.fromkeys(("racks", "network_tiers", "switches", "devices", "new_devices"), 0)
    return ScenarioPoolRow(phase=phase, pool=pool.name, device=pool.device, site=pool.site, retired_devices=retired,
                           **zero, **dict.fromkeys((
                               "h100_equivalents", "it_power_w", "facility_power_w", "facility_power_average_w",
                               "capex_usd", "fleet_value_usd", "tco_usd_per_year", "energy_mwh_per_year",
                               "co2_t_per_year", "embodied_co2_t_per_year", "total_co2_t_per_year"), 0.0))


def assemble_plan(spec: ScenarioSpec, options: list[MixOption], sized: dict[int, Sized], x: np.ndarray,
              need: np.ndarray, excluded: list[str], start: float,
              site_spends: SiteSpends | None = None) -> ScenarioPlan:
    """The plan of the MILP's units `x` per option: service rows, each pool packed per phase (`packed`, spares and
    N+k racks), sites against their caps, phase totals, and the notes and warnings (module docstring). `site_spends`
    (planning/site_building.py, hN57): each (pool, phase)'s money spent from the fleet in service, survivors and
    base, in place of `capex_new` per pool."""
    phases, n_p = spec.phases, len(spec.pools)
    used = np.zeros((n_p, len(phases)), dtype=int)
    services: list[ScenarioServiceRow] = []
    for i, o in enumerate(options):
        if x[i] <= 0:
            continue
        used[o.pool, o.phase] += int(x[i]) * o.unit_devices
        s = sized[i]
        services.append(ScenarioServiceRow(
            phase=phases[o.phase].name, service=spec.services[o.service].name, kind=spec.services[o.service].kind,
            pool=spec.pools[o.pool].name, devices=int(x[i]) * o.unit_devices,
            replicas=None if s.unit_replicas is None else int(x[i]) * s.unit_replicas,
            demand=float(need[o.service, o.phase]), served=float(x[i]) * (need[o.service, o.phase] if s.whole
                                                                           else s.capacity),
            demand_unit=s.demand_unit, slo_headroom=s.slo_headroom, detail=s.detail,
            time_to_train_s=s.time_to_train_s, optimizer=s.optimizer, checkpoint_bytes=s.checkpoint_bytes,
            checkpoint_write_s=s.checkpoint_write_s, mfu=s.mfu, goodput=s.goodput, serving_stack=s.serving_stack,
            serving_stack_basis=s.serving_stack_basis, weight_dtype=s.weight_dtype, kv_dtype=s.kv_dtype,
            precision=s.precision))
    spares = [[pool_spares(spec, pool, int(used[p, k])) for k in range(len(phases))]
              for p, pool in enumerate(spec.pools)]
    spare_dev = np.array([[0 if s is None else s.spare_devices for s in row] for row in spares], dtype=int)
    base, cycles = whole_base(spec), lifecycles(spec)
    g = np.array([[node_devices(pool)] for pool in spec.pools], dtype=int)  # whole servers retire (hI54)
    installed, survive = servers_in_service(used + spare_dev, base, g, cycles)  # bought stays until it retires
    by_site = None if site_spends is None else site_spends(spec, installed, survive, base, False)  # hN57
    priced_by_site = None if site_spends is None else site_spends(spec, installed, survive, base, True)  # hK77
    pools: list[ScenarioPoolRow] = []
    gone: list[str] = []  # pools whose last devices retire in a phase (a row of 0 in service, `retired_row`)
    warnings: list[str] = odd_base(spec) + idle_stacks(spec) + [
        f"{ph.name}: pool {pool.name} needs {int(used[p, k] + spare_dev[p, k]):,} devices with its "
        f"{int(spare_dev[p, k]):,} spares, above the {pool.available:,} available"
        for p, pool in enumerate(spec.pools) for k, ph in enumerate(phases)
        if pool.available is not None and spare_dev[p, k] and used[p, k] + spare_dev[p, k] > pool.available]
    sites: list[ScenarioSiteRow] = []
    phase_rows: list[ScenarioPhaseRow] = []
    caps = site_caps(spec)
    packed_before = base[:, 0].copy()  # the installed base is in place before the first phase: not delivered
    base_value = [base_capex(spec, pool, int(base[p, 0])) for p, pool in enumerate(spec.pools)]
    for k, ph in enumerate(phases):
        rows, retired = [], [0] * n_p  # devices leaving service in this phase (retirement.py)
        for p, pool in enumerate(spec.pools):
            n = int(installed[p, k])
            if k and survive[p, k] < installed[p, k - 1]:  # some retire: the survivors' packing
                kept = packed(spec, pool, int(survive[p, k])).devices if survive[p, k] > 0 else 0
                retired[p], packed_before[p] = int(packed_before[p]) - kept, kept
            if n <= 0:
                if retired[p]:  # its whole fleet leaves service: a row of 0 in service carries the retired count
                    gone.append(f"{ph.name}: pool {pool.name}'s last {retired[p]:,} devices retire at their "
                                f"{pool.lifetime_years:g}-year lifetime_years (planning/retirement.py)")
                    rows.append(retired_row(spec, pool, ph.name, retired[p]))
                continue
            m = packed(spec, pool, n)
            prev, packed_before[p] = int(packed_before[p]), m.devices
            spent = by_site[p][k] if by_site is not None else capex_new(
                m.capex_usd, value_before(spec, pool, k, int(survive[p, k]), int(base[p, 0])))
            spent_priced = priced_by_site[p][k] if priced_by_site is not None else capex_new(  # hK77: = spent priced
                m.priced_capex_usd, value_before(spec, pool, k, int(survive[p, k]), int(base[p, 0]), True))
            h100e = 0.0 if pool_kind(pool) == "video-asic" else h100_equivalents(pool.system or pool.device,
                                                                                   m.devices)
            sp = spares[p][k]
            rows.append(ScenarioPoolRow(
                phase=ph.name, pool=pool.name, device=pool.device, site=pool.site, devices=m.devices,
                new_devices=max(0, m.devices - prev), retired_devices=retired[p], racks=m.racks,
                network_tiers=m.tiers, switches=m.switches,
                h100_equivalents=h100e, it_power_w=m.it_w, facility_power_w=m.facility_w, capex_usd=spent,
                facility_power_average_w=m.facility_average_w,  # energy's draw (pool_money, hC57)
                fleet_value_usd=m.capex_usd, fleet_value_priced_usd=m.priced_capex_usd,
                capex_priced_usd=float(spent_priced or 0.0), tco_priced_usd_per_year=m.priced_tco_usd_per_year,
                tco_usd_per_year=m.tco_usd_per_year, energy_mwh_per_year=m.energy_mwh_per_year,
                co2_t_per_year=m.co2_t_per_year, embodied_co2_t_per_year=m.embodied_co2_t_per_year,
                total_co2_t_per_year=total_co2_t_per_year(m.co2_t_per_year, m.embodied_co2_t_per_year),
                embodied_co2_reason=m.embodied_co2_reason, spare_nodes=0 if sp is None else sp.spare_nodes,
                spare_devices=0 if sp is None else sp.spare_devices,
                idle_devices=max(0, _money(spec, pool, n).devices - int(used[p, k] + spare_dev[p, k])),
                expected_nodes_down=0.0 if sp is None else sp.expected_nodes_down,
                node_failures_per_hour=None if sp is None else sp.node_failures_per_hour,
                node_out_of_service_fraction=None if sp is None else sp.node_out_of_service_fraction,
                spare_rate_basis=None if sp is None else sp.rate_basis,
                repair_time_s=None if sp is None else sp.repair_s,
                failure_rate_source=None if sp is None else f"{sp.failure_rate}: {sp.source}",
                cost_reason=m.cost_reason))
        pools += rows
        for si, site in enumerate(spec.sites):
            mine = [r for r in rows if r.site == site.name]
            fac = sum(r.facility_power_w for r in mine)
            cap = float(caps[si, k])
            if fac > cap * (1 + 1e-9):
                warnings.append(f"{ph.name}: site {site.name} needs {power_text(fac)} after packing (racks, "
                                f"fabric, spares), above its {power_text(cap)} cap")
            sites.append(ScenarioSiteRow(phase=ph.name, site=site.name, location=site.location or "us-average",
                                         power_cap_w=cap, facility_power_w=fac,
                                         it_power_w=sum(r.it_power_w for r in mine),
                                         utilisation=fac / cap if cap > 0 else (0.0 if fac == 0 else math.inf)))
        phase_rows.append(ScenarioPhaseRow(
            phase=ph.name, year=ph.year, devices=sum(r.devices for r in rows),
            new_devices=sum(r.new_devices for r in rows), retired_devices=sum(retired),
            **{f: _total([getattr(r, f) for r in rows]) for f in (
                "h100_equivalents", "facility_power_w", "facility_power_average_w", "capex_usd", "fleet_value_usd",
                "tco_usd_per_year", "energy_mwh_per_year",
                "co2_t_per_year", "embodied_co2_t_per_year", "total_co2_t_per_year")},
            **{f: float(sum(getattr(r, f) for r in rows)) for f in (  # hK77: the priced parts' sums
                "capex_priced_usd", "fleet_value_priced_usd", "tco_priced_usd_per_year")}))
    warnings += past_lifetime(spec, pools)
    last = phase_rows[-1]
    unpriced = unpriced_reasons(pools, last.phase)
    band, basis = parts_band([r.device for r in pools if r.phase == last.phase and r.devices > 0], FACILITY_STACK,
                             "facility", "it_power", "the last phase's IT power", SCENARIO_NOT_VALIDATED)  # hE40
    return ScenarioPlan(
        scenario=spec.name, objective=spec.policy.objective, phases=phase_rows, services=services, pools=pools,
        sites=sites, devices=last.devices, h100_equivalents=last.h100_equivalents,
        facility_power_w=last.facility_power_w, facility_power_average_w=last.facility_power_average_w,
        capex_usd=_total([ph.capex_usd for ph in phase_rows]),
        installed_base_value_usd=_total([v for p, v in enumerate(base_value) if base[p, 0] > 0]),
        fleet_value_usd=last.fleet_value_usd, tco_usd_per_year=last.tco_usd_per_year,
        capex_priced_usd=float(sum(ph.capex_priced_usd for ph in phase_rows)),
        fleet_value_priced_usd=last.fleet_value_priced_usd, tco_priced_usd_per_year=last.tco_priced_usd_per_year,
        capex_unpriced_parts=list(dict.fromkeys(f"servers of pool {r.pool} ({r.device})" for r in pools
                                                if r.cost_reason and r.devices > 0)),
        energy_mwh_per_year=last.energy_mwh_per_year, co2_t_per_year=last.co2_t_per_year,
        embodied_co2_t_per_year=last.embodied_co2_t_per_year, total_co2_t_per_year=last.total_co2_t_per_year,
        embodied_co2_reason="; ".join(dict.fromkeys(r.embodied_co2_reason for r in pools if r.embodied_co2_reason
                                                    and r.phase == last.phase)) or None,
        excluded=excluded,
        warnings=warnings, solver="phased fleet-mix MILP (scipy.optimize.milp, HiGHS branch and cut)",
        wall_time_s=time.perf_counter() - start, published=dict(spec.published),
        cost_reason=unpriced,
        price_note="; ".join(note for p in spec.pools if any(r.pool == p.name and r.devices > 0
                                                             and r.phase == last.phase for r in pools)
                             and (note := pool_note(p))) or None,
        figures_note="; ".join(note for p in spec.pools if any(r.pool == p.name and r.devices > 0 for r in pools)
                               and (note := pool_figures_note(p))) or None,
        notes=list(dict.fromkeys(f"{spec.services[o.service].name} on {spec.pools[o.pool].name}: {note}"
                                 for i, o in enumerate(options) if x[i] > 0 and (note := sized[i].goodput_note)))
        + labelled_notes((spec.services[o.service].name, spec.pools[o.pool].name, sized[i].notes)  # video, recsys
                         for i, o in enumerate(options) if x[i] > 0)
        + gone + bought_ahead(spec, used + spare_dev, installed, survive, cycles)  # hR70
        + [note for r in pools if r.phase == last.phase  # the last phase's packed devices (whole servers)
           and (note := part_domain_note(next(q for q in spec.pools if q.name == r.pool), r.devices))]
        + pool_network_notes(spec, [(r.pool, r.site, r.devices) for r in pools if r.phase == last.phase
                                    and r.devices > 0])  # hC76: the fabric's ASSUMED prices
        + [note for q in spec.pools if (note := past_system_note(q.name, pool_ref(q), max(  # hP73: past its size
            (r.devices for r in pools if r.pool == q.name), default=0)))]
        + mixed_precision_notes([(spec.services[o.service], spec.pools[o.pool], sized[i])  # hC58: an LLM service's
                                 for i, o in enumerate(options) if i in sized])  # pools at different precisions
        + unused_site_notes(spec, sites, pools),  # hT59: a site left empty, and why
        error_band=band, error_band_basis=basis)


SCENARIO_NOT_VALIDATED = (
    "not in this band: the demand (an input: a plan's services and their growth are stated, not modelled), the "
    "devices each service needs (its sizing model's error: training `train`'s band, LLM `serve-plan`'s, recsys and "
    "video none; not propagated here), the facility power's PUE (no validation case) and the money (one cost "
    "campaign: no band)")


def unpriced_reasons(pools: list[ScenarioPoolRow], last: str) -> str | None:
    """Every phase's pools without a price (hK2-77: the last phase's only, while one earlier makes capex null); a pool
    out of the last phase (retired) names its phases: its servers are then left out of capex, not fleet value or TCO."""
    phases = {r.pool: [q.phase for q in pools if q.pool == r.pool and q.cost_reason] for r in pools if r.cost_reason}
    said = {p: "" if last in ph else f" (in {', '.join(ph)}: capex only)" for p, ph in phases.items()}
    return "; ".join(dict.fromkeys(f"{r.cost_reason}{said[r.pool]}" for r in pools if r.cost_reason)) or None


def _total(values: list[float | None]) -> float | None:
    """A phase's sum over its pools; None when a pool has no price (money) or no embodied figure (carbon)."""
    return None if any(v is None for v in values) else float(sum(v for v in values if v is not None))
