"""Gigawatt campus planner and multi-site fleets.

A campus is a facility power budget (e.g. 1 GW) filled with one accelerator: IT budget = power / PUE, then as
many whole packing units as fit, the IT load counted by facility/campus_fabric.py (non-blocking zones joined at
1:7, so the network share does not grow with the campus); a catalog system (or a system file) is built as
`facility --accelerator SYSTEM --count N` and a plan pool build its N: on its own tiers for the N it holds, past its
size whole copies of it joined at 1:7 (`system_fabric_note`, hD74). Buildings hold ~50 MW of IT each (economics.yaml).
Phases ("2026:0.3,2027:0.7") bring fractions of the campus online by year; they must sum to at most 1.
Training capacity, Llama-3-405B-scale runs per year on the campus's accelerators, is counted by
planning/campus_runs.py (the Llama 3 paper's plan and job size, at the predicted goodput).

Fleets sum several sites and generations and report H100-equivalents: accelerators x dense bf16 peak / H100 SXM
dense bf16 peak (989 TFLOP/s), the FLOP-based convention of Epoch AI's H100e counts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

from infraplan.catalog.answer_bands import parts_band
from infraplan.catalog.error_bands import FACILITY_STACK
from infraplan.catalog.facility_loader import FleetSite as FleetSiteSpec
from infraplan.catalog.facility_loader import load_economics, load_fleet
from infraplan.catalog.hardware_costs import EMBODIED_FIELD_HINT
from infraplan.catalog.part_dates import check_ships_by
from infraplan.cluster import Cluster
from infraplan.cluster.cluster import node_system, part_ref
from infraplan.cluster.cost import CostOverrides, site_inputs
from infraplan.cluster.power import it_load
from infraplan.errors import InputError, wrong_kind
from infraplan.facility.campus_fabric import built_load, outgrown_fabric, zone_layout
from infraplan.facility.facility import size_facility
from infraplan.limits import MAX_ACCELERATORS
from infraplan.planning.campus_runs import REFERENCE_JOB_MAX_GPUS as REFERENCE_JOB_MAX_GPUS
from infraplan.planning.campus_runs import REFERENCE_RUN_MODEL as REFERENCE_RUN_MODEL
from infraplan.planning.campus_runs import REFERENCE_RUN_PLAN as REFERENCE_RUN_PLAN
from infraplan.planning.campus_runs import REFERENCE_RUN_TOKENS as REFERENCE_RUN_TOKENS
from infraplan.planning.campus_runs import reference_run_throughput as reference_run_throughput
from infraplan.planning.campus_runs import training_capacity  # (these six: the names callers import from campus)
from infraplan.planning.device_money import device_layout
from infraplan.planning.plan_dates import parse_year
from infraplan.planning.plan_dates import year_text as date_text
from infraplan.planning.results import CampusPhase, CampusPlan, FleetSite, FleetSitesResult
from infraplan.units import listed, power_text, significant_text

H100_BF16_PEAK = 989e12


def parse_phases(text: str | None) -> list[tuple[int | float, float]]:
    """'2026:0.3,2027H2:0.7' -> [(2026, 0.3), (2027.5, 0.7)]: fractions of the campus brought online by date, a date
    in any form `plan` takes (planning/plan_dates.parse_year: 2026, 2026.5, 2026H2, 2026Q3, 2026-07; hE59: campus
    took whole years only, so a half-year build-out `plan` dates was refused here)."""
    if not text:
        return []
    phases: list[tuple[int | float, float]] = []
    for part in listed(text, "--phases", "2026:0.3,2027:0.7"):
        year_text, sep, frac_text = part.strip().partition(":")
        try:
            fraction = float(frac_text)
        except ValueError:
            raise InputError(f"--phases: cannot read {part.strip()!r}; expected YEAR:FRACTION, e.g. 2026:0.3") from None
        try:
            year = parse_year(year_text.strip())
        except ValueError as exc:
            raise InputError(f"--phases: {exc}") from None
        if not sep or not 0 < fraction <= 1:
            raise InputError(f"--phases: fraction for {year_text.strip()} must be in (0, 1], got {frac_text!r}")
        phases.append((year, fraction))
    years = [y for y, _ in phases]
    if any(b <= a for a, b in zip(years, years[1:], strict=False)):
        raise InputError(f"--phases: dates must be distinct and increasing, got {', '.join(map(date_text, years))}")
    total = sum(f for _, f in phases)
    if total > 1.0 + 1e-9:
        raise InputError(f"--phases: fractions sum to {total:.12g}, above the limit of 1 (the whole campus)")  # hN71:
        # 0.7 + 0.30000001 said "sum to 1, above the limit of 1"
    return phases


def h100_equivalents(accelerator: str | Cluster, count: float) -> float:
    """Accelerators x dense bf16 peak / H100 SXM's (Epoch AI's FLOP-based H100e)."""
    return count * Cluster.resolve(accelerator).accelerator.peak("bf16") / H100_BF16_PEAK



def _most_units(it_w_of: Callable[[int], float], budget_w: float) -> int:
    """The most units n with it_w_of(n) <= budget_w (0 if not even one fits). IT power grows with n, but in steps
    at fabric-domain and building boundaries, so a local search stalls there: double, then bisect."""
    if it_w_of(1) > budget_w:
        return 0
    lo, hi = 1, 2
    while it_w_of(hi) <= budget_w:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if it_w_of(mid) <= budget_w:
            lo = mid
        else:
            hi = mid
    return lo


def plan_campus(power_w: float, accelerator: str, cooling: str | None = None, phases: str | None = None,
                location: str | None = None, build_type: str | None = None,
                overrides: CostOverrides | None = None, power_name: str = "--power",
                reserve: float = 0.0) -> CampusPlan:
    """Fill a facility power budget with one accelerator; size, cost, carbon, phases and training capacity.
    `power_name` is what the messages call the budget (a fleet site's `power`, not the CLI's --power). `reserve`:
    the share of the budget kept unbuilt (--reserve; redundancy, derating, growth: hF52's F8, a site's 1.2 GW
    interconnect is not 1.2 GW of racks at peak), 0 to below 1; 0 builds the whole budget at peak IT draw x PUE."""
    if isinstance(power_w, bool) or not isinstance(power_w, numbers.Real):  # "100MW" was a TypeError (hK66)
        raise wrong_kind("power_w", "a number of watts (the CLI reads '100MW' with infraplan.units.read_watts)",
                         power_w)
    if not power_w > 0 or not math.isfinite(power_w):
        raise InputError(f"{power_name} must be positive and finite, got {power_text(power_w)}")
    if not 0.0 <= reserve < 1.0:  # NaN too
        raise InputError(f"--reserve is the share of the power budget kept unbuilt, 0 to below 1, got {reserve:g}")
    phase_list = parse_phases(phases)
    cluster = Cluster.for_accelerator(accelerator, purpose="a campus")  # an unknown name lists no CPU preset
    asked = accelerator  # a system: n of it as `facility --accelerator SYSTEM --count n` and a plan pool build them
    named = accelerator if part_ref(accelerator) != accelerator else None  # a system: its runs on it where it fits
    accelerator = part_ref(accelerator)  # a system's part (`mtia-400-rack`: mtia-400), as facility and plan read it
    for year, _ in phase_list[:1]:  # the first phase buys first (hT59: a part bought before it ships)
        check_ships_by(cluster.accelerator, year, "--phases", "; start the phases on or after that date")
    layout = cluster.layout
    site = site_inputs(layout, cooling, location, build_type, overrides)
    it_budget = power_w * (1.0 - reserve) / site.pue
    kept = f" less its {reserve} reserve ({power_text(power_w * (1.0 - reserve))})" if reserve else ""  # (hR53)
    unit = layout.packing_unit_accelerators
    probe = it_load(layout, 16 * unit, site.cooling, site.cooling_name)
    if probe.it_w / 16 > it_budget:
        raise InputError(f"{power_name} {power_text(power_w)}{kept} is below one {unit}-accelerator unit of "
                         f"{accelerator} ({power_text(probe.it_w / 16 * site.pue)} of facility power)")

    def it_w_of(n: int) -> float:  # (`device_layout`: its own tiers, past its size whole copies of it, hD74)
        if named is None:
            return built_load(device_layout(asked, n), n, site.cooling, site.cooling_name).it_w
        # a system: the facility power of `facility --accelerator SYSTEM --count n` itself over the budget's PUE, so
        # the campus's facility block (below) is within the budget by construction (a user file of 144-GPU domains
        # built the campus on a layout whose IT was 1.2 % below facility's: 101.2 MW of facility on 100 MW)
        return size_facility(accelerator=asked, count=n, cooling=cooling, location=location, build_type=build_type,
                             overrides=overrides).facility_power_w / site.pue

    def campus_it_w(units: int) -> float:
        return it_w_of(units * unit)

    if it_budget > campus_it_w(MAX_ACCELERATORS // unit):  # the stated limit, before any fabric beyond it is built
        raise InputError(f"{power_name} {power_text(power_w)} holds more than {MAX_ACCELERATORS:,} accelerators of "
                         f"{accelerator}, the limit of one campus plan (infraplan.limits)")
    count = _most_units(campus_it_w, it_budget) * unit
    if count < unit:
        raise InputError(f"{power_name} {power_text(power_w)}{kept} is below one {unit}-accelerator unit of "
                         f"{accelerator} ({power_text(probe.it_w / 16 * site.pue)} of facility power)")
    econ = load_economics()
    # the facility block is `facility --accelerator A --count N`'s for the campus's N, its notes too (one answer:
    # tests/test_consistency_hC44.py); the packing note is the campus's own
    report = size_facility(accelerator=asked, count=count, cooling=cooling, location=location, build_type=build_type,
                           overrides=overrides)
    packing = whole_domains_note(count, layout.accelerators_per_server, unit, cluster.accelerator.device_word,
                                 power_text(power_w * (1.0 - reserve)),  # the site a plan would be given
                                 lambda n: it_w_of(n) <= it_budget, layout.racks_per_packing_unit)
    phases_out: list[CampusPhase] = []
    cumulative = 0.0
    units_built, units_all = 0, report.accelerators // unit  # whole units online so far: each phase adds
    for year, fraction in phase_list:  # round(cumulative x units) - those, so the phases add up to the campus (4 x 0.25
        cumulative += fraction  # of 6,713 racks rounded each gave 6,712)
        units_now = min(int(round(cumulative * units_all)), units_all)
        if units_now == units_built:  # hN71: 2026:1e-9 was "+2 W peak (0 accelerators, capex $74.6)"
            raise InputError(f"--phases: {date_text(year)}'s share {fraction:g} of the campus adds no whole {unit}-"
                             f"accelerator unit of its {units_all:,}; give it at least 1/{units_all:,} "
                             f"({significant_text(1 / units_all, 3)})")
        # a phase's power and capex are those of the whole units it brings online (hN71: its share of the campus,
        # while its accelerators were whole units: 2026:0.5 and 2026H2:0.5 of 2 GW, 468,720 and 468,648 GB200, were
        # 1 GW and $37.3 B each)
        built = (units_now - units_built) / units_all
        phases_out.append(CampusPhase(
            year=year, date=date_text(year), fraction=fraction, cumulative_fraction=cumulative,
            facility_power_w=built * report.facility_power_w,
            facility_power_average_w=built * report.facility_power_average_w,
            accelerators=(units_now - units_built) * unit,
            capex_usd=None if report.capex_total_usd is None else built * report.capex_total_usd,
            cumulative_facility_power_w=units_now / units_all * report.facility_power_w,
        ))
        units_built = units_now
    return CampusPlan(
        power_w=power_w, reserve_fraction=reserve, unbuilt_power_w=max(power_w - report.facility_power_w, 0.0),
        accelerators=report.accelerators,
        racks=report.racks,
        buildings=max(1, math.ceil(report.it_power_w / econ.building_it_power_w)),
        network=report.network,
        capex_usd=report.capex_usd,
        capex_priced_usd=report.capex_priced_usd, capex_unpriced_parts=report.capex_unpriced_parts,
        opex_usd_per_year=report.opex_usd_per_year,
        energy_mwh_per_year=report.energy_mwh_per_year,
        co2_t_per_year=report.co2_t_per_year,
        embodied_co2_t_per_year=report.embodied_co2_t_per_year,
        total_co2_t_per_year=report.total_co2_t_per_year,
        training_capacity=training_capacity(accelerator, report.accelerators, named),  # the reference (or `named`)
        h100_equivalents=h100_equivalents(cluster, report.accelerators),
        phases=phases_out,
        facility=report, notes=[n for n in (system_fabric_note(asked, count), packing) if n],
        error_band=None, error_band_basis=CAMPUS_BAND_BASIS,
    )


def whole_domains_note(count: int, per_server: int, unit: int, word: str, power: str,
                       fits: Callable[[int], bool], racks: int = 1) -> str | None:
    """Why a campus of whole scale-up domains holds fewer accelerators than `plan` packs at the same power (hH53): a
    campus is built of whole packing units (an NVL72 rack is delivered whole, with its switch trays), while `plan` and
    `facility --count` pack whole servers, a part-filled last domain drawing its switches in full. None where the
    unit is one server, or no server beyond the whole domains fits (`fits`: the devices' IT load within budget).
    `racks`: racks one domain spans (node.racks_per_scale_up_domain)."""
    if unit <= per_server:
        return None
    most = count
    while most + per_server < count + unit and fits(most + per_server):
        most += per_server
    if most == count:
        return None
    return (f"the campus counts whole {unit}-{word} scale-up domains ({count // unit * racks:,} racks, each built and "
            f"powered whole with its switches); `plan` and `facility --count` pack whole servers, so a plan site of "
            f"{power} holds up to {most:,} {word}s: a part-filled last domain of {most - count} {word}s, its "
            "switches drawn in full")


def system_fabric_note(asked: str, count: int) -> str | None:
    """The fabric a campus of a catalog system (or a user's system file) is built on: `facility --accelerator SYSTEM
    --count N`'s and a plan pool's for its N (`device_layout`): the system's own tiers for the N it holds, past its
    size whole copies of it joined at 1:7 (hP74). None for a part, and for a system past its size built on its
    node's generic Clos (within one generic zone: the part's own campus). Until hD74 `campus` built generic zones
    at any count: 13.24 MW of dgx-h100-superpod held 8,368 H100 on 428 switches where `facility --count 8192`,
    the same power, built 640, and the 26.48 MW of its 16,384 (1,280 switches, $1,102 M in `facility` and `plan`)
    held 16,640 on 920, $1,077 M."""
    system = node_system(asked)
    if system is None:
        return None
    layout, size = device_layout(asked, count), system.total_accelerators
    if count <= size:
        built = f"the campus's {count:,} are within the {size:,} of {system.name}: on its own fabric's tiers"
    elif zone_layout(layout) is not layout:
        built = f"the campus's {count:,} are more than the {size:,} of {system.name}: {outgrown_fabric(layout)}"
    else:
        return None
    return f"{built}; `facility --accelerator {asked} --count {count}` and a plan pool of it build the same"


CAMPUS_BAND_BASIS = (
    "a composite, banded by its parts: facility.error_band (IT power; the PUE has no validation case) and "
    "training_capacity.error_band (training throughput); the power budget is an input, and the accelerators it holds "
    "(the budget over the facility power per accelerator) carry the IT power's and the PUE's errors")


def _fleet_site(site: FleetSiteSpec, where: str, overrides: CostOverrides | None) -> FleetSite:
    """One site of a fleet: a catalog system, a count of accelerators, or a power budget filled (`plan_campus`)."""
    if site.system is not None:  # a catalog system brings its own size, fabric and power chain
        if site.count is not None or site.power_w is not None:
            raise InputError(f"{where}: a system brings its own size; drop count and power")
        report = size_facility(system=site.system, cooling=site.cooling, location=site.location,
                               overrides=overrides)
        if site.accelerator is not None and site.accelerator != report.accelerator:
            raise InputError(f"{where}: accelerator {site.accelerator} but system {site.system} holds "
                             f"{report.accelerator}")
    elif site.accelerator is None or (site.count is None) == (site.power_w is None):
        raise InputError(f"{where}: give a system, or an accelerator with exactly one of count or power")
    elif site.count is not None:
        report = size_facility(accelerator=site.accelerator, count=site.count, cooling=site.cooling,
                               location=site.location, overrides=overrides)
    else:
        assert site.power_w is not None  # exactly one of count and power_w is set (checked above)
        report = plan_campus(site.power_w, site.accelerator, cooling=site.cooling, location=site.location,
                             overrides=overrides, power_name="power").facility
    return FleetSite(
        name=site.name, accelerator=report.accelerator, accelerators=report.accelerators,
        h100_equivalents=h100_equivalents(site.system or str(site.accelerator), report.accelerators),  # a ref
        it_power_w=report.it_power_w, facility_power_w=report.facility_power_w,
        capex_usd=report.capex_total_usd, opex_usd_per_year=report.opex_usd_per_year,
        capex_priced_usd=sum(report.capex_priced_usd.values()),
        energy_mwh_per_year=report.energy_mwh_per_year, co2_t_per_year=report.co2_t_per_year,
        embodied_co2_t_per_year=report.embodied_co2_t_per_year, total_co2_t_per_year=report.total_co2_t_per_year,
        cooling=report.cooling, location=report.location, figures_notes=report.figures_notes)


def check_fleet_options(power: object, accelerator: object, reserve: object, **campus_only: object) -> None:
    """`campus --fleet` (CLI and web) sums its sites as its file states them, so a --power campus's options are
    refused beside it, each named, rather than dropped: `campus_only` maps a flag (--phases, --cooling, --location,
    --build-type, --plot) to its value (hN71: `--fleet F --phases 2026:0.5,2027:0.5` answered without phases,
    `--cooling air` / `--location ohio` left every site's own, `--plot` wrote no chart; rc 0 each)."""
    if power or accelerator or reserve:
        raise InputError("--fleet replaces --power, --accelerator and --reserve; give one or the other")
    given = [flag for flag, value in campus_only.items() if value]
    if given:
        named = given[0] if len(given) == 1 else f"{', '.join(given[:-1])} and {given[-1]}"
        raise InputError(f"--fleet: {named} {'goes' if len(given) == 1 else 'go'} with --power: a "
                         "fleet's sites state their own cooling and location (its file's `cooling:` / `location:`) "
                         "and are summed as built, with no phases, build type or chart")


def _check_one_server_price(fleet: str, sites: list[FleetSite], overrides: CostOverrides | None) -> None:
    """Refuse one server price for a fleet of several parts (hN75: `campus --fleet F --server-price 30000` priced
    every site's accelerators at it without a word: RSC's A100 $25,000 -> $30,000, +$80 M, a GB300 site and a user's
    part file stating its own `price_usd` alike)."""
    parts = sorted({s.accelerator for s in sites})
    if overrides is not None and overrides.server_usd_per_accelerator is not None and len(parts) > 1:
        raise InputError(f"--server-price (or a --costs file's server_usd_per_accelerator) prices one accelerator, "
                         f"and fleet {fleet!r} holds {len(parts)} ({', '.join(parts)}): state each part's price in "
                         "its accelerator file (price_usd with price_source; `extends: PRESET` over a catalog part) "
                         "and name that file as the site's accelerator, or size a fleet of one part")


def plan_fleet(fleet: str, overrides: CostOverrides | None = None) -> FleetSitesResult:
    """Sum the sites of a fleet (preset or YAML file): accelerators, H100-equivalents, power, cost, carbon."""
    spec = load_fleet(fleet)
    sites: list[FleetSite] = []
    for site in spec.sites:
        where = f"fleet {spec.name!r}, site {site.name!r}"
        try:
            sites.append(_fleet_site(site, where, overrides))
        except InputError as exc:  # name the site a catalog error (location, accelerator, power) comes from
            raise InputError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None
    _check_one_server_price(spec.name, sites, overrides)
    keys = ("h100_equivalents", "it_power_w", "facility_power_w", "capex_usd", "opex_usd_per_year",
            "energy_mwh_per_year", "co2_t_per_year", "embodied_co2_t_per_year", "total_co2_t_per_year")
    totals: dict[str, Any] = {k: None if any(getattr(s, k) is None for s in sites) else  # a site without a price
                              sum(getattr(s, k) for s in sites) for k in keys}
    totals["accelerators"] = sum(s.accelerators for s in sites)
    published = spec.published_h100_equivalents or None
    # a system site by its file (`preset_of` reads its part): its result's part name is no file (hN73: a system file of
    # a user's part file was banded as family "x450", its accelerator's name, where the same part alone is "cdna4")
    band, basis = parts_band([ref.accelerator or ref.system or s.accelerator
                              for ref, s in zip(spec.sites, sites, strict=True)],
                             FACILITY_STACK, "facility", "it_power",
                             "the IT power summed over the sites", "the sites' accelerators are inputs; the facility "
                             "power adds the PUE (no validation case)")
    return FleetSitesResult(
        fleet=spec.name, source=spec.source, sites=sites, **totals,
        embodied_co2_reason="; ".join([*(f"site {s.name!r}: no embodied carbon for {s.accelerator} in the catalog"
                                         for s in sites if s.embodied_co2_t_per_year is None), EMBODIED_FIELD_HINT])
        if any(s.embodied_co2_t_per_year is None for s in sites) else None,
        error_band=band, error_band_basis=basis,
        published_h100_equivalents=published,
        h100_equivalents_vs_published=totals["h100_equivalents"] / published if published else None,
        h100_equivalents_vs_published_reason=None if published else
        f"fleet {spec.name!r} states no published_h100_equivalents to compare with")
