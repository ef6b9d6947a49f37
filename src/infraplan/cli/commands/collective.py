"""`infraplan collective`: time, algbw and busbw of one collective on a placed group, analytical or flow-level."""

from __future__ import annotations

from dataclasses import replace

import typer

from infraplan.cli.commands._output import (
    band_or_why,
    console,
    device_word,
    emit,
    fmt_bytes,
    fmt_rate,
    fmt_seconds,
    print_band,
)
from infraplan.cli.options import ACCELERATORS, SEED, AlgorithmOption, JsonFlag, SimOption, count
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.rail_leaves import FABRICS, with_fabric
from infraplan.network.results import CollectiveResult
from infraplan.units import parse_bytes


def render_collective(r: CollectiveResult, device: str = "GPU") -> None:
    """`device`: what the text calls one member of the group (`_output.device_word`: "8 GPUs of xeon-8480" read
    wrong, hU45); the JSON keeps `gpus`."""
    console.print(f"{r.op} of {fmt_bytes(r.size_bytes)} on {r.gpus:,} {device}s of {r.system} "
                  f"({r.placement}, stride {r.stride}), {r.algorithm}, {r.sim} model")
    console.print(f"time {fmt_seconds(r.time_s)}; algbw {fmt_rate(r.algbw_bytes_per_s, 'B/s')}; "
                  f"busbw {fmt_rate(r.busbw_bytes_per_s, 'B/s')}; bottleneck: {r.bottleneck_tier}")
    if r.sim == "flow":
        console.print(f"train and serve price it at {fmt_seconds(r.priced_time_s)} ({r.priced_time_s / r.time_s:.3g}x "
                      f"the flow simulation above, which they do not use): {r.priced_basis}", markup=False,
                      highlight=False)
        if r.sized_time_s is not None and r.analytical_answer_time_s:  # one answer with `--sim analytical` (hF74)
            console.print(f"at the message-size efficiency `--sim analytical` reads: {fmt_seconds(r.sized_time_s)} "
                          f"({r.sized_time_s / r.analytical_answer_time_s:.3g}x its answer; the flow time above is "
                          "fluid, network.flow_sized)", markup=False, highlight=False)
    else:  # the priced time is the answer (hC52); the alpha-beta line beside it
        if r.time_s == r.priced_time_s:
            console.print(f"as train and serve price it: {r.priced_basis}", markup=False, highlight=False)
        else:
            console.print(f"time: {r.time_basis}; train and serve price NCCL's own choice at "
                          f"{fmt_seconds(r.priced_time_s)}: {r.priced_basis}", markup=False, highlight=False)
        console.print(f"alpha-beta line (no message-size efficiency; the flow model's line): "
                      f"{fmt_seconds(r.alpha_beta_time_s)}, {r.alpha_beta_time_s / r.time_s:.3g}x the time",
                      markup=False, highlight=False)
    if r.analytical_time_s is not None:
        per = ("one per aggregation tree and in-domain ring pair" if r.algorithm == "sharp"  # hC's tree flows
               else f"{r.flows_per_pair} per {device} pair across nodes")
        said = ("" if r.analytical_answer_time_s is None or r.analytical_answer_time_s == r.analytical_time_s
                else f" (`--sim analytical` answers {fmt_seconds(r.analytical_answer_time_s)}: the priced time)")
        drawn = f"seed {r.seed}" if r.seed is not None else "nothing drawn (adaptive routing, no failed link)"
        console.print(f"alpha-beta line (the analytical model before message-size efficiency): "
                      f"{fmt_seconds(r.analytical_time_s)}{said}; {r.flows or 0:,} flows ({per}), {drawn}",
                      markup=False, highlight=False)
        if r.difference_reason:
            console.print(f"why they differ: {r.difference_reason}")
    console.print("assumes: " + "; ".join(r.assumptions))
    for note in r.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    print_band(band_or_why(r.error_band, r.error_band_basis, "busbw", r.busbw_bytes_per_s, "B/s"))


def collective(
    op: str = typer.Argument(..., help="all-reduce | reduce-scatter | all-gather | all-to-all | send-recv"),
    system: str = typer.Option(..., "--system", help="system preset or path to a system YAML"),
    gpus: int = typer.Option(..., "--gpus", parser=ACCELERATORS, help="GPUs in the group"),
    size: str = typer.Option(..., "--bytes", help="buffer size per rank, a whole number of bytes, e.g. 1GiB, "
                              "256MB or 4096 (a bare number is bytes, the unit in the option's name)"),
    placement: str = typer.Option("packed", "--placement", help="packed | spread (evenly over the system)"),
    algorithm: AlgorithmOption = "auto",
    sim: SimOption = "analytical",
    flows_per_pair: int | None = typer.Option(None, "--flows-per-pair",
                                              parser=count(1, 1024),
                                              help="flows (QPs) per GPU pair (flow sim; each hashed onto one "
                                                   "path on an ECMP fabric, spread on an adaptive one) [default: "
                                                   "the system's]"),
    seed: int | None = typer.Option(None, "--seed", parser=SEED, help="seed of the ECMP hashes and failed links "
                                    "(flow sim; an adaptive fabric hashes nothing) [0]"),
    failed_links: str | None = typer.Option(None, "--failed-links",
                                            help="flow sim: fail uplinks of a tier, TIER:COUNT or TIER:FRACTION "
                                                 "(e.g. pod:1%), chosen with --seed; routing avoids them"),
    fabric: str | None = typer.Option(None, "--fabric", help=" | ".join(FABRICS) + " [default: the system's own]"),
    sharp: bool = typer.Option(False, "--sharp", help="enable IB SHARP in-network all-reduce (NCCL CollNet, "
                               "NCCL_COLLNET_ENABLE=1) where the fabric's switches support it"),
    as_json: JsonFlag = False,
) -> None:
    """Time one collective: time_s, algbw, busbw (nccl-tests conventions) and the bottleneck tier."""
    from infraplan.planning.training_run import network_with_zone_note  # beyond one zone: facility's zones, said

    cluster = Cluster.resolve(system).for_gpus(gpus)  # an accelerator preset at any size, as `train`
    sized = cluster
    if fabric is not None:
        cluster = replace(cluster, system=with_fabric(cluster.system, fabric))
    size_bytes = parse_bytes(size, name="--bytes")  # "--bytes: '1,5GB': did you mean 1.5GB? ..." (hJ58)
    if sim != "flow":
        result = estimate_collective(op, cluster, gpus, size_bytes, placement=placement, algorithm=algorithm,
                                     sim=sim, flows_per_pair=flows_per_pair, seed=seed, failed_links=failed_links,
                                     sharp=sharp)
        emit(network_with_zone_note(result, sized, fabric, system), as_json,
             lambda shown: render_collective(shown, device_word(system)))
        return
    # the flow simulation can run for minutes: its estimate (one line) and, on a terminal, a progress bar on stderr
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    errors = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                  transient=True, disable=not errors.is_terminal, console=errors) as bar:
        task = bar.add_task("flow simulation", total=None)

        def tick(stage: str, done: float, total: float) -> None:
            bar.update(task, description=stage, completed=done, total=total if total > 0.0 else None)

        result = estimate_collective(op, cluster, gpus, size_bytes, placement=placement, algorithm=algorithm,
                                     sim=sim, flows_per_pair=flows_per_pair, seed=seed, progress=tick,
                                     failed_links=failed_links, sharp=sharp,
                                     notice=lambda line: errors.print(line, highlight=False, soft_wrap=True))
    emit(network_with_zone_note(result, sized, fabric, system), as_json,
         lambda shown: render_collective(shown, device_word(system)))


def register(app: typer.Typer) -> None:
    app.command("collective")(collective)
