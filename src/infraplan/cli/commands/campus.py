"""`infraplan campus`: fill a power budget (e.g. 1 GW) with accelerators; or sum a fleet of sites."""

from __future__ import annotations

import typer

from infraplan.cli.commands._fitted_table import ID, Col, print_fitted
from infraplan.cli.commands._output import (
    band_or_why,
    console,
    device_word,
    emit,
    fmt_num,
    fmt_percent,
    fmt_rate,
    fmt_usd,
    metric_table,
    print_band,
)
from infraplan.cli.commands.facility import (
    average_power_text,
    co2_rows,
    emit_charted,
    energy_text,
    facility_band_lines,
    money_rows,
    racks_text,
    site_overrides,
    unpriced_line,
)
from infraplan.cli.options import (
    PRICE,
    PUE,
    BuildTypeOption,
    CoolingOption,
    CostsOption,
    ElectricityPriceOption,
    JsonFlag,
)
from infraplan.errors import InputError
from infraplan.facility.plots import facility_figure
from infraplan.planning.campus import check_fleet_options, plan_campus, plan_fleet
from infraplan.planning.results import CampusPlan, FleetSitesResult
from infraplan.units import parse_stated_power_w


def render_campus(r: CampusPlan, device: str = "GPU") -> None:
    f = r.facility
    table = metric_table(f"{fmt_rate(r.power_w, 'W')} campus of {f.accelerator}: {f.cooling} cooling, {f.location}")
    table.add_row("accelerators", f"{r.accelerators:,} ({r.h100_equivalents:,.0f} H100-equivalents)")
    table.add_row("racks", racks_text(f))  # with their kW, as `facility` prints them (hU58)
    table.add_row("buildings", f"{r.buildings:,}")
    table.add_row("network", f"{r.network.switches:,} switches, {r.network.switch_ports:,} ports, "
                  f"{r.network.tiers} tiers")
    table.add_row("IT / facility power (peak)", f"{fmt_rate(f.it_power_w, 'W')} / {fmt_rate(f.facility_power_w, 'W')} "
                  f"(PUE {f.pue:.3f})")
    table.add_row("IT / facility power (average)", average_power_text(f))  # energy's draw, as `facility` (hH57)
    table.add_row("power budget", budget_text(r))
    for name, value in money_rows(f, device):
        table.add_row(name, value)
    table.add_row("energy", energy_text(r.energy_mwh_per_year, f))
    for name, value in co2_rows(r.co2_t_per_year, r.embodied_co2_t_per_year, r.total_co2_t_per_year):
        table.add_row(name, value)
    cap = r.training_capacity
    if cap.available:
        jobs = f"{cap.concurrent_jobs:,} job{'' if cap.concurrent_jobs == 1 else 's'}"
        rest = r.accelerators - (cap.concurrent_jobs or 0) * (cap.job_gpus or 0)  # beyond whole jobs: no run (hN55)
        more = (f"; {fmt_num(cap.all_accelerator_runs_per_year, 3)} counting the {rest:,} {device}s beyond whole jobs "
                "at the job's rate") if rest > 0 else ""
        table.add_row("Llama-3-405B runs (15.6T tokens)", f"{fmt_num(cap.runs_per_year, 3)} per year: {jobs} of "
                      f"{cap.job_gpus:,} {device}s at once, {cap.days_per_run_per_job:,.0f} days each, goodput "
                      f"{fmt_percent(cap.goodput or 0.0)}{more}")
    else:
        table.add_row("training capacity", cap.reason or "")
    console.print(table)
    if f.rack_fit is not None and f.rack_fit.note:
        console.print(f"note: {f.rack_fit.note}", soft_wrap=True, markup=False)
    if f.cost_reason:
        console.print(unpriced_line(f.cost_reason, device), soft_wrap=True)
    if f.price_note:
        console.print(f"price: {f.price_note}", soft_wrap=True)
    for note in [*f.figures_notes, *r.notes, *cap.notes]:  # the figures' standing, a use other than its source's
        console.print(f"note: {note}", soft_wrap=True, markup=False, highlight=False)
    facility_band_lines(f)
    if cap.available:
        print_band(band_or_why(cap.error_band, cap.error_band_basis, "throughput", label="error band (training)"))
    for ph in r.phases:
        console.print(f"{ph.date}: +{fmt_rate(ph.facility_power_w, 'W')} peak, "  # + its average draw (hL57)
                      f"+{fmt_rate(ph.facility_power_average_w, 'W')} average ({ph.accelerators:,} accelerators, "
                      f"{phase_capex_text(ph.capex_usd)}; cumulative {ph.cumulative_fraction * 100:.0f} %)")
    unphased = 1.0 - r.phases[-1].cumulative_fraction if r.phases else 0.0
    if unphased > 1e-9:  # --phases may sum below 1: the table above is the whole campus, the phases build part of it
        console.print(f"{unphased * 100:.0f} % of the campus ({fmt_rate(unphased * f.facility_power_w, 'W')} of "
                      f"facility power) is in no phase: the table above is the whole campus", soft_wrap=True)


def phase_capex_text(capex_usd: float | None) -> str:
    """A phase's capex, named: "capex $29.9 B", or "capex not priced" for a part without a server price (the phase
    line printed a bare "-" there, hE59)."""
    return "capex not priced" if capex_usd is None else f"capex {fmt_usd(capex_usd)}"


def budget_text(r: CampusPlan) -> str:
    """What the campus builds of its budget and what it keeps (hF52's F8: the whole budget was built at peak IT draw
    x PUE without a word, which a site's interconnect figure is not)."""
    built = r.power_w - r.unbuilt_power_w
    text = (f"{fmt_rate(r.power_w, 'W')}: {fmt_percent(built / r.power_w)} built, {fmt_rate(r.unbuilt_power_w, 'W')} "
            "unbuilt")
    if r.reserve_fraction > 0:
        return f"{text} (--reserve {r.reserve_fraction:g} kept for redundancy, derating or growth)"
    return f"{text} (no reserve: built whole at peak IT draw x PUE; --reserve keeps a share)"


def render_fleet(r: FleetSitesResult) -> None:
    """The sites and their total through `print_fitted`: at 80 columns Rich cut every number of the one wide table
    ("300,8…", "1,28…" tCO2e, hU81), as plan's and fleet-mix's before hC48."""
    rows = [[s.name, s.accelerator, f"{s.accelerators:,}", f"{s.h100_equivalents:,.0f}",
             fmt_rate(s.facility_power_w, "W"), fmt_usd(s.capex_usd), fmt_num(s.co2_t_per_year),
             fmt_num(s.embodied_co2_t_per_year), fmt_num(s.total_co2_t_per_year)] for s in r.sites]
    rows.append(["total", "", f"{r.accelerators:,}", f"{r.h100_equivalents:,.0f}", fmt_rate(r.facility_power_w, "W"),
                 fmt_usd(r.capex_usd), fmt_num(r.co2_t_per_year), fmt_num(r.embodied_co2_t_per_year),
                 fmt_num(r.total_co2_t_per_year)])
    print_fitted(f"fleet {r.fleet}", [Col("site", ID), Col("accelerator", justify="left"), *map(Col, (
        "count", "H100e", "facility power", "capex", "tCO2e/yr op.", "emb.", "total"))], rows)
    if r.embodied_co2_reason:  # op.: location-based operational; emb.: the hardware's, over the servers' life
        console.print(f"embodied carbon not counted: {r.embodied_co2_reason}", soft_wrap=True, markup=False)
    if r.published_h100_equivalents is not None and r.h100_equivalents_vs_published is not None:
        console.print(f"published: {r.published_h100_equivalents:,.0f} H100e; itemised sites reach "
                      f"{fmt_percent(r.h100_equivalents_vs_published)}")
    for s in r.sites:  # each site's accelerator's figures' standing (`catalog.figures.figures_notes`)
        for note in s.figures_notes:
            console.print(f"note: site {s.name!r}: {note}", soft_wrap=True, markup=False, highlight=False)
    print_band(band_or_why(r.error_band, r.error_band_basis, "IT power", r.it_power_w, "W"))


def campus(
    power: str | None = typer.Option(None, "--power", help="facility power budget, e.g. 1GW"),
    accelerator: str | None = typer.Option(None, "--accelerator", help="accelerator or system preset, or YAML "
                                           "path, e.g. gb200 (a system: its accelerator)"),
    cooling: CoolingOption = None,
    phases: str | None = typer.Option(None, "--phases",
                                      help="build-out, YEAR:SHARE, e.g. 2026:0.3,2027:0.7 (a date as plan's: "
                                      "2026, 2026H2, 2026Q3, 2026-07; shares sum <= 1)"),
    location: str | None = typer.Option(None, "--location", help="location preset or YAML [default: us-average]"),
    build_type: BuildTypeOption = None,
    fleet: str | None = typer.Option(None, "--fleet", help="fleet preset or YAML of sites (replaces --power)"),
    pue: float | None = typer.Option(None, "--pue", parser=PUE, help="override the PUE (facility power / IT power, "
                                     "dimensionless; as `facility --pue`)"),
    electricity_price: ElectricityPriceOption = None,
    server_price: float | None = typer.Option(None, "--server-price", parser=PRICE,
                                              help="override server $ per accelerator (the cost_reason of an "
                                              "unpriced accelerator names it)"),
    costs: CostsOption = None,
    reserve: float = typer.Option(0.0, "--reserve", help="share of the power budget kept unbuilt (redundancy, "
                                  "derating, growth), 0 to below 1 [default: 0, the whole budget built at peak IT "
                                  "draw x PUE]", show_default=False),
    plot: str | None = typer.Option(None, "--plot", help="write power/capex/phase charts to this HTML file"),
    as_json: JsonFlag = False,
) -> None:
    """Plan a campus for a power budget (accelerators, racks, buildings, cost, carbon, Llama-3-405B runs/year)."""
    overrides = site_overrides(costs, pue, electricity_price, server_price, plot)  # (--plot checked first)
    if fleet:
        check_fleet_options(power, accelerator, reserve, **{"--phases": phases, "--cooling": cooling,
                            "--location": location, "--build-type": build_type, "--plot": plot})
        emit(plan_fleet(fleet, overrides), as_json, render_fleet)
        return
    if not power or not accelerator:
        raise InputError("give --power and --accelerator (or --fleet SPEC.yaml)")
    if power.strip().startswith("-"):
        raise InputError(f"--power must be positive, got {power}")
    result = plan_campus(parse_stated_power_w(power, "--power"), accelerator, cooling, phases, location, build_type,
                         overrides, reserve=reserve)
    emit_charted(result, as_json, lambda shown: render_campus(shown, device_word(accelerator)), plot,
                 lambda r: facility_figure(r.facility.model_dump(), [p.model_dump() for p in r.phases],
                                           title=f"infraplan campus: {power} of {accelerator}"))


def register(app: typer.Typer) -> None:
    app.command("campus")(campus)
