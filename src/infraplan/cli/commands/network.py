"""`infraplan network`: the explicit Clos fabric of a system: switches per tier, links, optics, power, capex."""

from __future__ import annotations

import typer

from infraplan.catalog.output_files import check_output_path
from infraplan.cli.commands._fitted_table import ID, Col, print_fitted
from infraplan.cli.commands._output import (
    band_or_why,
    console,
    device_word,
    emit,
    fmt_num,
    fmt_rate,
    fmt_usd,
    print_band,
)
from infraplan.cli.options import ACCELERATORS, JsonFlag
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.network.costs import describe_fabric
from infraplan.network.rail_leaves import FABRICS, with_fabric
from infraplan.network.results import FabricTier, NetworkReport

GRAPHML_SUFFIXES = (".graphml", ".xml")
"""What `--graphml` may be named: GraphML is XML (networkx's `write_graphml`), read back by the same suffixes."""


def _versus_clos(r: NetworkReport) -> str:
    """Each of switches, capex and power against the system's Clos in its own direction (a few domains per rail:
    fewer switches can still cost more). One sign for all three printed "costs more by -779 switches, $3.92 M and
    -362 kW" for the RoCE 24K cluster, which has fewer switches and less power but more capex (hU48)."""
    assert r.clos_switches_count is not None and r.clos_capex_usd is not None and r.clos_power_w is not None
    terms = ((r.switches_total - r.clos_switches_count, lambda v: f"{v:,}", "switches", ("fewer", "more")),
             (r.capex_usd - r.clos_capex_usd, fmt_usd, "capex", ("less", "more")),
             (r.power_w - r.clos_power_w, lambda v: fmt_rate(v, "W"), "power", ("less", "more")))
    return ", ".join(f"the same {name}" if diff == 0 else f"{show(abs(diff))} {words[diff > 0]} {name}"
                     for diff, show, name, words in terms)


def _oversubscription(t: FabricTier) -> str:
    """The table's "oversub.": the tier's bandwidth oversubscription (its NICs' bandwidth over its uplinks', the
    JSON's `bandwidth_oversubscription`, which the collective models price; the column showed the port ratio, hN62),
    with its port ratio beside it, labelled, where NICs slower than the leaf ports make the two differ
    ("3.2:1" over "(6.4:1 ports)"). The header keeps its 8 columns: "bw oversub." wrapped the tier names at 100."""
    shown = f"{fmt_num(t.bandwidth_oversubscription, 3)}:1"
    ports = f"{fmt_num(t.oversubscription, 3)}:1"
    return shown if ports == shown else f"{shown}\n({ports} ports)"  # two lines: the table stays narrow


def render_fabric(r: NetworkReport, device: str = "GPU") -> None:
    """`device`: what the title and the per-device figures call one accelerator (`_output.device_word`: GPU, TPU,
    CPU or accelerator; "72 GPUs" titled an MTIA rack). The JSON keeps `power_w_per_gpu`, which clients parse."""
    layout = ", rail-only" if r.rail_only else ", rail-optimised" if r.rail_optimized else ""
    # fitted to the terminal, as plan's tables: at 80 columns Rich cut "switch…", "oversu…", "(minip…" (hU58)
    cols = [Col("tier", ID), *(Col(name) for name in ("switches", "radix", "oversub.", "links below", "optics",
                                                     "power", "capex"))]
    rows = [[f"{t.name} ({t.switch_model})", f"{t.switches:,}", f"{t.radix} x {fmt_num(t.port_bytes_per_s * 8 / 1e9)}G",
             _oversubscription(t),
             f"{t.links_from_below:,} {'DAC' if t.link_medium == 'copper DAC' else 'opt'}",
             f"{t.transceivers:,}", fmt_rate(t.power_w, "W"), fmt_usd(t.capex_usd)] for t in r.tiers]
    print_fitted(f"{r.system}: {r.gpus:,} {device}s, {r.kind}{layout}", cols, rows)
    built = f" ({r.links_built_count:,} built)" if r.links_built_count != r.links_total else ""
    console.print(f"switches {r.switches_total:,}, links {r.links_total:,}{built}, transceivers "
                  f"{r.transceivers_total:,}; bisection {fmt_rate(r.bisection_bytes_per_s * 8, 'b/s')}; "
                  f"power {fmt_rate(r.power_w, 'W')} ({r.power_w_per_gpu:,.0f} W per {device}); capex "
                  f"{fmt_usd(r.capex_usd)} (${r.capex_usd_per_gpu:,.0f} per {device})")
    count = r.ecmp_flows_per_pair_count
    flows = f", {count} flow{'s' if count != 1 else ''} per {device} pair hashed" if count else ""
    said = "stated" if r.load_balancing_stated else "omitted: its kind's default"
    console.print(f"load balancing: {r.load_balancing}{flows} ({said})", highlight=False)
    if r.clos_switches_count is not None and r.clos_capex_usd is not None and r.clos_power_w is not None:
        console.print(f"vs the system's Clos: {r.clos_switches_count:,} switches, {fmt_usd(r.clos_capex_usd)}, "
                      f"{fmt_rate(r.clos_power_w, 'W')}; rail-only: {_versus_clos(r)}")
    if r.rails_count and r.rail_bisection_bytes_per_s is not None:
        console.print(f"{r.rails_count} rails (one per NIC of a scale-up domain), bisection "
                      f"{fmt_rate(r.rail_bisection_bytes_per_s * 8, 'b/s')} each; a byte to another rail crosses "
                      "the scale-up domain first")
    if r.graphml:
        console.print(f"graph written to {r.graphml}")
    for note in r.notes:  # wrapped to the terminal, as the table above
        console.print(f"note: {note}", highlight=False, markup=False)
    print_band(band_or_why(r.error_band, r.error_band_basis, "fabric"))


def network(
    system: str | None = typer.Argument(None, show_default=False,
                                        help="system preset, system YAML, or an accelerator preset "
                                        "(or give it as --system)"),
    system_option: str | None = typer.Option(None, "--system", help="the system, as the other commands take it"),
    gpus: int | None = typer.Option(None, "--gpus", parser=ACCELERATORS,
                                    help="GPUs to connect [default: the whole system]"),
    graphml: str | None = typer.Option(None, "--graphml", help="also write the switch/NIC graph as GraphML here"),
    fabric: str | None = typer.Option(None, "--fabric", help=" | ".join(FABRICS) + " [default: the system's own]"),
    as_json: JsonFlag = False,
) -> None:
    """Build the explicit folded-Clos fabric: switches per tier, links, transceivers, bisection, power, capex."""
    if (system is None) == (system_option is None):  # `--system` was "No such option" (every other command's, hU47)
        raise InputError("give the system once: infraplan network SYSTEM, or --system SYSTEM")
    system = system if system is not None else str(system_option)
    if graphml is not None:  # named for what it holds, as --plot and --report must name an .html file
        if not graphml.endswith(GRAPHML_SUFFIXES):
            raise InputError(f"--graphml must name a .graphml or .xml file, got {graphml!r}")
        check_output_path(graphml, "--graphml")
    from infraplan.planning.training_run import network_with_zone_note  # the command's own: others start without it

    cluster = Cluster.resolve(system)  # an accelerator preset at any size, as `train`
    sized = cluster if gpus is None else cluster.for_gpus(gpus)
    report = describe_fabric(with_fabric(sized.system, fabric), gpus, graphml, whole=sized.generic)
    emit(network_with_zone_note(report, sized, fabric, system), as_json,  # beyond one zone: facility's
         lambda shown: render_fabric(shown, device_word(system)))


def register(app: typer.Typer) -> None:
    app.command("network")(network)
