"""`infraplan train`: step time, throughput, MFU, memory and the time breakdown of one plan."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from infraplan.cli.commands._output import console, emit, fmt_bytes, fmt_percent, fmt_rate, fmt_seconds
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.units import parse_count


def render_training(r: dict[str, Any]) -> None:
    c = r["config"]
    title = (f"{r['model']} on {r['system']} ({c['gpus']} × {r['accelerator']}): TP{c['tp']} CP{c['cp']} "
             f"PP{c['pp']}×V{c['vpp']} DP{c['dp']} EP{c['ep']}, seq {c['seq_len']}, batch {c['global_batch']} "
             f"seqs (micro {c['micro_batch']}), {c['dtype']}, recompute {c['recompute']}, ZeRO {c['zero']}, "
             f"order {c['order']}")
    summary = Table(title=title, show_header=False)
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    summary.add_row("step time", fmt_seconds(r["step_time_s"]))
    summary.add_row("throughput", fmt_rate(r["tokens_per_s"], "tokens/s"))
    summary.add_row("per GPU", fmt_rate(r["tokens_per_s_per_gpu"], "tokens/s"))
    summary.add_row("model FLOP/s per GPU", fmt_rate(r["model_tflops_per_gpu"] * 1e12, "FLOP/s"))
    summary.add_row("MFU / HFU", f"{fmt_percent(r['mfu'])} / {fmt_percent(r['hfu'])}")
    fits = "yes" if r["fits"] else f"NO — {r['memory_overflow_term']} is the largest term"
    summary.add_row("memory per GPU", f"{fmt_bytes(r['memory_per_gpu_bytes'])} of "
                    f"{fmt_bytes(r['memory_capacity_bytes'])} (fits: {fits})")
    console.print(summary)

    breakdown = Table(title="where the step time goes")
    breakdown.add_column("component")
    breakdown.add_column("time", justify="right")
    breakdown.add_column("share", justify="right")
    for name, seconds in r["breakdown"].items():
        breakdown.add_row(name, fmt_seconds(seconds), fmt_percent(seconds / r["step_time_s"]))
    memory = Table(title="memory per GPU (heaviest stage)")
    memory.add_column("term")
    memory.add_column("bytes", justify="right")
    for name, value in r["memory_breakdown_bytes"].items():
        memory.add_row(name, fmt_bytes(value))
    console.print(breakdown)
    console.print(memory)
    if "time_to_train_s" in r:
        run = Table(title="the whole run (failures, checkpoints, facility)", show_header=False)
        run.add_column("metric")
        run.add_column("value", justify="right")
        run.add_row("time to train (wall clock)", fmt_seconds(r["time_to_train_s"]))
        run.add_row("goodput", fmt_percent(r["goodput"]))
        run.add_row("job MTTF", fmt_seconds(r["mttf_s"]))
        run.add_row("checkpoint interval", fmt_seconds(r["checkpoint_interval_s"]))
        run.add_row("GPU-hours", f"{r['gpu_hours']:.4g} GPU-h")
        run.add_row("energy", f"{r['energy_mwh']:.4g} MWh")
        run.add_row("emissions", f"{r['co2_t']:.4g} tCO2e")
        run.add_row("cost", f"{r['cost_usd']:.4g} USD")
        console.print(run)


def train(
    model: str = typer.Argument(..., help="model preset or path to an HF config.json"),
    system: str = typer.Option(..., "--system", help="system preset or path to a system YAML"),
    gpus: int = typer.Option(..., "--gpus", help="accelerators used"),
    tp: int = typer.Option(1, "--tp", help="tensor parallel degree (with sequence parallelism)"),
    pp: int = typer.Option(1, "--pp", help="pipeline stages"),
    dp: int | None = typer.Option(None, "--dp", help="data parallel degree [default: GPUs/(TP·PP·CP)]"),
    cp: int = typer.Option(1, "--cp", help="context parallel degree"),
    ep: int = typer.Option(1, "--ep", help="expert parallel degree (MoE), inside DP"),
    vpp: int = typer.Option(1, "--vpp", help="virtual (interleaved) stages per pipeline stage"),
    seq_len: int = typer.Option(..., "--seq-len", help="sequence length in tokens"),
    global_batch: int = typer.Option(..., "--global-batch", help="global batch in sequences"),
    micro_batch: int = typer.Option(1, "--micro-batch", help="micro-batch in sequences"),
    recompute: str = typer.Option("none", "--recompute", help="none | selective | full"),
    zero: int = typer.Option(1, "--zero", help="ZeRO stage 0-3 (3 = FSDP)"),
    dtype: str = typer.Option("bf16", "--dtype", help="bf16 | fp8"),
    attention: str = typer.Option("flash", "--attention", help="flash | unfused (Megatron before 2023)"),
    order: str = typer.Option("tp-cp-pp-dp", "--order",
                              help="rank placement, innermost first: tp-cp-pp-dp (Llama 3) | tp-cp-dp-pp (Megatron)"),
    sequence_parallel: bool = typer.Option(True, "--sequence-parallel/--no-sequence-parallel",
                                           help="split norms/dropout over TP (Megatron since 2022)"),
    tokens: str | None = typer.Option(None, "--tokens", help="train on this many tokens (e.g. 15.6T): adds "
                                      "wall clock with failures and checkpoints, goodput, GPU-hours, energy, "
                                      "CO2 and cost"),
    location: str | None = typer.Option(None, "--location", help="grid/price location preset for --tokens"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Estimate one training plan: step time, tokens/s, MFU, memory per GPU and the breakdown."""
    result = estimate_training(model, system, gpus, tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, seq_len=seq_len,
                               global_batch=global_batch, micro_batch=micro_batch, recompute=recompute,
                               zero=zero, dtype=dtype, attention=attention, order=order,
                               sequence_parallel=sequence_parallel)
    if tokens is not None:
        from infraplan.facility.training_run import training_run_totals

        result.update(training_run_totals(result, system, parse_count(tokens), location=location))
    elif location is not None:
        raise InputError("--location needs --tokens")
    emit(result, as_json, render_training)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
