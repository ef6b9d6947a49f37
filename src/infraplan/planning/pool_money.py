"""What a pool of `infraplan plan` draws and costs at its site: racks, fabric, IT and facility power, capex,
TCO per year, energy and tCO2e, with the power chain and the one cost model (`planning/device_money.py`, over
`cluster.cost.cluster_cost`: what `fleet-mix` charges for the same device at the same site); and
the pool's spare nodes (planning/spares.py). A pool at its system's exact size keeps the system's fabric; any other
count is built as `campus` and `facility` build it (`facility.campus_fabric.built_load`: non-blocking zones joined
at 1:7 above one zone), so the three commands give one IT power for the same accelerators.

A pool's price is its `price_usd_per_device` (server share included), else the catalog's server price per
accelerator (hardware_costs.yaml). Power, energy and carbon need no price: a pool with neither is packed and
powered with its servers at $0 and its money fields (capex, TCO) are None with a reason naming the missing price
(as `infraplan facility` does, facility/facility.py). Only a cost objective (capex, TCO) needs every pool priced;
`plan_scenario` refuses such a scenario in one line (`require_prices`).

A pool's `lifetime_years` is the servers' depreciation life of the cost model (`CostOverrides.server_life_years`;
its default, 5.5 years, is the catalog's economics.yaml figure: Meta's 10-K).

A video ASIC (MSVP) is not an accelerator of the catalog: its pool is costed with the same functions from its
device power plus its host share (the pool's `host_power_w`, else the device YAML's) and its price
(`price_usd_per_device`), in CPU hosts (`device_money.VIDEO_HOST_LAYOUT`), with no scale-out fabric; a CPU pool
neither (hK57: both are front-end inference hosts, their NIC in the host share, with every pool's storage / front-end
/ management share of server power: `device_money`'s "Network" rule).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from infraplan.catalog.hardware_costs import assumed_network_notes
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.identity_memo import IdentityMemo
from infraplan.planning.device_money import (
    DeviceMoney,
    cost_overrides,
    device_layout,
    device_money,
    device_site,
    missing_embodied,
    pool_notes,
    pool_price_note,
)
from infraplan.planning.pool_units import COST_OBJECTIVES, missing_pool_price, node_devices, pool_layout, pool_ref
from infraplan.planning.retirement import out_of_service
from infraplan.planning.scenario_sizing import Sized, demand, pool_accelerator, pool_kind, size_options
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec, SiteSpec
from infraplan.planning.spares import UNKNOWN_INSTANCE, Instance, Spares, spare_nodes


@dataclass(frozen=True)
class PoolMoney:
    """A pool's devices at its site: IT and facility power, capex, TCO/yr, energy, tCO2e (operational and
    embodied); racks and fabric. `capex_usd` and `tco_usd_per_year` are None when the pool has no price
    (`cost_reason` says why), `embodied_co2_t_per_year` when the catalog has no figure (`embodied_co2_reason`)."""

    devices: int
    racks: int
    tiers: int
    switches: int
    it_w: float
    facility_w: float
    capex_usd: float | None
    tco_usd_per_year: float | None
    energy_mwh_per_year: float
    co2_t_per_year: float
    devices_per_rack: int
    cost_reason: str | None = None
    embodied_co2_t_per_year: float | None = None  # `facility`'s embodied share per year (None: no catalog figure)
    embodied_co2_reason: str | None = None  # why it is None
    load_factor: float = 1.0  # the site's, its energy's: average / peak power (hC57: the pool's average draw)
    facility_capex_usd: float | None = None  # capex_usd's facility part, IT W x the site's $/W (planning/site_building)
    priced_capex_usd: float = 0.0  # the parts priced without a server price: network + facility (hK76; all if priced)
    priced_facility_usd: float = 0.0  # priced_capex_usd's facility part (= facility_capex_usd where priced; hK77)
    priced_tco_usd_per_year: float = 0.0  # the TCO of the priced parts: the servers at $0 where unpriced (hK77)

    @property
    def facility_average_w(self) -> float:
        """The average facility draw, the one energy_mwh_per_year counts: facility_w x the load factor."""
        return self.facility_w * self.load_factor

    def priced_parts(self) -> PoolMoney:
        """The same pool's money over its priced parts alone (hK77): itself where it is priced; without a server price
        its network and facility as capex and TCO (the servers at $0), so a plan's priced-part sums (`capex_priced_usd`,
        `tco_priced_usd_per_year`) run through the same spend rules as its capex (`site_building.site_spends`)."""
        if self.cost_reason is None:
            return self
        return replace(self, capex_usd=self.priced_capex_usd, tco_usd_per_year=self.priced_tco_usd_per_year,
                       facility_capex_usd=self.priced_facility_usd, cost_reason=None)


def pool_note(pool: PoolSpec) -> str | None:
    """The note of a pool priced at its what-if accelerator's inherited preset price (`pool_price_note`)."""
    return pool_price_note(pool.name, pool_ref(pool), pool.price_usd_per_device)


def pool_figures_note(pool: PoolSpec) -> str | None:
    """A scenario pool's `device_money.pool_notes` line (the one fleet-mix prints for the same device), of what its
    money is built from (`pool_ref`: its `system:` where it names one; hK71: the device's was read, so a system file's
    own sourced host figures were said ASSUMED by the device's catalog line)."""
    return pool_notes(pool.name, pool_ref(pool), pool.host_power_w)


def require_prices(spec: ScenarioSpec) -> None:
    """A cost objective needs every pool's price: one InputError line naming the first pool without one."""
    if spec.policy.objective not in COST_OBJECTIVES:
        return
    for pool in spec.pools:
        reason = missing_pool_price(pool)
        if reason is not None:
            raise InputError(f"{reason} (objective {spec.policy.objective} needs a price; objective power or "
                             "carbon plans without one)")


def pool_money(spec: ScenarioSpec, pool: PoolSpec, site: SiteSpec, devices: int) -> PoolMoney:
    """Pack, power and cost `devices` of a pool at its site with the power chain and the one cost model
    (`device_money.device_money`, what fleet-mix charges too)."""
    no_price, m = _device_money(spec, pool, site, devices)
    s = m.site
    return PoolMoney(m.devices, m.racks, m.tiers, m.switches, m.it_w, m.facility_w,
                     None if no_price else sum(m.capex_usd.values()),
                     None if no_price else m.annual.tco_usd_per_year, m.energy_mwh_per_year, m.co2_t_per_year,
                     m.devices_per_rack, no_price, m.embodied_co2_t_per_year,
                     None if m.embodied_co2_t_per_year is not None else missing_embodied(pool.name, pool_ref(pool)),
                     s.load_factor, None if no_price else m.capex_usd["facility"],
                     sum(v for k, v in m.capex_usd.items() if not no_price or k != "servers"),
                     m.capex_usd["facility"], m.annual.tco_usd_per_year)


def _device_money(spec: ScenarioSpec, pool: PoolSpec, site: SiteSpec, devices: int) -> tuple[str | None, DeviceMoney]:
    """(why the pool is unpriced or None, `device_money` of `devices` of it at its site)."""
    no_price = missing_pool_price(pool)
    over = cost_overrides(spec.policy.electricity_usd_per_kwh, spec.policy.pue, pool.price_usd_per_device,
                          pool.lifetime_years, spec.policy.load_factor, unpriced=no_price is not None)
    device_layout(pool_ref(pool))  # the pool's own system / part file's errors, unprefixed (hC71: network's line)
    try:
        s = device_site(pool_ref(pool), over, site.cooling, site.location, site.build_type)
    except InputError as exc:  # hK76: a site's cooling / location / build type file's error named no site
        raise InputError(f"site {site.name!r}: {exc}") from None
    return no_price, device_money(pool_ref(pool), devices, s, pool.host_power_w)


def pool_network_notes(spec: ScenarioSpec, rows: Iterable[tuple[str, str, int]]) -> list[str]:
    """The ASSUMED network price lines (`assumed_network_notes`, one a kind, as `facility` and `campus` say them) of
    the priced pools in `rows` (pool name, site name, devices), whose fabric the plan prices from the catalog."""
    pools, sites = {p.name: p for p in spec.pools}, {s.name: s for s in spec.sites}
    kinds: set[str] = set()
    for pool, site, devices in rows:
        no_price, m = _device_money(spec, pools[pool], sites[site], devices)
        kinds |= set(() if no_price else m.network_catalog_priced)
    return assumed_network_notes(kinds)


def pool_spares(spec: ScenarioSpec, pool: PoolSpec, devices: int) -> Spares | None:
    """Spare nodes for `devices` working devices of a pool (None when the policy asks for none), with the pool's
    spare trays per domain, else the policy's."""
    p = spec.policy
    if p.spare_probability is None:
        return None
    domain = None if pool_kind(pool) == "video-asic" else pool_layout(pool).packing_unit_accelerators
    g = node_devices(pool)
    instance = pool_instance(spec, pool, domain) if domain is not None and domain > g else UNKNOWN_INSTANCE
    own = pool.spare_trays_per_domain  # the pool's, before the policy's (planning/spares.py)
    return spare_nodes(devices, g, pool_accelerator(pool), p.spare_probability, p.repair_time,
                       p.failure_rate, domain, p.spare_trays_per_domain if own is None else own, instance,
                       "policy spare_trays_per_domain" if own is None else f"pool {pool.name} spare_trays_per_domain",
                       pool_device_word(pool))


def pool_device_word(pool: PoolSpec) -> str:
    """What a pool's notes call one of its devices (`Accelerator.device_word`: GPU, TPU, CPU, or accelerator, an
    ASIC such as MTIA; a video ASIC is no catalog accelerator: accelerator)."""
    return "accelerator" if pool_kind(pool) == "video-asic" else Cluster.resolve(pool.device).accelerator.device_word


_INSTANCES: IdentityMemo[Instance] = IdentityMemo(256)  # by scenario (a frozen spec) and pool name


def pool_instance(spec: ScenarioSpec, pool: PoolSpec, domain_devices: int) -> Instance:
    """The widest unit of work a pool can run, what one failed server takes out with it (planning/spares.py):
    over the services sized on the pool (`scenario_sizing.size_options` in every phase the service runs and the pool is
    delivered: the options `plan`'s MILP chooses from, so a pool's spares do not depend on its answer and the
    optimality bound keeps one spares function), a training job spans the pool (its domains: `domain_devices`),
    an LLM deployment's replica is TP x PP x attention DP devices (`Sized.replica_devices`; EP runs over the
    attention-DP x TP devices, serving/deployment.py), a recsys, image or video instance is one device (their
    sizing's unit); not known where nothing is sized on the pool. A phase the pool has no device in
    (`retirement.out_of_service`: not delivered and no whole base in service, or refreshed away) sizes nothing, as
    the MILP's options skip it."""
    kept = _INSTANCES.get(spec, pool.name)
    if kept is not None:
        return kept
    widest = UNKNOWN_INSTANCE
    p = [q.name for q in spec.pools].index(pool.name)
    for svc in spec.services:
        for k, phase in enumerate(spec.phases):
            need = demand(svc, phase.name, spec.policy.headroom)
            if need <= 0 or out_of_service(spec, p, k) is not None:
                continue
            got = size_options(svc, pool, need)  # every option the MILP may take (an LLM's finer units)
            for sized in [] if isinstance(got, str) else got:
                one = _instance_of(svc.kind, svc.name, sized, domain_devices)
                if widest.devices is None or (one.devices or 0) > widest.devices:
                    widest = one
            if widest.devices is not None and widest.devices >= domain_devices:
                return _INSTANCES.put(spec, pool.name, widest)
    return _INSTANCES.put(spec, pool.name, widest)


def _instance_of(kind: str, name: str, sized: Sized, domain_devices: int) -> Instance:
    """One service's unit of work on a pool in devices, with the words the basis line uses."""
    if kind == "training":
        return Instance(domain_devices, f"training service {name}'s job spans the pool")
    if kind == "llm" and sized.replica_devices is not None:
        n = sized.replica_devices
        return Instance(n, f"LLM service {name}'s replica of {n} device{'s' if n > 1 else ''} (TP x PP x attention DP)")
    return Instance(1, f"{kind} service {name}'s engine of one device")
