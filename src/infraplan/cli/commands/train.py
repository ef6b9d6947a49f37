"""`infraplan train`: step time, throughput, MFU, memory and the time breakdown of one plan."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from infraplan.cli.commands._output import console, emit, fmt_bytes, fmt_percent, fmt_rate, fmt_seconds
from infraplan.cli.options import (
    AttentionOption,
    GpusOption,
    JsonFlag,
    ModelArgument,
    OrderOption,
    RecomputeOption,
    ScheduleOption,
    SystemOption,
    TrainDtypeOption,
)
from infraplan.errors import InputError
from infraplan.planning.results import TrainingRunResult
from infraplan.results import Result
from infraplan.training.estimate import estimate_training
from infraplan.training.results import TrainingEstimate
from infraplan.units import parse_count


def render_training(r: TrainingEstimate) -> None:
    c = r.config
    title = (f"{r.model} on {r.system} ({c.gpus} × {r.accelerator}): TP{c.tp} CP{c.cp} PP{c.pp}×V{c.vpp} "
             f"DP{c.dp} EP{c.ep}, seq {c.seq_len}, batch {c.global_batch} seqs (micro {c.micro_batch}), "
             f"{c.dtype}, recompute {c.recompute}, ZeRO {c.zero}, order {c.order}")
    summary = Table(title=title, show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_row("step time", fmt_seconds(r.step_time_s))
    summary.add_row("throughput", fmt_rate(r.tokens_per_s, "tokens/s"))
    summary.add_row("per GPU", fmt_rate(r.tokens_per_s_per_gpu, "tokens/s"))
    summary.add_row("model FLOP/s per GPU", fmt_rate(r.model_tflops_per_gpu * 1e12, "FLOP/s"))
    summary.add_row("MFU / HFU", f"{fmt_percent(r.mfu)} / {fmt_percent(r.hfu)}")
    fits = "yes" if r.fits else f"NO — {r.memory_overflow_term} is the largest term"
    summary.add_row("memory per GPU", f"{fmt_bytes(r.memory_per_gpu_bytes)} of "
                    f"{fmt_bytes(r.memory_capacity_bytes)} (fits: {fits})")
    console.print(summary)

    breakdown = Table(title="where the step time goes")
    breakdown.add_column("component")
    breakdown.add_column("time", justify="right")
    breakdown.add_column("share", justify="right")
    for name, seconds in r.breakdown:
        breakdown.add_row(name, fmt_seconds(seconds), fmt_percent(seconds / r.step_time_s))
    memory = Table(title="memory per GPU (heaviest stage)")
    memory.add_column("term")
    memory.add_column("bytes", justify="right")
    for name, value in r.memory_breakdown_bytes:
        memory.add_row(name, fmt_bytes(value))
    console.print(breakdown)
    console.print(memory)
    run: Any = r
    if hasattr(run, "time_to_train_s"):
        table = Table(title="the whole run (failures, checkpoints, facility)", show_header=False)
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_row("time to train (wall clock)", fmt_seconds(run.time_to_train_s))
        table.add_row("goodput", fmt_percent(run.goodput))
        table.add_row("job MTTF", fmt_seconds(run.mttf_s))
        table.add_row("checkpoint interval", fmt_seconds(run.checkpoint_interval_s))
        table.add_row("GPU-hours", f"{run.gpu_hours:.4g} GPU-h")
        table.add_row("energy", f"{run.energy_mwh:.4g} MWh")
        table.add_row("emissions", f"{run.co2_t:.4g} tCO2e")
        table.add_row("cost", f"{run.cost_usd:.4g} USD")
        console.print(table)


def with_run_totals(estimate: TrainingEstimate, totals: Result | dict[str, Any]) -> TrainingRunResult:
    """`train --tokens`: the estimate and the whole-run totals as one flat result (today's JSON keys)."""
    run = totals.model_dump() if isinstance(totals, Result) else dict(totals)
    return TrainingRunResult.model_validate({**estimate.model_dump(), **run})


def train(
    model: ModelArgument,
    system: SystemOption,
    gpus: GpusOption,
    tp: int = typer.Option(1, "--tp", help="tensor parallel degree (with sequence parallelism)"),
    pp: int = typer.Option(1, "--pp", help="pipeline stages"),
    dp: int | None = typer.Option(None, "--dp", help="data parallel degree [default: GPUs/(TP·PP·CP)]"),
    cp: int = typer.Option(1, "--cp", help="context parallel degree"),
    ep: int = typer.Option(1, "--ep", help="expert parallel degree (MoE), inside DP"),
    vpp: int = typer.Option(1, "--vpp", help="virtual (interleaved) stages per pipeline stage"),
    seq_len: int = typer.Option(..., "--seq-len", help="sequence length in tokens"),
    global_batch: int = typer.Option(..., "--global-batch", help="global batch in sequences"),
    micro_batch: int = typer.Option(1, "--micro-batch", help="micro-batch in sequences"),
    recompute: RecomputeOption = "none",
    zero: int = typer.Option(1, "--zero", help="ZeRO stage 0-3 (3 = FSDP)"),
    dtype: TrainDtypeOption = "bf16",
    attention: AttentionOption = "flash",
    order: OrderOption = "tp-cp-pp-dp",
    sequence_parallel: bool = typer.Option(True, "--sequence-parallel/--no-sequence-parallel",
                                           help="split norms/dropout over TP (Megatron since 2022)"),
    schedule: ScheduleOption = None,
    tokens: str | None = typer.Option(None, "--tokens", help="train on this many tokens (e.g. 15.6T): adds "
                                      "wall clock with failures and checkpoints, goodput, GPU-hours, energy, "
                                      "CO2 and cost"),
    location: str | None = typer.Option(None, "--location", help="grid/price location preset for --tokens"),
    as_json: JsonFlag = False,
) -> None:
    """Estimate one training plan: step time, tokens/s, MFU, memory per GPU and the breakdown."""
    result = estimate_training(model, system, gpus, tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, seq_len=seq_len,
                               global_batch=global_batch, micro_batch=micro_batch, recompute=recompute,
                               zero=zero, dtype=dtype, attention=attention, order=order,
                               sequence_parallel=sequence_parallel, schedule=schedule)
    if tokens is not None:
        from infraplan.planning.training_run import training_run_totals

        result = with_run_totals(result, training_run_totals(result, system, parse_count(tokens), location=location))
    elif location is not None:
        raise InputError("--location needs --tokens")
    emit(result, as_json, render_training)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
