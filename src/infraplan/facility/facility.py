"""Facility sizing: from a cluster (a system, or an accelerator and a count) to IT and facility power, racks,
floor area, water, capex, opex, $/GPU-hour, energy and carbon per year.

Power, energy, PUE, water and carbon need no price: without a server price for the accelerator (catalog
hardware_costs.yaml, `--server-price` or a --costs file) they are still reported, and the money fields (capex,
opex, TCO, $/GPU-hour) are null with `cost_reason` naming the missing price and the flag that supplies it.

The IT load of `count` accelerators of a kind is built as `campus` builds it (facility/campus_fabric.py):
non-blocking zones of up to k^2/2 NIC links joined at 1:7 above one zone, so `facility`, `campus` and `plan`
give one IT power and network bill for the same accelerators; a catalog system keeps its own fabric.

Facility power = IT power x PUE, PUE from the cooling type and the site's climate (cooling.yaml, locations.yaml);
water = IT energy x WUE (Green Grid definition); annual energy = peak IT x load factor x PUE x 8,760 h (the load
factor, 0.8, is the one in the reference's energy cross-check of Epoch AI's 1-GW site, economics.yaml). Two powers
(hC57): the peak (`it_power_w`, `facility_power_w`), the design load capacity and capex are sized for, and the
average draw (`it_power_average_w`, `facility_power_average_w` = peak x the same load factor), the one energy,
opex and carbon are counted at: a TOP500 power figure is an average (Selene, Nov 2020: 2,646 kW for 560 DGX A100,
the model's peak 4.05 MW, average 3.24 MW), a site's MW a design figure. The power chain is cluster/power.py, the
money cluster/cost.py (the one cost model every command prices accelerator-hours with).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from infraplan.catalog.error_bands import FACILITY_STACK, band_and_basis, no_band_basis
from infraplan.catalog.figures import figures_notes
from infraplan.catalog.hardware_costs import (
    ASSUMPTION_LABEL,
    EMBODIED_FIELD_HINT,
    accelerator_embodied_kg,
    assumed_network_notes,
)
from infraplan.catalog.schemas import Accelerator, System
from infraplan.cluster import Cluster
from infraplan.cluster.cluster import node_system
from infraplan.cluster.cost import (
    CostOverrides,
    SiteInputs,
    cluster_cost,
    default_cooling,
    missing_server_price,
    price_note,
    site_inputs,
)
from infraplan.cluster.generic import generic_part_notes
from infraplan.cluster.host_share import assumed_share_note, unstated_switch_note
from infraplan.cluster.power import (
    RACK_UNITS,
    ITLoad,
    RackFit,
    ServerLayout,
    idle_power,
    scale_up_switches_w,
    server_power_w,
)
from infraplan.errors import InputError
from infraplan.facility.campus_fabric import built_load, outgrown_fabric, rack_fills
from infraplan.facility.carbon import embodied_co2_t, embodied_co2_t_per_year, operational_co2_t
from infraplan.facility.rack_fabric import rack_fabric_note
from infraplan.facility.results import (
    FacilityAssumptions,
    FacilityNetwork,
    FacilityRackFit,
    FacilityRackRow,
    FacilityReport,
)
from infraplan.units import counted


def embodied_per_accelerator_kg(accelerator: Accelerator, overrides: CostOverrides) -> float | None:
    """The override, else the carbon rule's figure (`catalog.hardware_costs.accelerator_embodied_kg`: its own
    catalog entry's, a what-if's preset's; priced or not), else None."""
    if overrides.embodied_kgco2e_per_accelerator is not None:
        return overrides.embodied_kgco2e_per_accelerator
    return accelerator_embodied_kg(accelerator)


def embodied_t_per_year(accelerator: Accelerator, accelerators: int, site: SiteInputs) -> float | None:
    """Embodied tCO2e per year of `accelerators` at a site: the catalog's (or the override's) kgCO2e per
    accelerator over the site's servers' life (`carbon.embodied_co2_t_per_year`); None without a figure. The one
    rule `facility`, `campus`, `plan`, `compare` and `fleet-mix` report."""
    return devices_embodied_t_per_year(embodied_per_accelerator_kg(accelerator, site.overrides), accelerators, site)


def devices_embodied_t_per_year(kg_per_device: float | None, devices: int, site: SiteInputs) -> float | None:
    """Embodied tCO2e per year of `devices` of `kg_per_device` each over the site's servers' life; None without a
    figure (an accelerator's by `embodied_t_per_year`, a video ASIC's by its catalog figure)."""
    if kg_per_device is None:
        return None
    return float(embodied_co2_t_per_year(devices, kg_per_device, site.lives_years["servers"]))


def total_co2_t_per_year(operational_t: float, embodied_t: float | None) -> float | None:
    """Operational + embodied tCO2e per year; None when the embodied figure is unknown."""
    return None if embodied_t is None else operational_t + embodied_t


def rack_rows(layout: ServerLayout, load: ITLoad) -> list[FacilityRackRow]:
    """The racks of a load by what they hold (`campus_fabric.rack_fills`): full racks, then each zone's last,
    part-filled rack, with its accelerators and peak power (`rack_fit`'s server draw x its servers, plus the scale-up
    switches of the domains it begins)."""
    server_w = float(server_power_w(layout))
    return [FacilityRackRow(racks=racks, servers_per_rack=servers,
                            accelerators_per_rack=servers * layout.accelerators_per_server,
                            rack_power_w=servers * server_w + scale_up_switches_w(layout, servers),
                            full=servers == load.servers_per_rack)
            for servers, racks in rack_fills(layout, load)]


def _kw(watts: float) -> str:
    return f"{watts / 1e3:,.1f} kW"


def rack_fit_result(fit: RackFit | None) -> FacilityRackFit | None:
    """The rack fit of a load (`cluster.power.rack_fit`) as a result, with a one-line note when rack space, not
    power, sets the servers per rack (e.g. five 8U DGX H100 in 42U: 51 kW of a 130 kW --rack-power), when a
    scale-up domain spans racks (a rack's share of it), or when no server height is known and power alone set
    several servers a rack (rack space not counted: hN72's Z1, 10 servers of 13.1 kW in a liquid rack)."""
    if fit is None:
        return None
    note = None
    asked = "asked (--rack-power)" if fit.power_limit_source == "--rack-power" else f"{fit.power_limit_source} allows"
    if fit.limited_by == "space":
        note = (f"racks are space-limited: {fit.servers_by_space} server{'s' if fit.servers_by_space != 1 else ''} of "
                f"{fit.server_rack_units}U fit a "
                f"{RACK_UNITS}U rack ({fit.servers_by_power} would fit the power), so a rack draws "
                f"{_kw(fit.rack_power_w)} of the {_kw(fit.power_limit_w)} {asked}, "
                f"{fit.rack_power_w / fit.power_limit_w:.0%}")
    elif fit.domain_racks > 1:
        note = (f"each scale-up domain spans {fit.domain_racks} racks (its system file's "
                f"node.racks_per_scale_up_domain): {counted(fit.servers_per_rack, 'server')} and "
                f"1/{fit.domain_racks} of the domain's scale-up switches a rack, {_kw(fit.rack_power_w)}")
    elif fit.limited_by == "power" and fit.server_rack_units is None and fit.servers_per_rack > 1:  # (hN72)
        note = (f"rack space not counted: no server height is known (a system file's node.server_rack_units, else "
                f"the part's catalog entry in hardware_costs.yaml), so {fit.servers_per_rack} servers a rack are set "
                f"by power alone ({_kw(fit.rack_power_w)} of the {_kw(fit.power_limit_w)} {asked}); whether they fit a "
                f"{RACK_UNITS}U rack is not checked")
    return FacilityRackFit(
        limited_by=fit.limited_by, servers_per_rack=fit.servers_per_rack,
        servers_per_rack_by_power=fit.servers_by_power, servers_per_rack_by_space=fit.servers_by_space,
        server_height_u=fit.server_rack_units, rack_height_u=RACK_UNITS, rack_power_w=fit.rack_power_w,
        rack_power_limit_w=fit.power_limit_w, rack_power_limit_source=fit.power_limit_source, note=note)


def assumed_host_note(layout: ServerLayout) -> str | None:
    """The line where the node's host or scale-up switch share, in every power, energy and cost figure, is ASSUMED
    (`cluster.host_share.assumed_share_note`: mi300x-cluster's 3.5 kW a server, mtia-400-rack's tray, a part on the
    generic rule), said as `serve`, `recsys` and a plan pool say it; facility said none (hC75)."""
    said = assumed_share_note(layout.system.node, layout.accelerator.device_word)
    return f"{layout.accelerator.name}: {said}" if said else None


def assumed_cooling_note(site: SiteInputs) -> str | None:
    """The line where the cooling's figures (PUE, WUE, rack power, floor area) are labelled ASSUMPTION in its file
    (cooling.yaml's immersion: no published immersion figures), None for a sourced cooling (hC75: said by none)."""
    source = site.cooling.source
    if not source.startswith(ASSUMPTION_LABEL):
        return None
    why = source.split(":", 1)[-1].strip().split(". ")[0]
    return (f"cooling {site.cooling_name!r}: its PUE {site.pue:g}, WUE {site.wue_l_per_kwh:g} L/kWh, "
            f"{site.cooling.max_rack_power_w / 1e3:g} kW a rack and {site.cooling.floor_area_m2_per_rack:g} m2 a rack "
            f"are ASSUMED ({why}); a cooling file of your own (--cooling FILE) replaces them")


def facility_report(layout: ServerLayout, load: ITLoad, site: SiteInputs) -> FacilityReport:
    """All facility outputs for an IT load at a site (the result of `infraplan facility`)."""
    accelerator = layout.accelerator.name
    no_price = missing_server_price(layout.accelerator, site.overrides)
    if no_price is not None:  # a system file prices its servers too (hC76), `extends`-ing a preset or not
        no_price += "; or a system file's node.server_price_usd (with node.server_price_source)"
    if no_price is not None:  # price the servers at 0 only to reach the energy; every money field is then null
        site = dataclasses.replace(site, overrides=site.overrides.merged(server_usd_per_accelerator=0.0))
    money = cluster_cost(layout, load, site)
    it_w = load.it_w
    facility_w = it_w * site.pue
    capex, costs = money.capex_usd, money.annual
    priced = no_price is None
    embodied_kg = embodied_per_accelerator_kg(layout.accelerator, site.overrides)
    embodied_t = float(embodied_co2_t(load.accelerators, embodied_kg)) if embodied_kg is not None else None
    embodied_year = embodied_t_per_year(layout.accelerator, load.accelerators, site)
    co2 = float(operational_co2_t(money.energy_mwh_per_year, site.grid_gco2_per_kwh))
    racks = rack_rows(layout, load)
    return FacilityReport(
        it_power_w=it_w,
        facility_power_w=facility_w,
        it_power_average_w=it_w * site.load_factor,  # the average draw: energy's (cluster.cost.cluster_cost)
        facility_power_average_w=facility_w * site.load_factor,
        pue=site.pue,
        racks=load.racks,
        rack_power_w=load.rack_power_w,
        full_racks=sum(r.racks for r in racks if r.full),
        racks_by_fill=racks,
        rack_fit=rack_fit_result(load.rack_fit),
        rack_fabric_note=rack_fabric_note(layout, load),
        floor_area_m2=load.racks * site.cooling.floor_area_m2_per_rack,
        water_m3_per_year=money.it_energy_mwh_per_year * 1e3 * site.wue_l_per_kwh / 1e3,
        capex_usd=capex if priced else None,
        capex_priced_usd=capex if priced else {k: v for k, v in capex.items() if k != "servers"},  # hK76
        capex_unpriced_parts=[] if priced else ["servers"],
        opex_usd_per_year=costs.opex_usd_per_year if priced else None,
        usd_per_gpu_hour=money.usd_per_accelerator_hour if priced else None,
        cost_reason=no_price,
        price_note=price_note(layout.accelerator, site.overrides),
        figures_notes=[*figures_notes(layout.accelerator),  # SECONDARY / PRELIMINARY figures (its power among them)
                       *filter(None, [unstated_switch_note(layout.system),  # a file's NVL72-like domain, 0 W
                                      assumed_host_note(layout),  # a labelled ASSUMPTION host share (hC75)
                                      assumed_cooling_note(site)]),  # immersion's figures (hC75)
                       *(assumed_network_notes(load.network_catalog_priced)  # switch / optics prices (hC76)
                         if site.overrides.switch_port_usd is None else [])],  # priced with the servers or not
        energy_mwh_per_year=money.energy_mwh_per_year,
        co2_t_per_year=co2,
        total_co2_t_per_year=total_co2_t_per_year(co2, embodied_year),
        accelerator=accelerator,
        system=layout.system_name,
        accelerators=load.accelerators,
        servers=load.servers,
        servers_per_rack=load.servers_per_rack,
        accelerators_per_rack=load.servers_per_rack * layout.accelerators_per_server,
        cooling=site.cooling_name,
        location=site.location_name,
        climate=site.location.climate,
        build_type=site.build_type,
        power_breakdown_w={
            "accelerators": load.accelerators_w, "hosts": load.hosts_w,
            "scale_up_switches": load.scale_up_switches_w, "network": load.network_w,
            "storage_and_misc": load.misc_w, "cooling_and_power_distribution": facility_w - it_w,
        },
        network=FacilityNetwork(switch_ports=load.switch_ports, switches=load.switches, tiers=load.network_tiers,
                                model=load.network_model, pricing=load.network_pricing,
                                fabric_accelerators=load.fabric_accelerators),
        capex_total_usd=sum(capex.values()) if priced else None,
        annualized_capex_usd_per_year=costs.annualized_capex_usd_per_year if priced else None,
        opex_breakdown_usd_per_year=costs.opex_breakdown_usd_per_year if priced else
        {"electricity": costs.opex_breakdown_usd_per_year["electricity"]},  # maintenance is a share of capex
        tco_usd_per_year=costs.tco_usd_per_year if priced else None,
        embodied_co2_t=embodied_t,
        embodied_co2_t_reason=None if embodied_t is not None else (
            f"no embodied carbon for {layout.accelerator.name} in the catalog (hardware_costs.yaml); a --costs "
            f"file or {EMBODIED_FIELD_HINT}"),
        embodied_co2_t_per_year=embodied_year,
        assumptions=FacilityAssumptions(
            load_factor=site.load_factor, wue_l_per_kwh=site.wue_l_per_kwh,
            electricity_usd_per_mwh=site.electricity_usd_per_mwh, grid_gco2_per_kwh=site.grid_gco2_per_kwh,
            facility_usd_per_w=site.facility_usd_per_w, lives_years=site.lives_years,
            maintenance_fraction_of_capex_per_year=site.maintenance_fraction,
            cost_of_capital_per_year=site.cost_of_capital,
            power=("accelerators at TDP (peak IT: the design load; the average draw and energy = peak x load "
                   f"factor), on the draw idle + (TDP - idle) x utilisation: {idle_power(layout.accelerator).basis}"),
        ),
        **facility_bands(layout.accelerator.catalog_name),
    )


def facility_bands(accelerator: str) -> dict[str, Any]:
    """A facility answer's IT power and cost bands (catalog.error_bands, "Infrastructure answers"); the PUE, which
    no case measures, is said in the power band's basis."""
    power, power_basis = band_and_basis(accelerator, FACILITY_STACK, "facility", "it_power")
    cost, cost_basis = band_and_basis(accelerator, FACILITY_STACK, "facility", "cost")
    return {"error_band": power, "cost_error_band": cost, "cost_error_band_basis": cost_basis,
            "error_band_basis": f"{power_basis}; PUE: {no_band_basis('facility', 'pue')}, so the facility power "
                                "(IT x PUE) carries the PUE's error beyond this band"}


def facility_cluster(system: str | System | Cluster | None = None, accelerator: str | None = None,
                     count: int | None = None) -> Cluster:
    """The cluster a facility is sized for: a whole system, or `count` accelerators of a kind: a system named as
    --accelerator that holds them on its own tiers, as `network SYSTEM --gpus N` (`Cluster.for_count`, hC72), else
    the part on its node and the generic Clos (zones past one)."""
    if (system is None) == (accelerator is None):
        raise InputError("give either --system, or --accelerator with --count")
    if system is not None:
        if count is not None:
            raise InputError("--count goes with --accelerator; a --system brings its own size")
        cluster = Cluster.resolve(system, purpose="facility sizing")
    else:
        if count is None:
            raise InputError(f"--accelerator {accelerator} needs --count, the number of accelerators to house")
        if count <= 0:
            raise InputError(f"--count must be a positive number of accelerators, got {count}")
        cluster = Cluster.for_count(str(accelerator), count, purpose="facility sizing")  # a system's own fabric
    cluster.require_accelerator("facility sizing")  # `--system xeon-8480` (a CPU preset) too, as --accelerator
    return cluster


def size_facility(system: str | System | Cluster | None = None, accelerator: str | None = None,
                  count: int | None = None, cooling: str | None = None, location: str | None = None,
                  build_type: str | None = None, rack_power_w: float | None = None,
                  overrides: CostOverrides | None = None) -> FacilityReport:
    """Size the facility for a whole system, or for `count` accelerators of a kind (Python API of the CLI)."""
    cluster = facility_cluster(system, accelerator, count)
    layout = cluster.layout
    if cooling is None and rack_power_w is not None:  # the density asked picks the default cooling (hN72)
        cooling = default_cooling(layout, rack_power_w)
    site = site_inputs(layout, cooling, location, build_type, overrides)
    n = cluster.total_accelerators if system is not None else int(count or 0)
    load = built_load(layout, n, site.cooling, site.cooling_name, rack_power_w)
    report = facility_report(layout, load, site)
    if cluster.generic:  # a part on the generic node: what it assumes of a GPU server (hU50; CLI, web, API alike)
        extra = generic_part_notes(layout.accelerator, host=False, node=True)  # the host line: assumed_host_note
        report = report.model_copy(update={"figures_notes": [*report.figures_notes, *extra]}) if extra else report
    notes = [system_count_note(str(accelerator), n, cluster) if accelerator is not None else
             part_as_system_note(system, cluster)]
    if load.accelerators != n:
        notes.append(f"--count {n:,} is not a whole number of {layout.accelerators_per_server}-accelerator servers: "
                     f"{counted(load.servers, 'server')} {'houses' if load.servers == 1 else 'house'} "
                     f"{load.accelerators:,} {layout.accelerator.name}, which every figure counts (power, racks, "
                     "capex, energy)")
    note = "; ".join(filter(None, notes))
    return report.model_copy(update={"count_note": note}) if note else report


def part_as_system_note(system: object, cluster: Cluster) -> str | None:
    """The line for `--system PART` (an accelerator, not a system: README, "an accelerator preset, which gets the
    generic node"): the one generic server it sizes, and the flag that sizes a count (hN72, hC72)."""
    if not cluster.generic or not isinstance(system, str):  # (a Python caller's generic Cluster: its own count)
        return None
    name = system
    return (f"{name} is an accelerator, not a system: sized as {cluster.total_accelerators:,} on its generic node "
            f"(`--accelerator {name} --count N` sizes N)")


def system_count_note(accelerator: str, count: int, cluster: Cluster) -> str | None:
    """What fabric `--accelerator SYSTEM --count N` was built on (`Cluster.for_count`, hC72): the system's own tiers
    for the N it holds, or, past its size, whole copies of it or its node on the generic Clos (`outgrown_fabric`, hP74);
    None for a part (an accelerator)."""
    try:
        system = node_system(accelerator)
    except InputError:
        return None
    if system is None:
        return None
    held = f"the {system.total_accelerators:,} accelerators of {system.name}"
    if not cluster.generic:
        return (f"{count:,} of {held}, on its own fabric's tiers, as `network {accelerator} --gpus {count}` "
                "builds them")
    built = outgrown_fabric(cluster.layout)
    return (f"--count {count:,} is more than {held}: {built}"
            + (", as `campus` builds a count" if built.startswith("its node") else "")
            + f" (`network {accelerator}` builds up to {system.total_accelerators:,})")
