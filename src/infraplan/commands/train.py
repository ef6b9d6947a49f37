"""`infraplan train`: step time, throughput, MFU, memory and the time breakdown of one plan."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from infraplan.commands._output import console, emit, fmt_bytes, fmt_percent, fmt_rate, fmt_seconds
from infraplan.training.estimate import estimate_training


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
    for key, label in (("time_to_train_s", "time to train"),):
        if key in r:
            console.print(f"{label}: {fmt_seconds(r[key])}")


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
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
) -> None:
    """Estimate one training plan: step time, tokens/s, MFU, memory per GPU and the breakdown."""
    result = estimate_training(model, system, gpus, tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, seq_len=seq_len,
                               global_batch=global_batch, micro_batch=micro_batch, recompute=recompute,
                               zero=zero, dtype=dtype, attention=attention, order=order,
                               sequence_parallel=sequence_parallel)
    emit(result, as_json, render_training)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
