"""`infraplan plan`: one scenario file from demand to gigawatts (planning/scenario.py), with files and a tornado."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from infraplan.cli.commands._fitted_table import ID, NUMBER, TEXT, Col, print_fitted
from infraplan.cli.commands._output import (
    band_or_why,
    check_html_path,
    console,
    emit,
    fmt_num,
    fmt_percent,
    fmt_quantity,
    fmt_rate,
    fmt_usd,
    print_band,
    stage_bar,
)
from infraplan.cli.options import JsonFlag
from infraplan.planning.scenario_results import ScenarioPlan


def _totals(p: ScenarioPlan) -> str:
    return (f"{fmt_num(p.devices)} devices ({fmt_num(p.h100_equivalents)} H100e), {facility_text(p)}, "
            f"capex {fmt_usd(p.capex_usd)}{_owned(p)}, "
            f"TCO {fmt_usd(p.tco_usd_per_year)}"
            f"{'' if p.tco_usd_per_year is None else '/year'}, "
            f"{fmt_num(p.energy_mwh_per_year / 1e3)} GWh/year, {co2_text(p.co2_t_per_year, p.embodied_co2_t_per_year)}")


def facility_text(p: ScenarioPlan) -> str:
    """'57.3 MW facility (peak; 45.8 MW average draw)': the last phase's peak, which the sites and capex are sized
    for, and the average (peak x each pool's load factor, hC57) its energy, opex and carbon count at (hL57: the
    totals printed the peak alone, as `facility` and `campus` did before hC57 / hH57)."""
    return (f"{fmt_rate(p.facility_power_w, 'W')} facility (peak; {fmt_rate(p.facility_power_average_w, 'W')} "
            f"average draw)")


def _owned(p: ScenarioPlan) -> str:
    """' bought over the phases (fleet value $9.1 B with the $7.0 B installed base)' where the fleet's value is not
    all bought in the plan (an installed base, hL47); '' where it is, or unpriced."""
    if p.capex_usd is None or p.fleet_value_usd is None or math.isclose(p.fleet_value_usd, p.capex_usd,
                                                                         rel_tol=1e-9):
        return ""
    retired = sum(ph.retired_devices for ph in p.phases)
    if retired:  # what retired is not in the fleet's value (planning/retirement.py)
        return (f" bought over the phases (fleet value {fmt_usd(p.fleet_value_usd)} in service, after "
                f"{fmt_num(retired)} devices retired)")
    base = "" if not p.installed_base_value_usd else f" with the {fmt_usd(p.installed_base_value_usd)} installed base"
    return f" bought over the phases (fleet value {fmt_usd(p.fleet_value_usd)}{base})"


def not_priced(p: ScenarioPlan) -> str:
    """What a plan's cost_reason leaves null: capex alone where the unpriced pool left before the last phase."""
    return "capex not priced" if p.tco_usd_per_year is not None else "capex and TCO not priced"


def priced_parts_line(p: ScenarioPlan) -> str:
    """The money a plan with an unpriced pool still prices (hK77), as `facility` prints its capex_priced_usd:
    'priced parts (no servers of pool mi (mi300x)): capex $157 K, fleet value $157 K, TCO $21.7 K/year'."""
    return (f"priced parts (no {', '.join(p.capex_unpriced_parts)}): capex {fmt_usd(p.capex_priced_usd)}, "
            f"fleet value {fmt_usd(p.fleet_value_priced_usd)}, TCO {fmt_usd(p.tco_priced_usd_per_year)}/year")


def co2_text(operational_t: float, embodied_t: float | None) -> str:
    """'150,516 operational + 1,430 embodied = 151,946 tCO2e/year' (operational only without an embodied figure)."""
    if embodied_t is None:
        return f"{fmt_num(operational_t)} tCO2e/year operational (embodied: no figure)"
    return (f"{fmt_num(operational_t)} operational + {fmt_num(embodied_t)} embodied = "
            f"{fmt_num(operational_t + embodied_t)} tCO2e/year")


def render_plan(p: ScenarioPlan) -> None:
    # a plan in which devices retire (planning/retirement.py) shows them bought and retired; one in which none
    # does prints as before hV54
    retiring = any(ph.retired_devices for ph in p.phases)
    moved = ("bought", "retired") if retiring else ()
    print_fitted(f"scenario {p.scenario} (objective: {p.objective})",
                 [Col("phase", ID), *map(Col, ("devices", *moved, "H100e", "facility", "capex", "fleet value",
                                              "TCO/year", "tCO2e/yr op.", "emb.", "total"))],
                 [[ph.phase, fmt_num(ph.devices),
                   *((fmt_num(ph.new_devices), fmt_num(ph.retired_devices)) if retiring else ()),
                   fmt_num(ph.h100_equivalents), fmt_rate(ph.facility_power_w, "W"),
                   fmt_usd(ph.capex_usd), fmt_usd(ph.fleet_value_usd), fmt_usd(ph.tco_usd_per_year),
                   fmt_num(ph.co2_t_per_year), fmt_num(ph.embodied_co2_t_per_year),
                   fmt_num(ph.total_co2_t_per_year)] for ph in p.phases])
    rows = []
    for s in p.services:
        unit = "run" if s.demand_unit == "runs" and s.demand == 1 else s.demand_unit
        # a service split over pools: each row serves a share of the demand (it printed the whole demand)
        share = "" if s.served >= s.demand * (1 - 1e-9) else f"{fmt_quantity(s.served, '')}of "
        rows.append([s.service, s.phase, s.pool, fmt_num(s.devices), f"{share}{fmt_quantity(s.demand, unit)}",
                     fmt_percent(s.slo_headroom), s.detail])
    print_fitted("services", [Col("service", ID), Col("phase", ID), Col("pool", ID), Col("devices"),
                              Col("served of demand"), Col("SLO headroom"), Col("operating point", TEXT)], rows)
    stacks = dict.fromkeys((s.service, s.pool, s.serving_stack, s.precision, s.serving_stack_basis)
                           for s in p.services if s.serving_stack_basis is not None)  # each deployment's, once a pool
    for service, pool, stack, precision, basis in stacks:  # its stack, precision (hC58) and why that stack
        said = f"stack {stack}{f', {precision}' if precision else ''} ({basis})" if stack else basis  # image: hU67
        console.print(f"{service} on {pool}: {said}", markup=False, highlight=False, soft_wrap=True)
    rows = [[r.pool, r.phase, r.site, fmt_num(r.devices), fmt_num(r.new_devices),
             *((fmt_num(r.retired_devices),) if retiring else ()),
             f"{fmt_num(r.spare_nodes)} ({fmt_num(r.expected_nodes_down, 3)})" if r.spare_nodes else "-",
             fmt_num(r.racks), str(r.network_tiers), fmt_rate(r.facility_power_w, "W"), fmt_usd(r.capex_usd),
             fmt_usd(r.fleet_value_usd), fmt_usd(r.tco_usd_per_year)] for r in p.pools]
    print_fitted("pools", [Col("pool", ID), Col("phase", ID), Col("site", NUMBER, "left"), *map(Col, (
        "devices", "new", *(("retired",) if retiring else ()), "spare nodes (mean down)", "racks", "fabric tiers",
        "facility", "capex", "fleet value", "TCO/year"))], rows)
    for basis in dict.fromkeys(r.spare_rate_basis for r in p.pools if r.spare_rate_basis and r.expected_nodes_down):
        console.print(f"spares on {basis}", markup=False, soft_wrap=True, highlight=False)
    last = p.phases[-1].phase
    for site in p.sites:
        if site.phase == last:
            console.print(f"site {site.site} ({site.location}): {fmt_rate(site.facility_power_w, 'W')} of "
                          f"{fmt_rate(site.power_cap_w, 'W')} ({fmt_percent(site.utilisation)})")
    console.print(f"total ({last}): {_totals(p)}")
    if p.cost_reason:
        console.print(f"{not_priced(p)}: {p.cost_reason}", soft_wrap=True)
    if p.capex_unpriced_parts:
        console.print(priced_parts_line(p), soft_wrap=True, markup=False, highlight=False)
    if p.price_note:
        console.print(f"price: {p.price_note}", soft_wrap=True)
    if p.embodied_co2_reason:  # tCO2e/yr op.: location-based operational; emb.: the hardware's, over its life
        console.print(f"embodied carbon not counted: {p.embodied_co2_reason}", soft_wrap=True, markup=False)
    if p.pricing:  # how the MILP priced the pools (planning/sized_pricing.py)
        console.print(f"pricing: {p.pricing}", markup=False, soft_wrap=True, highlight=False)
    if p.optimality:  # --optimality-gap (planning/scenario_bound.py)
        console.print(f"optimality: {p.optimality}", markup=False, soft_wrap=True, highlight=False)
    if p.figures_note:
        console.print(f"note: {p.figures_note}", markup=False, soft_wrap=True)
    for note in p.notes:  # what the training rows' goodput and a video service's streams rest on
        console.print(f"note: {note}", markup=False, soft_wrap=True, highlight=False)
    last_it_w = sum(r.it_power_w for r in p.pools if r.phase == last)  # the band's quantity (error_band)
    print_band(band_or_why(p.error_band, p.error_band_basis, "IT power", last_it_w, "W"))
    if p.tornado:
        print_fitted("what moves TCO most (--vary)", [Col("parameter", ID), *map(Col, (
            "low", "high", "TCO at low", "TCO at high", "swing"))],
            [[row.parameter, _with_unit(row.low_value, row.unit), _with_unit(row.high_value, row.unit),
              fmt_usd(row.tco_low_usd_per_year), fmt_usd(row.tco_high_usd_per_year), fmt_usd(row.swing_usd_per_year)]
             for row in p.tornado])
    for line in not_sized(p):
        console.print(line, markup=False, highlight=False)
    for w in p.warnings:
        console.print(f"warning: {w}")


def not_sized(p: ScenarioPlan) -> list[str]:
    """The JSON's `excluded` ("SERVICE in PHASE on POOL: why"), one line per service, pool and reason with its
    phases: 'not sized: chat on mtia-400 (2025): delivered from 2026'. The text said nothing of them (hV53:
    gigawatt-2027's MTIA 400 pool, named for LLM serving, served nothing for want of a stack until hM69, and the
    summary gave no reason)."""
    merged: dict[tuple[str, str], list[str]] = {}
    for entry in p.excluded:
        phase = next((ph.phase for ph in p.phases if f" in {ph.phase} on " in entry), None)
        if phase is None:  # not the planner's form: as it is
            merged.setdefault((entry, ""), [])
            continue
        service, rest = entry.split(f" in {phase} on ", 1)
        merged.setdefault((service, rest), []).append(phase)
    lines = []
    for (service, rest), phases in merged.items():
        pool, _, why = rest.partition(": ")
        lines.append(f"not sized: {service}" if not phases else
                     f"not sized: {service} on {pool} ({', '.join(phases)}): {why}")
    return lines


def _with_unit(value: float, unit: str) -> str:
    """A --vary end in its unit: 8 MW, $29.4 k, $0.05/kWh, 7,000 devices, 1.2 (a PUE), 0.3 (a fraction)."""
    if unit == "W":
        return fmt_rate(value, "W")
    if unit == "USD per device":
        return fmt_usd(value)
    if unit == "USD/kWh":
        return f"${value:.3g}/kWh"
    return f"{fmt_num(value)} devices" if unit == "devices" else fmt_num(value)


def plan(
    scenario: str = typer.Argument(..., help="scenario YAML (see examples/meta-2024.yaml)"),
    report: str | None = typer.Option(None, "--report", help="write a self-contained HTML report here"),
    out: str | None = typer.Option(None, "--out", help="write Parquet tables (services, pools, racks, sites, "
                                   "phases) into this existing folder"),
    vary: list[str] = typer.Option([], "--vary", help="tornado: NAME=LOW..HIGH, NAME=±P% or NAME=-P%..+Q% "
                                   "(electricity, pue, headroom, POOL.price, POOL.available, SITE.power); repeatable"),
    optimality_gap: bool = typer.Option(False, "--optimality-gap", help="also prove a lower bound on the optimum "
                                        "and say how far the answer can be from it (prices every count of every "
                                        "pool: slower)"),
    as_json: JsonFlag = False,
) -> None:
    """Plan a fleet from a scenario: demand to devices, racks, sites, MW, capex, TCO and tCO2e per phase."""
    from infraplan.catalog.output_files import check_output_path, write_together
    from infraplan.errors import InputError
    from infraplan.planning.compare import plan_with_tornado
    from infraplan.planning.scenario_outputs import parquet_files, report_writer, write_report

    if report is not None:
        check_html_path(report, "--report")
    if out is not None:
        if not out.strip():  # --out "" wrote the tables into the working folder (hL70), as `sweep --out` refuses
            raise InputError("--out must name a folder")
        try:
            is_dir, exists = Path(out).is_dir(), Path(out).exists()
        except (OSError, ValueError) as exc:
            raise InputError(f"--out: cannot use {out[:80]!r}: {getattr(exc, 'strerror', None) or exc}") from None
        if not is_dir:
            raise InputError(f"--out: {out[:80]!r} is a file, not a folder" if exists else
                             f"--out: folder {out[:80]!r} does not exist")
        check_output_path(str(Path(out) / "phases.parquet"), "--out")
    with stage_bar(off=as_json) as tick:  # a 4 GW plan sizes for ~25 s CPU: each sizing told on stderr
        result = plan_with_tornado(scenario, list(vary), optimality_gap, progress=tick)
    written = []  # said under the tables, as `network --graphml` and `results --plot` say theirs (hU48)
    if out is not None:  # the tables and the report written together: a failure leaves every file as it was (hR80:
        # a report written before the tables failed stayed, replacing an earlier run's)
        files = parquet_files(result, out)
        with_report = [(report, report_writer(result))] if report is not None else []
        options = ["--out"] * len(files) + ["--report"] * len(with_report)  # each file's option in an error line
        tables = write_together([*files, *with_report], "--out", options)
        if report is not None:
            written.append(f"report written to {tables.pop()}")
        written.append(f"tables written to {Path(tables[0]).parent}: "
                       f"{', '.join(Path(t).name for t in tables)}")
    elif report is not None:
        written.append(f"report written to {write_report(result, report)}")
    emit(result, as_json, render_plan)
    if written and not as_json:
        console.print("; ".join(written), markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
