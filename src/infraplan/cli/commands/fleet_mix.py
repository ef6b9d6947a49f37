"""`infraplan fleet-mix`: which devices serve which inference services, as a MILP (HiGHS), vs a GPU-only fleet; an
LLM service's rows are followed by serve-plan's deployment line for each pool it uses."""

from __future__ import annotations

import typer

from infraplan.cli.commands._fitted_table import ID, TEXT, Col, print_fitted
from infraplan.cli.commands._output import (
    band_or_why,
    console,
    emit,
    fmt_num,
    fmt_percent,
    fmt_rate,
    fmt_usd,
    print_band,
)
from infraplan.cli.options import JsonFlag
from infraplan.planning.fleet_mix_results import FleetMixResult, FleetMixTotals


def _print_totals(label: str, t: FleetMixTotals) -> None:
    """Two lines (each under 100 columns): what is bought, then its power and money; where a pool used has no price,
    a third: the money of the priced parts and the servers it leaves out (as `plan`'s, hK2-77)."""
    bought = (f"{t.devices_bought:,} devices bought in {t.servers:,} server{'' if t.servers == 1 else 's'} "
              f"({t.devices:,} used)")  # whole servers, as facility --count houses them (hF2)
    money = (f"{fmt_rate(t.power_w, 'W')} peak IT ({fmt_rate(t.facility_power_w, 'W')} facility), capex "
             f"{fmt_usd(t.capex_usd)}, TCO {fmt_usd(t.tco_usd_per_year)}"
             f"{'' if t.tco_usd_per_year is None else '/year'}")
    console.print(f"{label}: {bought}", markup=False, highlight=False)
    console.print(f"  {money}", markup=False, highlight=False)
    if t.capex_unpriced_parts:
        console.print(f"  priced parts (no {', '.join(t.capex_unpriced_parts)}): capex {fmt_usd(t.capex_priced_usd)}, "
                      f"TCO {fmt_usd(t.tco_priced_usd_per_year)}/year", markup=False, highlight=False, soft_wrap=True)


def _llm_point(a: dict) -> str:
    """An LLM row's operating point, short (the full serve-plan line follows the table)."""
    from infraplan.planning.fleet_mix_llm import deployment_short

    return deployment_short(a["replicas"], a["tp"], a["pp"], a["dtype"], a["devices"],
                            attention_dp=a.get("attention_dp", 1),
                            prefill=a["prefill_replicas"] if a["disaggregated"] else None)


def render_fleet(r: FleetMixResult) -> None:
    rows = []
    for a in r.assignment:
        unit = {"qps": "QPS", "streams": "streams"}.get(a["unit"], a["unit"])
        point = (f"batch {a['batch']}, {fmt_num(a['latency_s'] * 1e3, 3)} ms, {a['bound']}" if a["unit"] == "qps"
                 else _llm_point(a) if a["unit"] == "requests/s" else f"{a['encoder']}")
        rows.append([a["service"], a["pool"], f"{a['devices']:,}", fmt_rate(a["capacity_per_device"], unit),
                     fmt_rate(a["served"], unit), fmt_rate(a["power_w"], "W"), fmt_usd(a["tco_usd_per_year"]), point])
    print_fitted(f"fleet mix {r.fleet} (objective: {r.objective})", [
        Col("service", ID), Col("pool", ID), *map(Col, ("devices", "per device", "served", "power", "TCO/year")),
        Col("operating point", TEXT)], rows)
    for a in (a for a in r.assignment if a["unit"] == "requests/s"):  # serve-plan's deployment, as it prints it
        console.print(f"{a['service']} on {a['pool']}: {a['deployment']}", markup=False, highlight=False)
        if a.get("serving_stack_basis"):  # which stack the pool's deployment ran, its precision (hC58), and why
            precision = f", {a['precision']}" if a.get("precision") else ""  # (fleet_mix_llm.stack_basis)
            console.print(f"  stack {a['serving_stack']}{precision}: {a['serving_stack_basis']}", markup=False,
                          highlight=False)
        if a.get("note"):
            console.print(f"  note: {a['note']}", markup=False, highlight=False)
    merged: dict[tuple[str, str], list[str]] = {}  # the JSON's `excluded`, one line per pool and reason (hV53)
    for e in r.excluded:
        merged.setdefault((e["pool"], e["reason"]), []).append(e["service"])
    for (pool, why), services in merged.items():
        console.print(f"not sized: {', '.join(services)} on {pool}: {why}", markup=False, highlight=False)
    console.print("servers bought:")
    for p in (p for p in r.pools if p.servers):
        console.print(f"  {p.pool}: {p.used:,} used in {p.servers:,} x {p.devices_per_server} "
                      f"({fmt_rate(p.power_w or 0.0, 'W')})", markup=False, highlight=False)
    _print_totals("total", r.totals)
    if r.solver.get("pricing"):
        console.print(f"pricing: {r.solver['pricing']}", markup=False, highlight=False)
    if r.solver.get("optimality"):  # --optimality-gap (planning/sized_pricing.close_gap)
        console.print(f"optimality: {r.solver['optimality']}", markup=False, soft_wrap=True, highlight=False)
    if r.gpu_only is not None and r.saving_vs_gpu_only is not None:
        s = r.saving_vs_gpu_only
        _print_totals("GPU-only fleet", r.gpu_only.totals)
        tco = ("TCO not priced" if s["tco_usd_per_year"] is None else  # a pool without a price: cost_reason
               f"{fmt_usd(s['tco_usd_per_year'])}/year ({fmt_percent(s['tco_usd_per_year_fraction'])}) of TCO")
        power = f"{fmt_rate(s['power_w'] or 0.0, 'W')} ({fmt_percent(s['power_w_fraction'])})"
        console.print(f"saving vs GPU-only: {power} of power, {tco}")
    else:
        console.print(f"GPU-only fleet: {r.gpu_only_note}")
    if r.cost_reason:
        console.print(f"capex and TCO not priced: {r.cost_reason}", soft_wrap=True)
    if r.price_note:
        console.print(f"price: {r.price_note}", soft_wrap=True)
    if r.figures_note:
        console.print(f"note: {r.figures_note}", markup=False)
    for note in r.notes:  # what a video or recsys service's capacity per device rests on (pool_capacity)
        console.print(f"note: {note}", markup=False, highlight=False)
    for line in r.precision_notes:  # an LLM service's pools at different precisions: unlike (hB59)
        console.print(f"precision: {line}", markup=False, highlight=False, soft_wrap=True)
    print_band(band_or_why(r.error_band, r.error_band_basis, "IT power", r.totals.power_w, "W"))


def fleet_mix(
    spec: str = typer.Argument(..., help="fleet spec YAML (see examples/fleet-mix.yaml)"),
    objective: str | None = typer.Option(None, "--objective", help="power | tco [default: the spec's]"),
    optimality_gap: bool = typer.Option(False, "--optimality-gap", help="also prove a lower bound on the optimum "
                                        "and say how far the answer can be from it (prices every count of every "
                                        "pool used: slower)"),
    as_json: JsonFlag = False,
) -> None:
    """Place inference services (ranking, video, LLM) on pools (MTIA, GPU, CPU, MSVP) minimising power or TCO.

    An LLM service is sized under its TTFT / TPOT SLOs by serve-plan's capacity search on each pool."""
    from infraplan.planning.fleet_mix import plan_fleet

    emit(plan_fleet(spec, objective, optimality_gap=optimality_gap), as_json, render_fleet)


def register(app: typer.Typer) -> None:
    app.command("fleet-mix")(fleet_mix)
