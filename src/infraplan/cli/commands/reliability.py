"""`infraplan reliability`: interruptions, MTTF, checkpoint interval and goodput of a training job."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from infraplan.cli.commands._output import (
    band_or_why,
    console,
    device_word,
    emit,
    fmt_bytes,
    fmt_num,
    fmt_percent,
    fmt_seconds,
    metric_table,
    print_band,
)
from infraplan.cli.options import ACCELERATORS, DAYS, JsonFlag, RepairSeconds, ServingSystem, count, number
from infraplan.errors import InputError
from infraplan.facility.reliability import DEFAULT_REPAIR_S, reliability_report
from infraplan.facility.results import ReliabilityReport
from infraplan.limits import DEFAULT_NO_SPARE_POLICY, NO_SPARE_POLICY_HELP, SHRINK_UNIT_HELP
from infraplan.training.optimizer_models import checkpoint_bytes_per_param
from infraplan.units import counted, parse_duration_s, parse_stated_bytes

PLAN_HELP = ("train's plan flags, quoted, e.g. '--tp 4 --pp 2 --seq-len 8192 --global-batch 576 --dtype fp8' "
             "(read by train's parser; the job's --model, given, --system, --gpus and --optimizer, else the plan's as "
             "train's, are these): --no-spare-policy shrink sheds its data-parallel replicas at its smaller plans' "
             "speed, as train --tokens prices the same job [default: no plan, each replica at full speed]")


def render_reliability(r: ReliabilityReport, device: str = "GPU", size_given: bool = False) -> None:
    """`device`: what the rows call one device of the job (`_output.device_word`: "GPUs held" on an MTIA rack read
    wrong, hU45); the title keeps the GPUs of the node the failure rate was counted on (Llama 3's H100 nodes).
    `size_given`: the checkpoint's size is `--checkpoint-size`'s, else the model's, named on its row (the default
    model, llama3-405b, was sized unannounced, hU81)."""
    days = f"{fmt_num(r.days)} day{'' if r.days == 1 else 's'}"
    table = metric_table(f"{r.gpus:,} × {r.accelerator} on {r.system} for {days} "
                         f"(failure rate {r.failure_rate}: {fmt_num(r.failures_per_1000_node_days)} "
                         f"{(r.failure_rate_counts or 'failures').replace('_', ' ')} per 1,000 "
                         f"{r.failure_rate_node_gpus}-GPU node-days)")
    table.add_row("expected interruptions", f"{r.expected_interruptions:,.1f} "  # "1,447.0", was "1447.0" (hU)
                  f"({r.expected_unexpected_interruptions:,.1f} unexpected)")
    table.add_row("interruptions per day", fmt_num(r.expected_interruptions_per_day, 3))  # the planner's unit (hU58)
    table.add_row("job MTTF", fmt_seconds(r.job_mttf_s))
    sized = r.checkpoint_size_basis or ("--checkpoint-size" if size_given or not r.model else
                                        f"{r.model}'s weights and optimizer state, --model")
    table.add_row("checkpoint", f"{fmt_bytes(r.checkpoint_bytes)} ({sized}), written in "
                  f"{fmt_seconds(r.checkpoint_write_s)}")
    given = r.checkpoint_interval_basis == "given"
    table.add_row(f"checkpoint interval ({'given' if given else 'Daly'})", fmt_seconds(r.checkpoint_interval_s))
    table.add_row("restart cost", fmt_seconds(r.restart_s))
    table.add_row("goodput (ETTR)", fmt_percent(r.goodput))
    if given:
        table.add_row(f"goodput at Daly's {fmt_seconds(r.daly_interval_s)}", fmt_percent(r.goodput_at_daly_interval))
    k = r.spare_trays_per_domain
    spares = f", {k} spare tray{'' if k == 1 else 's'} each" if k else ""
    held = f"{r.gpus_held:,} in {counted(r.domains, 'domain')} of {r.scale_up_domain_gpus}{spares}"
    table.add_row(f"{device}s held", held)
    if r.expected_gpus_out_of_service is not None and r.goodput_of_gpus_held is not None:
        table.add_row(f"{device}s out of service (mean)", f"{fmt_num(r.expected_gpus_out_of_service, 3)} at a "
                      f"repair time of {fmt_seconds(r.repair_time_s)}")  # 1.29e+03 before (hU47)
        table.add_row(f"goodput of {device}s held", fmt_percent(r.goodput_of_gpus_held))
    if r.full_size_fraction is not None:  # short of spares at times: the policy's goodput (facility/spare_policy.py)
        table.add_row(f"goodput with repairs ({r.no_spare_policy})", fmt_percent(r.goodput_with_repairs))
    console.print(table)
    mix = Table(title="expected unexpected interruptions by component (Llama 3 Table 5 mix)")
    mix.add_column("component")
    mix.add_column("count", justify="right")
    for name, value in r.interruptions_by_component.items():
        mix.add_row(name, f"{value:,.1f}")
    console.print(mix)
    for note in r.notes:
        console.print(note, soft_wrap=True)
    print_band(band_or_why(r.error_band, r.error_band_basis, "job MTTF", r.job_mttf_s, latency=True))


def given_options(*names: str) -> set[str]:
    """Those of the running command's options `names` given on its line, not left at their defaults (click's
    parameter source; outside a click command, as a Python call, every one passed is given)."""
    try:  # typer's own click, which runs its commands (as cli/commands/train.plan_estimate imports it)
        from typer._click.globals import get_current_context
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click import get_current_context  # type: ignore[no-redef]

    ctx = get_current_context(silent=True)
    if ctx is None:
        return set(names)
    return {name for name in names if (source := ctx.get_parameter_source(name)) is None or source.name != "DEFAULT"}


def reliability(
    system: ServingSystem,  # an accelerator preset takes any count: `--system h100-sxm --gpus 100000` (hU58)
    gpus: int = typer.Option(..., "--gpus", parser=ACCELERATORS, help="accelerators in the job"),
    days: float = typer.Option(30.0, "--days", parser=DAYS, help="days of training to count interruptions over "
                               "(54, or 54d, 2w, 12h)"),
    model: str = typer.Option("llama3-405b", "--model", help="model whose checkpoint is written: "
                                "preset or path to an HF config.json (given with --plan: the plan's model)"),
    checkpoint_size: str | None = typer.Option(None, "--checkpoint-size", help="the checkpoint's size, e.g. 5TB, "
                                                   "instead of --model's at --optimizer's bytes (both then unused "
                                                   "for its size; --plan still prices --model's plan)"),
    failure_rate: str | None = typer.Option(None, "--failure-rate", help="rsc-1 | rsc-1-jobs | rsc-2 | "
                                            "llama3-h100 | epoch-h100 or a YAML file [default: by accelerator]"),
    restart: float | None = typer.Option(None, "--restart-s",
                                         parser=number(ge=0.0, le=1e9, reader=parse_duration_s),
                                         help="restart cost: seconds, or 10min [default: 600]"),
    spare_trays_per_domain: int = typer.Option(0, "--spare-trays-per-domain", parser=count(0, 64), show_default=False,
                                               help="spare servers (trays) held in each scale-up domain that spans "
                                               "servers (NVL72), so one failed tray does not take its domain out "
                                               "[default: 0, an assumption]"),
    repair_s: float = typer.Option(DEFAULT_REPAIR_S, "--repair-time", show_default=False,  # its help says 3 days
                                   parser=RepairSeconds(),
                                   help="failure to server back in service: 3d, 36h, or seconds [default: 3 "
                                   "days, an assumption]"),
    checkpoint_interval_s: float | None = typer.Option(None, "--checkpoint-interval", show_default=False,
                                                       parser=number(gt=0.0, le=1e9, reader=parse_duration_s),
                                                       help="compute time between checkpoints, where the goodput is "
                                                       "priced: seconds, or 30min [default: Daly's optimum]"),
    optimizer: str = typer.Option("adam", "--optimizer", help="adam | muon: the optimizer whose state the model's "
                                  "checkpoint holds (adam: bf16 weights, fp32 master, m and v, 14 B a parameter; "
                                  "muon: one fp32 momentum, 10 B a matrix parameter, the embedding and LM head "
                                  "AdamW's 14 B); with --plan, the plan's where given, else train's (the stack's "
                                  "recipe's)"),
    no_spare_policy: str = typer.Option(DEFAULT_NO_SPARE_POLICY, "--no-spare-policy", help=NO_SPARE_POLICY_HELP,
                                        show_default=False),
    shrink_unit: int | None = typer.Option(None, "--shrink-unit", parser=ACCELERATORS, help=SHRINK_UNIT_HELP,
                                           show_default=False),
    plan: str | None = typer.Option(None, "--plan", help=PLAN_HELP, show_default=False),
    as_json: JsonFlag = False,
) -> None:
    """Expected interruptions, job MTTF, Young/Daly checkpoint interval and goodput for a job of N GPUs.

    Also the GPUs it holds and keeps out of service by scale-up domain (NVL72: a failed tray takes its domain out)."""
    size = parse_stated_bytes(checkpoint_size, "--checkpoint-size") if checkpoint_size is not None else None
    if size is not None and size <= 0:
        raise InputError(f"--checkpoint-size must be above 0 bytes, got {checkpoint_size!r}")
    # (refused in one line before anything is priced; the model's parameter groups at the optimizer's rates)
    per = checkpoint_bytes_per_param(optimizer, model if size is None else None)
    options: dict[str, Any] = {
        "days": days, "model": model, "failure_rate": failure_rate, "restart_s": restart, "checkpoint_size_bytes": size,
        "spare_trays_per_domain": spare_trays_per_domain, "repair_s": repair_s,
        "checkpoint_interval_s": checkpoint_interval_s, "checkpoint_bytes_per_param": per, "optimizer": optimizer,
        "no_spare_policy": no_spare_policy, "shrink_unit_gpus": shrink_unit}
    if plan is None:
        report = reliability_report(system, gpus, **options)
    else:  # the plan's job, shrunk as train --tokens shrinks it (one answer for one job)
        from infraplan.cli.commands.train import plan_estimate
        from infraplan.planning.shrunk_plan import check_plan_model, plan_reliability

        given = given_options("model", "optimizer")
        check_plan_model("model" in given, "--model")
        estimate, sharp = plan_estimate(model, system, gpus, plan, optimizer if "optimizer" in given else None)
        report = plan_reliability(estimate, system, sharp=sharp, **options)
    emit(report, as_json, lambda shown: render_reliability(shown, device_word(system), size is not None))


def register(app: typer.Typer) -> None:
    app.command("reliability")(reliability)
