"""`infraplan compare`: scenarios side by side with deltas against the first (planning/compare.py)."""

from __future__ import annotations

import typer

from infraplan.cli.commands._fitted_table import ID, Col, print_fitted
from infraplan.cli.commands._output import band_or_why, console, emit, fmt_num, fmt_rate, fmt_usd, print_band, stage_bar
from infraplan.cli.commands.plan import not_priced, priced_parts_line
from infraplan.cli.options import JsonFlag
from infraplan.planning.scenario_results import ScenarioComparison

_ROWS = (("devices", "devices", fmt_num), ("h100_equivalents", "H100e", fmt_num),
         ("facility_power_w", "facility power (peak)", lambda v: fmt_rate(v, "W")),
         ("facility_power_average_w", "facility power (average)", lambda v: fmt_rate(v, "W")),
         ("capex_usd", "capex bought over the phases", fmt_usd),
         ("fleet_value_usd", "fleet value (installed base included)", fmt_usd),
         ("tco_usd_per_year", "TCO/year", fmt_usd),
         ("capex_priced_usd", "capex, priced parts", fmt_usd),
         ("fleet_value_priced_usd", "fleet value, priced parts", fmt_usd),
         ("tco_priced_usd_per_year", "TCO/year, priced parts", fmt_usd), ("energy_mwh_per_year", "MWh/year", fmt_num),
         ("co2_t_per_year", "tCO2e/year operational", fmt_num),
         ("embodied_co2_t_per_year", "tCO2e/year embodied", fmt_num),
         ("total_co2_t_per_year", "tCO2e/year total", fmt_num))


_PRICED_PARTS = ("capex_priced_usd", "fleet_value_priced_usd", "tco_priced_usd_per_year")


def _side_by_side(title: str, names: list[str], values: list[dict[str, float | None] | None],
                  same_parts: list[bool] | None = None) -> None:
    """The metrics of each scenario (None: not planned) with their deltas against the first. `same_parts` (a
    scenario has a pool without a price, hK77): also the money over its priced parts (`_PRICED_PARTS`; where every
    pool is priced they are the money rows), a delta only where a scenario leaves out the first's parts (the
    comparison's `deltas`, `compare._same_parts`)."""
    rows = []
    for key, label, fmt in _ROWS:
        if key in _PRICED_PARTS and same_parts is None:
            continue
        cells = []
        base = values[0][key] if values[0] is not None else None
        for i, v in enumerate(values):
            value = None if v is None else v[key]
            apart = key in _PRICED_PARTS and same_parts is not None and not same_parts[i]  # other parts: no delta
            if i == 0 or value is None or base is None or apart:  # None: a scenario has a pool without a price
                cells.append("-" if v is None else fmt(value))
                continue
            delta = value - base
            cells.append(f"{fmt(value)} ({'+' if delta >= 0 else '-'}{fmt(abs(delta))})")
        rows.append([label, *cells])
    print_fitted(title, [Col("metric", ID), *(Col(n) for n in names)], rows)


def render_comparison(c: ScenarioComparison) -> None:
    names = [p.scenario for p in c.scenarios]
    same = ([p.capex_unpriced_parts == c.scenarios[0].capex_unpriced_parts for p in c.scenarios]
            if any(p.capex_unpriced_parts for p in c.scenarios) else None)  # hK77: the priced parts' rows
    _side_by_side("scenarios side by side (delta vs the first)", names,
                  [{key: getattr(p, key) for key, _, _ in _ROWS} for p in c.scenarios], same)
    for line in c.precision_notes:  # an LLM service at different precisions on the sides (hC58)
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if c.like_for_like is not None:
        at = "; ".join(f"{s} at {', '.join(d)}" + (f", KV {c.like_for_like_kv_dtypes[s]}" if s in
                                                    c.like_for_like_kv_dtypes else "")
                       for s, d in c.like_for_like_dtypes.items())  # the KV dtype where the sides asked two (hB59)
        _side_by_side(f"like-for-like: {at} on every side (delta vs the first)", names, c.like_for_like,
                      None if same is None else [False] * len(names))  # (a re-plan's parts are not listed)
    for p in c.scenarios:
        if p.cost_reason:
            console.print(f"{p.scenario}: {not_priced(p)}: {p.cost_reason}", soft_wrap=True)
        if p.capex_unpriced_parts:
            console.print(f"{p.scenario}: {priced_parts_line(p)}", soft_wrap=True, markup=False, highlight=False)
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
    if as_json:  # each file's old price key line in its plan's warnings and risks, as the web's answer (hJ59)
        comparison = comparison.with_read_warnings([_read_warnings(path) for path in scenarios])
    emit(comparison, as_json, render_comparison)


def _read_warnings(path: str) -> list[str]:
    """The lines reading the scenario file at `path` warned of (a pool's old price key; web/scenarios.py
    `read_warnings` says them so for an upload). The file was read by the comparison: it is there and parses."""
    from pathlib import Path

    from infraplan.catalog.user_files import parse_text
    from infraplan.planning.pool_price_key import old_price_key_warning

    line = old_price_key_warning(parse_text(Path(path).read_text(encoding="utf-8"), path))
    return [line] if line else []


def register(app: typer.Typer) -> None:
    app.command("compare")(compare)
