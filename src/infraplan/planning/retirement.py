"""Hardware retirement and refresh in `infraplan plan` (hV54): which devices leave service in which phase, and
what replaces them.

A pool's devices bought in the phase of year y are in service in a later phase of year Y while Y - y <
`lifetime_years` (the cost model's depreciation period, PoolSpec): they retire in the first phase at or after
y + lifetime_years (dates are float years, planning/plan_dates.py: bought in 2025 on a 5.5-year life, a device
retires in a 2030.5 phase where the plan has one, else the first after it). The installed base was bought in the
pool's `installed_year` (default: the first phase's year: the plan knows no older date). Retirement is the policy's
`retire_at_lifetime` (default true: a device past its depreciation period is paid off and out of warranty, and its
TCO charge, price / life, would otherwise go on; false keeps the plan before hV54, where bought hardware stays in
every later phase, named in a warning, scenario_report.past_lifetime). A phase's fleet serves until the next
phase (the objective weights it by those years), so a phase step longer than a pool's life would leave its devices
in service past their life: refused, one line (`check_lifecycles`).

Refresh: demand still present after a retirement is met by the MILP's purchases in that phase, of the pool's own
device, or, with a pool's `refresh_with: <accelerator>`, of the successor: from the first phase at or after the
pool's first devices' lifetime (the base's `installed_year`, else its first open phase, + lifetime_years) the pool
buys none of its own device (its survivors serve on until they retire) and a pool `<name>-refresh` of the
successor opens at the same site, with the pool's services, life and spares policy, at the
catalog's price on its generic node (its own device's price, system, stack and host power are not the
successor's). `available` with `refresh_with` is refused (hM54): the successor replaces the pool's devices, so the
cap a planner means is one over both pools' devices in service at once; a copy on each let the pair hold twice it,
and one MILP row over both is not enough (the report's fleet buys each pool's devices as late as it needs them: a
48-device cap held by the MILP buying 40 H100 in 2025 came back as 16 H100 bought in 2028 surviving beside 48
B200 in 2030, 64 in service). Both are priced, packed and powered as any pool (the one cost model,
planning/pool_money.py).

A plan in which nothing retires (no phase past any pool's life, or the policy off) is today's programme and
report, unchanged (`lifecycles` is None): the cohort rows and columns enter the MILP (planning/phased_mix.py) only
where a device retires.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.planning.plan_dates import YEAR_TOLERANCE, alive, at_or_after, span_text, year_text
from infraplan.planning.pool_units import COST_OBJECTIVES, missing_pool_price, node_devices
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec

REFRESH_SUFFIX = "-refresh"  # the successor pool's name: <pool><REFRESH_SUFFIX>


@dataclass(frozen=True)
class Lifecycle:
    """One pool's cohorts over the plan's phases: `alive[j, k]`, whether devices bought in phase j are in service
    in phase k (j <= k); `base_alive[k]`, whether its installed base is; `buy_open[k]`, whether it may buy in
    phase k (false before its `from_year` and from its successor's first phase: `refresh_with`)."""

    alive: np.ndarray
    base_alive: np.ndarray
    buy_open: np.ndarray


def _first_year(pool: PoolSpec, years: list[float]) -> float:
    """The year of a pool's first devices: its base's `installed_year` (default the first phase), else the first
    phase it is delivered in."""
    if pool.installed:
        return pool.installed_year or years[0]
    return next((y for y in years if y >= (pool.from_year or 0)), years[-1])


def successor_year(pool: PoolSpec, years: list[float]) -> float | None:
    """The first phase year at or after the pool's first devices' lifetime (`_first_year` + lifetime_years), from
    which a `refresh_with` pool buys its successor; None where no phase reaches it."""
    end = _first_year(pool, years) + pool.lifetime_years
    return next((y for y in years if at_or_after(y, end)), None)


def check_lifecycles(spec: ScenarioSpec) -> None:
    """InputError (one line) for a refresh_with that names no accelerator preset or is given with retirement off, an
    installed_year after the first phase or whose base is past its life in it, and, with retirement on, a step
    between phases longer than a pool's life (module docstring); `plan_scenario` checks it before any sizing."""
    years, phase_names = [ph.year for ph in spec.phases], [ph.name for ph in spec.phases]
    retire = spec.policy.retire_at_lifetime
    for pool in spec.pools:
        life = float(pool.lifetime_years)
        if pool.refresh_with is not None:
            if not retire:
                raise InputError(f"pool {pool.name!r}: refresh_with replaces retired devices, and "
                                 "policy.retire_at_lifetime is false: drop one")
            if pool.available is not None:  # hM54: one cap over the pool and its successor, see the docstring
                raise InputError(f"pool {pool.name!r}: available with refresh_with: the plan buys each pool's devices "
                                 "as late as it needs them, so a cap over the pool and its successor together is not "
                                 "held, and a cap on each lets the pair hold twice it; drop available, or plan the "
                                 "successor as its own pool (device, from_year, available)")
            try:
                Cluster.resolve(pool.refresh_with)
            except InputError as exc:
                raise InputError(f"pool {pool.name!r}: refresh_with: {exc}") from exc
        if pool.installed_year is not None:
            if pool.installed_year > years[0]:
                raise InputError(f"pool {pool.name!r}: installed_year {year_text(pool.installed_year)} is after the "
                                 f"first phase ({year_text(years[0])}): an installed base is in place before it")
            if not pool.installed:
                raise InputError(f"pool {pool.name!r}: installed_year dates an installed base, and the pool has "
                                 "none (installed: 0): drop it")
        if not retire:
            continue
        if pool.installed and not alive(years[0] - _first_year(pool, years), life):
            raise InputError(f"pool {pool.name!r}: its installed base, bought in {year_text(_first_year(pool, years))}"
                             f", is past its {life:g}-year lifetime_years in the first phase ({year_text(years[0])})")
        start = _first_year(pool, years)
        for k in range(1, len(years)):
            step = years[k] - years[k - 1]
            if years[k - 1] >= start and step > life + YEAR_TOLERANCE:
                raise InputError(
                    f"pool {pool.name!r}: lifetime_years {life:g} is shorter than the {span_text(step)} years from "
                    f"phase {phase_names[k - 1]} to {phase_names[k]}: its devices would serve past their life until "
                    "the next phase; add a phase within their life, or keep hardware past its life with "
                    "policy.retire_at_lifetime: false")


def lifecycles(spec: ScenarioSpec) -> list[Lifecycle] | None:
    """Each pool's cohorts (`Lifecycle`), or None where nothing retires within the plan's phases (or the policy
    keeps hardware past its life): today's programme, unchanged."""
    if not spec.policy.retire_at_lifetime:
        return None
    years = [ph.year for ph in spec.phases]
    n = len(years)
    out, retires = [], False
    for pool in spec.pools:
        life = float(pool.lifetime_years)
        alive_in = np.array([[j <= k and alive(years[k] - years[j], life) for k in range(n)] for j in range(n)])
        base_alive = np.array([not pool.installed or alive(y - _first_year(pool, years), life) for y in years])
        succ = successor_year(pool, years) if pool.refresh_with is not None else None
        buy_open = np.array([(succ is None or y < succ) and (pool.from_year or 0) <= y for y in years])
        retires |= bool((~alive_in[np.triu_indices(n)]).any() or (~base_alive).any())
        out.append(Lifecycle(alive_in, base_alive, buy_open))
    return out if retires else None


def out_of_service(spec: ScenarioSpec, p: int, k: int) -> str | None:
    """Why pool p can have no device in service in phase k, or None: not delivered yet (`from_year`) and no installed
    base of at least one whole server in service (the base serves before from_year, which dates new devices: hF56), or
    a `refresh_with` pool from its successor's year (it buys none of its own device) once its base and every earlier
    purchase have retired. The sizing skips it, naming why (hM54: the MILP's elastic LP blamed a site's power cap
    for a demand only the successor could meet, where the successor cannot serve it). The one test of a pool's
    presence in a phase: the spares' widest instance (`pool_money.pool_instance`), the tier brackets
    (`scenario_prices.bracket_prices`) and `scenario_report.idle_stacks` read it too (hM56: a `PoolSpec.present_in`
    beside it counted a retired or sub-server base as present)."""
    pool, years, cycles = spec.pools[p], [ph.year for ph in spec.phases], lifecycles(spec)
    whole = pool.installed >= node_devices(pool)  # (a partial server's base is left out: `scenario_report.whole_base`)
    base = whole and (cycles is None or cycles[p].base_alive[k])  # (in place before from_year: hF56)
    if pool.from_year is not None and pool.from_year > years[k] and not base:
        retired = ("" if not pool.installed else ", its installed base retired" if whole else
                   f", its installed {pool.installed:,} short of one whole {node_devices(pool)}-device server")
        return f"delivered from {year_text(pool.from_year)}{retired}"
    if cycles is None or cycles[p].buy_open[k] or (pool.installed and cycles[p].base_alive[k]):
        return None
    if any(cycles[p].alive[j, k] and cycles[p].buy_open[j] and (pool.from_year or 0) <= years[j] for j in range(k)):
        return None
    succ = successor_year(pool, years)
    return (f"refreshed by {pool.refresh_with} from {'?' if succ is None else year_text(succ)}: it buys no more "
            f"{pool.device}, and its earlier devices have retired (lifetime_years {float(pool.lifetime_years):g})")


def ahead(cycle: Lifecycle, k: int) -> int | None:
    """The phase that buys what phase k's survivors lack where k buys none of the pool's device (`buy_open` false:
    from its `refresh_with` successor's phase, or before its `from_year`): the last earlier phase that may buy and
    whose purchases are still in service in k (the latest, they serve longest), the MILP's only way to hold them
    there (planning/phased_mix.py: b[p, j] is 0 where it may not buy); None where k may buy, or no such phase
    (before the pool's `from_year` there is none: `in_service` then buys in k itself, which no answer needs, since
    the MILP assigns a pool nothing before it is delivered)."""
    if cycle.buy_open[k]:
        return None
    return next((j for j in range(k - 1, -1, -1) if cycle.buy_open[j] and cycle.alive[j, k]), None)


def in_service(need: np.ndarray, base: np.ndarray,
               cycles: list[Lifecycle] | None) -> tuple[np.ndarray, np.ndarray]:
    """Devices (or servers) each pool has in service per phase, and the survivors of earlier phases before the
    phase buys (pools x phases each), for `need` in service (pools x phases) over an installed `base` (pools x 1):
    what is bought stays until it retires (`cycles`; None: never), and a phase buys what its survivors lack, so
    bought = in service - survivors and retired = the phase before's in service - survivors. A phase that may not
    buy the pool's device (`buy_open` false) has what it lacks bought in the last phase that may and held until
    it is needed (`ahead`: hR70; it was bought in the phase itself, so hN57's meta-refresh as capex reported 16,384
    H100 bought in 2029H2, the phase its GB200 successor opens, a purchase the MILP cannot make). Without cycles
    the plan before hV54: in service = the running maximum of need and base."""
    need = np.asarray(need)
    if cycles is None:
        installed = np.maximum.accumulate(np.maximum(need, base), axis=1)
        return installed, np.concatenate([base, installed[:, :-1]], axis=1)
    installed, survivors = np.zeros_like(need), np.zeros_like(need)
    n_k = need.shape[1]
    for p, cyc in enumerate(cycles):
        bought = np.zeros(n_k, dtype=need.dtype)

        def alive(k: int, cyc: Lifecycle = cyc, bought: np.ndarray = bought, p: int = p) -> int:
            return (base[p, 0] if cyc.base_alive[k] else 0) + sum(bought[j] for j in range(k) if cyc.alive[j, k])

        for k in range(n_k):  # in order: a purchase ahead of k is in a phase before it, whose survivors it leaves
            early = ahead(cyc, k)
            bought[k if early is None else early] += max(0, need[p, k] - alive(k))
        for k in range(n_k):
            survivors[p, k] = alive(k)
            installed[p, k] = survivors[p, k] + bought[k]
    return installed, survivors


def with_successors(spec: ScenarioSpec) -> ScenarioSpec:
    """The scenario with a `<name>-refresh` pool of each `refresh_with` successor whose first phase the plan
    reaches (module docstring), delivered from that phase; the scenario itself where none is."""
    years = [ph.year for ph in spec.phases]
    pools = list(spec.pools)
    if lifecycles(spec) is None:
        return spec
    added = []
    for pool in pools:
        year = successor_year(pool, years) if pool.refresh_with is not None else None
        if year is None:
            continue
        added.append(type(pool).model_validate({
            "name": pool.name + REFRESH_SUFFIX, "device": pool.refresh_with, "site": pool.site,
            "available": pool.available, "from_year": year, "lifetime_years": pool.lifetime_years,
            "serves": pool.serves, "spare_trays_per_domain": pool.spare_trays_per_domain}))
    if not added:
        return spec
    for new in added:  # priced at the catalog's: a price missing there cannot be given on a pool the file lacks
        if spec.policy.objective in COST_OBJECTIVES and missing_pool_price(new) is not None:
            raise InputError(f"pool {new.name.removesuffix(REFRESH_SUFFIX)!r}: refresh_with {new.device}: the catalog "
                             f"has no price for it, and its successor pool is priced at the catalog's (objective "
                             f"{spec.policy.objective} needs a price): name a priced accelerator, or plan with "
                             "objective power or carbon")
    taken = {p.name for p in pools}
    clash = next((p.name for p in added if p.name in taken), None)
    if clash is not None:
        raise InputError(f"pool {clash!r} is the name of {clash.removesuffix(REFRESH_SUFFIX)!r}'s refresh_with "
                         "successor: rename it")
    return spec.model_copy(update={"pools": pools + added})


def servers_in_service(devices: np.ndarray, base: np.ndarray, g: np.ndarray,
                       cycles: list[Lifecycle] | None) -> tuple[np.ndarray, np.ndarray]:
    """`in_service` of `devices` (pools x phases) over a `base` of whole servers' devices (pools x 1) counted in the
    whole servers of g devices (pools x 1) the MILP buys and retires (planning/phased_mix.py's b[p, k]), in
    devices: a server bought for part of its devices serves and retires whole, so the report, the pricing and the
    MILP count one fleet (hI54: 4 H100 in 2025 and 6 in 2027 on one 8-GPU server, 4-year life: counted in devices,
    the 2030 phase kept 2 of 2027's devices and bought nothing, where the MILP retires the server and buys one).
    Without cycles `in_service` of the devices, as before hV54 (packing rounds them up to the same servers)."""
    if cycles is None:
        return in_service(devices, base, None)
    servers, survivors = in_service(-(-np.asarray(devices) // g), np.asarray(base) // g, cycles)
    return servers * g, survivors * g


def bought_ahead(spec: ScenarioSpec, need: np.ndarray, installed: np.ndarray, survivors: np.ndarray,
                 cycles: list[Lifecycle] | None) -> list[str]:
    """One note per pool and phase that buys ahead for later phases that may not buy its device (`ahead`): how many
    devices above its own need (`need` in service, whole servers of g; `installed` and `survivors` as
    `servers_in_service` gives them, in devices), for which phases, held in service until then (hR70)."""
    out = []
    for p, cycle in enumerate(cycles or []):
        pool, n_k = spec.pools[p], need.shape[1]
        g = node_devices(pool)
        for j in sorted({k for k in (ahead(cycle, i) for i in range(n_k)) if k is not None}):
            extra = int(installed[p, j] - max(-(-int(need[p, j]) // g) * g, survivors[p, j]))
            later = [spec.phases[k].name for k in range(n_k) if ahead(cycle, k) == j and need[p, k] > 0]
            if extra > 0 and later:
                out.append(f"{spec.phases[j].name}: pool {pool.name} buys {extra:,} {pool.device} ahead for "
                           f"{', '.join(later)}, where it buys none (refresh_with {pool.refresh_with}: from "
                           f"{year_text(successor_year(pool, [ph.year for ph in spec.phases]) or 0)}), and holds "
                           "them in service until then (planning/retirement.py)")
    return out
