"""`infraplan compare`: scenarios side by side with deltas against the first (planning/compare.py)."""

from __future__ import annotations

import typer

from infraplan.cli.commands._fitted_table import ID, Col, print_fitted
from infraplan.cli.commands._output import band_or_why, console, emit, fmt_num, fmt_rate, fmt_usd, print_band, stage_bar
from infraplan.cli.options import JsonFlag
from infraplan.planning.scenario_results import ScenarioComparison

_ROWS = (("devices", "devices", fmt_num), ("h100_equivalents", "H100e", fmt_num),
         ("facility_power_w", "facility power (peak)", lambda v: fmt_rate(v, "W")),
         ("facility_power_average_w", "facility power (average)", lambda v: fmt_rate(v, "W")),
         ("capex_usd", "capex bought over the phases", fmt_usd),
         ("fleet_value_usd", "fleet value (installed base included)", fmt_usd),
         ("tco_usd_per_year", "TCO/year", fmt_usd), ("energy_mwh_per_year", "MWh/year", fmt_num),
         ("co2_t_per_year", "tCO2e/year operational", fmt_num),
         ("embodied_co2_t_per_year", "tCO2e/year embodied", fmt_num),
         ("total_co2_t_per_year", "tCO2e/year total", fmt_num))


def render_comparison(c: ScenarioComparison) -> None:
    rows = []
    for key, label, fmt in _ROWS:
        cells = []
        for i, p in enumerate(c.scenarios):
            value, delta = getattr(p, key), c.deltas[i][key]
            if i == 0 or delta is None:  # None: either scenario has a pool without a price (its cost_reason)
                cells.append(fmt(value))
                continue
            cells.append(f"{fmt(value)} ({'+' if delta >= 0 else '-'}{fmt(abs(delta))})")
        rows.append([label, *cells])
    print_fitted("scenarios side by side (delta vs the first)",
                 [Col("metric", ID), *(Col(p.scenario) for p in c.scenarios)], rows)
    for p in c.scenarios:
        if p.cost_reason:
            console.print(f"{p.scenario}: capex and TCO not priced: {p.cost_reason}", soft_wrap=True)
        if p.price_note:
            console.print(f"{p.scenario}: price: {p.price_note}", soft_wrap=True)
        if p.embodied_co2_reason:
            console.print(f"{p.scenario}: embodied carbon not counted: {p.embodied_co2_reason}", soft_wrap=True,
                          markup=False)
    for p, risks in zip(c.scenarios, c.risks, strict=True):
        for r in risks:
            console.print(f"risk ({p.scenario}): {r}")
    for p in c.scenarios:  # each scenario's own band (the comparison has none of its own: error_band_basis)
        print_band(f"{p.scenario}: " + band_or_why(p.error_band, p.error_band_basis, "IT power"))


def compare(
    scenarios: list[str] = typer.Argument(..., help="two or more scenario YAML files"),
    as_json: JsonFlag = False,
) -> None:
    """Compare scenarios side by side: devices, MW, capex, TCO/yr, tCO2e, risks."""
    from infraplan.planning.compare import compare_scenarios

    with stage_bar(off=as_json) as tick:  # each scenario's sizings on stderr, as `plan`'s
        comparison = compare_scenarios(list(scenarios), tick)
    emit(comparison, as_json, render_comparison)


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
