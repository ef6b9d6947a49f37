"""`infraplan facility`: size a data centre for a system or N accelerators: power, racks, water, cost, carbon."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from infraplan.cli.commands._output import (
    band_or_why,
    check_html_path,
    console,
    device_word,
    emit,
    fmt_num,
    fmt_rate,
    fmt_usd,
    metric_table,
    print_band,
)
from infraplan.cli.options import (
    ACCELERATORS,
    PRICE,
    PUE,
    BuildTypeOption,
    CoolingOption,
    CostsOption,
    ElectricityPriceOption,
    JsonFlag,
    OptionalSystem,
)
from infraplan.cluster import Cluster
from infraplan.cluster.cost import CostOverrides, load_cost_overrides
from infraplan.facility.facility import size_facility
from infraplan.facility.plots import facility_figure, write_html
from infraplan.facility.results import FacilityReport
from infraplan.units import parse_stated_power_w

if TYPE_CHECKING:
    from infraplan.planning.results import CampusPlan

Charted = TypeVar("Charted", "FacilityReport", "CampusPlan")  # the answers with charts (`emit_charted`)


def render_facility(r: FacilityReport, device: str = "GPU", zoned: bool = False, typed: str | None = None) -> None:
    """`device`: what the money rows call one accelerator (`_output.device_word`: $/accelerator-h on MTIA);
    `zoned`: the accelerators were built as zones joined at 1:7 (`zones_line`); `typed`: the --accelerator given."""
    what = r.system or f"{r.accelerators:,} × {r.accelerator}"
    table = metric_table(f"facility for {what}: {r.cooling} cooling, {r.location} ({r.climate}), "
                         f"{r.build_type} build")
    rows = [
        ("IT power (peak)", fmt_rate(r.it_power_w, "W")),
        ("facility power (peak)", fmt_rate(r.facility_power_w, "W")),
        ("IT / facility power (average)", average_power_text(r)),
        ("PUE", f"{r.pue:.3f}"),
        ("racks", racks_text(r)),
        ("floor area (white space)", f"{r.floor_area_m2:,.0f} m²"),
        ("water", f"{r.water_m3_per_year:,.0f} m³/year"),
        *money_rows(r, device),
        ("energy", energy_text(r.energy_mwh_per_year, r)),
        *co2_rows(r.co2_t_per_year, r.embodied_co2_t_per_year, r.total_co2_t_per_year),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    if r.rack_fit is not None and r.rack_fit.note:
        console.print(f"note: {r.rack_fit.note}", soft_wrap=True, markup=False)
    if r.cost_reason:
        console.print(unpriced_line(r.cost_reason, device), soft_wrap=True)
    if r.price_note:
        console.print(f"price: {r.price_note}", soft_wrap=True)
    if r.count_note:
        console.print(f"note: {r.count_note}", soft_wrap=True, markup=False, highlight=False)
    if r.rack_fabric_note:  # racks of another size than the fabric's top-of-rack leaves (hO65)
        console.print(f"note: {r.rack_fabric_note}", soft_wrap=True, markup=False, highlight=False)
    if zoned:
        console.print(zones_line(r, device, typed), soft_wrap=True, markup=False, highlight=False)
    for note in r.figures_notes:  # the accelerator's figures' standing (`catalog.figures.figures_notes`)
        console.print(f"note: {note}", soft_wrap=True, markup=False, highlight=False)
    facility_band_lines(r)


def facility_band_lines(r: FacilityReport) -> None:
    """The IT power band line and the cost one (or why there is none: `error_band_basis`)."""
    print_band(band_or_why(r.error_band, r.error_band_basis, "IT power", r.it_power_w, "W"))
    print_band(band_or_why(r.cost_error_band, r.cost_error_band_basis, "cost", label="error band (cost)"))


def racks_text(r: FacilityReport) -> str:
    """The racks by what they hold: '1,535 × 20.4 kW (16 accelerators) + 1 × 10.2 kW (8 accelerators)'; a site
    with no full rack also says what a full one holds."""
    rows = r.racks_by_fill or []
    text = " + ".join(f"{x.racks:,} × {fmt_rate(x.rack_power_w, 'W')} ({x.accelerators_per_rack} accelerators)"
                      for x in rows) or f"{r.racks:,}"
    if not r.full_racks:
        text += f"; a full rack holds {r.accelerators_per_rack}, {fmt_rate(r.rack_power_w, 'W')}"
    return text


def average_power_text(r: FacilityReport) -> str:
    """The average IT / facility draw and the load it is taken at (peak x `assumptions.load_factor`, hC57): the row
    `facility` and `campus` print beside the peak."""
    return (f"{fmt_rate(r.it_power_average_w, 'W')} / {fmt_rate(r.facility_power_average_w, 'W')} "
            f"(peak x {r.assumptions.load_factor * 100:.3g} % load)")


def energy_text(energy_mwh_per_year: float, r: FacilityReport) -> str:
    """The energy a year and the average load it is counted at (peak x `assumptions.load_factor`: the figure a
    planner checks first, hU58)."""
    return f"{energy_mwh_per_year:,.0f} MWh/year at {r.assumptions.load_factor * 100:.3g} % load"


def co2_rows(operational_t: float, embodied_t: float | None, total_t: float | None) -> list[tuple[str, str]]:
    """The carbon rows every infrastructure table prints: operational (location-based), embodied (the hardware's
    manufacturing over its life) and their sum; without an embodied figure the operational one only."""
    rows = [("CO2 operational (location-based)", f"{fmt_num(operational_t, 3)} t/year")]
    if embodied_t is None or total_t is None:
        return rows + [("CO2 embodied", "no catalog figure")]
    return rows + [("CO2 embodied (over the servers' life)", f"{fmt_num(embodied_t, 3)} t/year"),
                   ("CO2 total", f"{fmt_num(total_t, 3)} t/year")]


def money_rows(r: FacilityReport, device: str = "GPU") -> list[tuple[str, str]]:
    """The capex, opex and $ per device-hour rows (`device`: GPU, TPU, CPU or accelerator, `_output.device_word`;
    the JSON keeps `usd_per_gpu_hour`); without a server price only the electricity bill."""
    if r.capex_usd is None or r.opex_usd_per_year is None or r.usd_per_gpu_hour is None:
        priced = [(f"capex {' / '.join(r.capex_priced_usd)} (no {', '.join(r.capex_unpriced_parts)})",
                   " / ".join(fmt_usd(v) for v in r.capex_priced_usd.values()))] if r.capex_priced_usd else []
        return [*priced, ("electricity", fmt_usd(r.opex_breakdown_usd_per_year["electricity"]) + "/year")]
    rows = [("capex servers / network / facility", " / ".join(fmt_usd(v) for v in r.capex_usd.values())),
            ("opex", fmt_usd(r.opex_usd_per_year) + "/year")]
    if r.tco_usd_per_year is not None:  # the annual cost a planner budgets, in the JSON only before (hU58)
        rows.append(("TCO (annualised capex + opex)", fmt_usd(r.tco_usd_per_year) + "/year"))
    return rows + [(f"cost per {device}-hour", f"${r.usd_per_gpu_hour:.2f}/{device}-h")]


def zones_line(r: FacilityReport, device: str = "GPU", typed: str | None = None) -> str:
    """What the network of `count` accelerators beyond one zone is (the JSON's `network.model`), and that `network`
    prices one non-blocking Clos of them (`planning.training_run.zoned_network_note` says it from that side):
    24,576 H100 are 1,326 switches here, 2,048 there. The count is the fabric's (whole scale-up domains). `typed`:
    the --accelerator given, a file's path named as the user gave it (`typed_part`; hU53: a part file's name)."""
    from infraplan.planning.training_run import typed_part

    return (f"note: network built as `campus` and `plan` build it: {r.network.model}: {r.network.switches:,} "
            f"switches in {r.network.tiers} tiers; `network {typed_part(r.accelerator, typed)} --gpus N`, `train` and "
            f"`serve` price one non-blocking Clos of the {r.network.fabric_accelerators:,} {device}s instead")


def unpriced_line(reason: str, device: str = "GPU") -> str:
    """The line saying why the money is not priced, in the device's word ("$/GPU-h" read wrong on MTIA, hN42); the
    network and facility capex, which need no server price, are priced beside it (`money_rows`, hK76)."""
    return f"server capex, opex and $/{device}-h not priced: {reason}"


def site_overrides(costs: str | None, pue: float | None, electricity_price: float | None,
                   server_price: float | None, plot: str | None) -> CostOverrides:
    """The cost overrides `facility` and `campus` price by: the --costs file's, the flags on top; --plot checked
    first, refused as any name without .html (hL70: --plot "" wrote nothing, silently). One place for both (hD77)."""
    if plot is not None:
        check_html_path(plot, "--plot")
    return load_cost_overrides(costs).merged(pue=pue, electricity_usd_per_mwh=electricity_price,
                                             server_usd_per_accelerator=server_price)


def facility(
    system: OptionalSystem = None,
    accelerator: str | None = typer.Option(None, "--accelerator",
                                           help="accelerator or system preset, or YAML path (with --count; a "
                                           "system builds a count it holds on its own fabric, as `network`, a "
                                           "larger one as its accelerator)"),
    count: int | None = typer.Option(None, "--count", parser=ACCELERATORS,
                                     help="number of accelerators (with --accelerator); above one zone "
                                     "(2,048 NIC links) built as `campus` builds them: zones joined at 1:7"),
    cooling: CoolingOption = None,
    location: str | None = typer.Option(None, "--location", help="location preset (ohio, louisiana, ...) or YAML "
                                        "file [default: us-average]"),
    build_type: BuildTypeOption = None,
    rack_power: str | None = typer.Option(None, "--rack-power", help="target rack density, e.g. 40kW (without "
                                          "--cooling: the first of air, liquid, immersion that allows it)"),
    pue: float | None = typer.Option(None, "--pue", parser=PUE,
                                     help="override the PUE (facility power / IT power, dimensionless)"),
    electricity_price: ElectricityPriceOption = None,
    server_price: float | None = typer.Option(None, "--server-price", parser=PRICE,
                                              help="override server $ per accelerator"),
    costs: CostsOption = None,
    plot: str | None = typer.Option(None, "--plot", help="write power/capex charts to this HTML file"),
    as_json: JsonFlag = False,
) -> None:
    """Size the data centre: IT and facility power, racks, floor, water, capex, opex, $/GPU-h, energy, CO2."""
    overrides = site_overrides(costs, pue, electricity_price, server_price, plot)
    # an empty --rack-power is refused ("empty quantity"), not the default in silence (hJ58)
    rack_w = parse_stated_power_w(rack_power, "--rack-power") if rack_power is not None else None
    report = size_facility(system=system, accelerator=accelerator, count=count, cooling=cooling, location=location,
                           build_type=build_type, rack_power_w=rack_w, overrides=overrides)
    emit_charted(report, as_json, lambda shown: render_facility(shown, device_word(system or accelerator or ""),
                                                                _zoned(accelerator, count), accelerator),
                 plot, lambda r: facility_figure(r.model_dump(), title=f"infraplan facility: {r.accelerator}"))


def emit_charted(result: Charted, as_json: bool, render: Callable[[Charted], None], plot: str | None,
                 figure: Callable[[Charted], Any]) -> None:
    """`emit` a facility or campus answer; with --plot, `figure(result)` written to that HTML file first, the file
    named in the answer's `plot` and, on the terminal, in a line after the tables (as `network --graphml` and
    `results --plot` say theirs, hU48)."""
    if plot:
        result = result.model_copy(update={"plot": write_html(figure(result), plot)})
    emit(result, as_json, render)
    if result.plot and not as_json:
        console.print(f"charts written to {result.plot}", markup=False, highlight=False, soft_wrap=True)


def _zoned(accelerator: str | None, count: int | None) -> bool:
    """Whether `--accelerator --count` was built as zones joined at 1:7 (more than one zone's accelerators)."""
    from infraplan.planning.training_run import beyond_one_zone

    return accelerator is not None and count is not None and beyond_one_zone(Cluster.for_count(accelerator, count))


def register(app: typer.Typer) -> None:
    app.command("facility")(facility)
