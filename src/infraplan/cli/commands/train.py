"""`infraplan train`: step time, throughput, MFU, memory and the time breakdown of one plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from infraplan.cli.commands._output import (
    band_line,
    device_word,
    emit,
    fmt_bytes,
    fmt_percent,
    fmt_quantity,
    fmt_rate,
    fmt_seconds,
    fmt_usd,
    metric_table,
    print_band,
)
from infraplan.cli.options import (
    ACCELERATORS,
    OFFLOAD_LAYERS,
    PP_OR_TP,
    PRICE,
    RECOMPUTE_LAYERS,
    SEQUENCES,
    TOKENS,
    ZERO_STAGE,
    AttentionOption,
    CostsOption,
    GpusOption,
    JsonFlag,
    LoraTargetsOption,
    ModelArgument,
    OptimizerOption,
    OrderOption,
    RecomputeOption,
    ScheduleOption,
    StackOption,
    SystemOption,
    TrainDtypeOption,
)
from infraplan.errors import InputError
from infraplan.limits import NO_SPARE_POLICY_HELP
from infraplan.training.estimate import estimate_training
from infraplan.training.evaluation import eval_options
from infraplan.training.results import TrainingEstimate
from infraplan.training.run_options import check_run_options

if TYPE_CHECKING:
    from infraplan.planning.results import TrainingRunResult


# the host_exposed phases' row labels (`training.host_time.HOST_PHASES`; the web's train.html says the same)
_HOST_PHASE_WORDS = {"forward_backward": "forward + backward", "pp_comm": "pipeline p2p calls"}
EVAL_EVERY_HELP = ("with --tokens: evaluate after every N sequences trained (24576, 50M tokens or 12 steps; rounded "
                   "up to whole steps): the evaluations join the wall clock, GPU-hours, energy and cost")
DSA_STAGE_HELP = ("sparse | warmup: a DeepSeek Sparse Attention model's training stage (warmup: the dense warm-up, "
                  "the model frozen and forward only, the lightning indexer alone trained by its KL loss; "
                  "training/dsa_warmup.py) [default: sparse]")
EVAL_SAMPLES_HELP = ("with --eval-every: sequences one evaluation runs forward at the plan (11590, 24M tokens or 6 "
                     "steps)")


def recompute_label(recompute: str, layers: int) -> str:
    """The recompute of a plan as the title states it: a mode, or full block recompute of k layers per chunk."""
    return f"{recompute} ({layers} layers per model chunk)" if layers else recompute


def render_training(r: TrainingEstimate, device: str = "GPU") -> None:
    """`device`: what the table calls one accelerator (`_output.device_word`: GPU, TPU, CPU or accelerator)."""
    from rich.table import Table  # lazy: `--json` never loads Rich

    from infraplan.cli.commands._output import console

    c = r.config
    title = (f"{r.model} on {r.system} ({c.gpus:,} × {r.accelerator}): TP{c.tp} CP{c.cp} PP{c.pp}×V{c.vpp} "
             f"DP{c.dp} EP{c.ep}, seq {c.seq_len:,}, batch {c.global_batch:,} seqs (micro {c.micro_batch}), "
             f"{c.dtype}, recompute {recompute_label(c.recompute, c.recompute_layers)}"
             f"{f', offload {c.offload_layers} layers' if c.offload_layers else ''}, ZeRO {c.zero}"
             f"{f' over {c.zero_shard} ranks' if c.zero_shard < c.dp * c.cp else ''}, "
             f"order {c.order}, stack {r.stack}"  # --stack's help: "[default: stated in the output]"
             f"{', DSA dense warm-up (the indexer alone trained)' if r.dsa_stage == 'warmup' else ''}")
    summary = metric_table(title)
    summary.add_row("step time", fmt_seconds(r.step_time_s))
    summary.add_row("throughput", fmt_rate(r.tokens_per_s, "tokens/s"))
    summary.add_row(f"per {device}", fmt_rate(r.tokens_per_s_per_gpu, "tokens/s"))
    summary.add_row(f"model FLOP/s per {device}", fmt_rate(r.model_tflops_per_gpu * 1e12, "FLOP/s"))
    summary.add_row("MFU / HFU (full s×s scores)" if r.dsa_stage != "warmup" else "MFU / HFU (warm-up FLOPs)",
                    f"{fmt_percent(r.mfu)} / {fmt_percent(r.hfu)}")
    summary.add_row("executed FLOPs / peak", fmt_percent(r.executed_flops_utilisation))  # (`training.flops`)
    fits = "yes" if r.fits else f"NO — {r.memory_overflow_term} is the largest term"
    summary.add_row(f"memory per {device}", f"{fmt_bytes(r.memory_per_gpu_bytes)} of "
                    f"{fmt_bytes(r.memory_capacity_bytes)} (fits: {fits})")
    console.print(summary)
    if r.low_memory_headroom and r.fits:  # as search marks it: "fits" with less than the margin left is not a plan
        # to run (a plan that does not fit says so above: "-15.9 GiB left ... below the margin" repeated it, hU81)
        console.print(f"! low memory headroom: {r.low_memory_headroom_reason}", highlight=False, markup=False)
    if r.error_band is not None:  # README "Error bands": every train result carries one, in words too
        print_band(band_line(r.error_band, "throughput", r.tokens_per_s_per_gpu, f"tokens/s per {device}"))

    breakdown = Table(title="where the step time goes")
    breakdown.add_column("component")
    breakdown.add_column("time", justify="right")
    breakdown.add_column("share", justify="right")
    for name, seconds in r.breakdown_s:
        breakdown.add_row(name, fmt_seconds(seconds), fmt_percent(seconds / r.step_time_s))
    for name, seconds in r.host_exposed_phases_s:  # host_exposed by phase, where any (`training.host_time`)
        if seconds > 0.0:
            breakdown.add_row(f"  host: {_HOST_PHASE_WORDS.get(name, name)}",
                              fmt_seconds(seconds), fmt_percent(seconds / r.step_time_s))
    memory = Table(title=f"memory per {device} (heaviest stage)")
    memory.add_column("term")
    memory.add_column("bytes", justify="right")
    for name, value in r.memory_breakdown_bytes:
        memory.add_row(name, fmt_bytes(value))
    console.print(breakdown)
    console.print(memory)
    for note in r.notes:  # what infraplan chose that the user did not give (--recompute auto, --vpp)
        console.print(f"note: {note}", highlight=False)
    if r.beyond_published_mfu:  # as search flags it (`training.results.published_mfu_flag`)
        console.print(f"beyond published MFU: {r.beyond_published_mfu_reason}", soft_wrap=True, highlight=False)
    if hasattr(r, "time_to_train_s"):  # --tokens: the whole run (`render_run`, search --tokens's best plan too)
        render_run(r, device)


def render_run(run: Any, device: str = "GPU") -> None:
    """The whole run of `train --tokens` (a `TrainingRunResult`): wall clock, goodput, GPU-hours, energy, CO2 and
    cost, the GPU-hours' error band and why a cost is missing; `search --tokens` prints its best plan's by it."""
    from infraplan.cli.commands._output import console

    evaluated = getattr(run, "evaluations", None) is not None  # --eval-every: in the wall clock below
    table = metric_table(f"the whole run (failures, checkpoints, {'evaluations, ' if evaluated else ''}facility)")
    table.add_row("time to train (wall clock)", fmt_seconds(run.time_to_train_s))
    table.add_row("goodput", fmt_percent(run.goodput))
    if getattr(run, "full_size_fraction", None) is not None:  # short of spares at times: the wall clock's goodput
        table.add_row(f"goodput with repairs ({run.no_spare_policy})", fmt_percent(run.goodput_with_repairs))
    table.add_row("job MTTF", fmt_seconds(run.job_mttf_s))
    table.add_row("checkpoint interval", fmt_seconds(run.checkpoint_interval_s))
    if evaluated:
        table.add_row("evaluations", f"{run.evaluations:,} × {fmt_seconds(run.evaluation_s)} (every "
                      f"{run.eval_every_steps:,} steps, {run.eval_samples:,} seqs)")
        table.add_row("evaluation share", fmt_percent(run.evaluation_share))
    table.add_row(f"{device}-hours", fmt_quantity(run.gpu_hours, f"{device}-h"))
    table.add_row("energy", fmt_rate(run.energy_mwh * 1e6, "Wh"))
    table.add_row("emissions", fmt_quantity(run.co2_t, "tCO2e"))
    table.add_row("model-card emissions", fmt_quantity(run.co2_model_card_t, "tCO2e"))  # TDP x PUE, hC56
    rate = run.usd_per_gpu_hour  # the rate the cost is GPU-hours at: an owned hour, not a rental's (hU81)
    table.add_row("cost", fmt_usd(run.cost_usd) + (f" ({fmt_usd(rate)} per owned {device}-h)"
                                                   if run.cost_usd is not None and rate is not None else ""))
    console.print(table)
    if run.error_band is not None:  # the run's time scales as 1 / throughput: measured = predicted x (1 + r)
        low, high = (run.gpu_hours * (1.0 + e) for e in (run.error_band.low, run.error_band.high))
        console.print(f"{device}-hours within the error band: measured likely {fmt_quantity(low, f'{device}-h')} "
                      f"to {fmt_quantity(high, f'{device}-h')} (the run's time goes as 1 / throughput)",
                      highlight=False, markup=False)
    if run.cost_reason:
        console.print(f"cost not priced: {run.cost_reason}", soft_wrap=True, highlight=False)
    if run.price_note:
        console.print(f"price: {run.price_note}", soft_wrap=True, highlight=False)


def whole_run(result: TrainingEstimate, model: str, system: str, tokens: str, *, stack: str | None, sharp: bool,
              location: str | None, server_price: float | None, costs: str | None,
              evaluated: tuple[int, int] | None, no_spare_policy: str | None = None) -> TrainingRunResult:
    """`train --tokens`: the estimate with its whole run (`planning.search_run.estimate_with_run`, which the web and
    `search --tokens`'s best plan use too: one answer), priced with the --costs file and --server-price."""
    from infraplan.cluster.cost import load_cost_overrides
    from infraplan.planning.search_run import estimate_with_run

    overrides = load_cost_overrides(costs).merged(server_usd_per_accelerator=server_price)
    return estimate_with_run(result, model, system, tokens, stack=stack, sharp=sharp, location=location,
                             overrides=overrides, evaluated=evaluated, typed=system, no_spare_policy=no_spare_policy)


def train(
    model: ModelArgument,
    system: SystemOption,
    gpus: GpusOption,
    tp: int = typer.Option(1, "--tp", parser=PP_OR_TP, help="tensor parallel degree (with sequence parallelism)"),
    pp: int = typer.Option(1, "--pp", parser=PP_OR_TP, help="pipeline stages"),
    dp: int | None = typer.Option(None, "--dp", parser=ACCELERATORS,
                                  help="data parallel degree [default: GPUs/(TP·PP·CP)]"),
    cp: int = typer.Option(1, "--cp", parser=PP_OR_TP, help="context parallel degree"),
    ep: int = typer.Option(1, "--ep", parser=PP_OR_TP, help="expert parallel degree (MoE), inside DP "
                           "(or folded over TP x CP x DP with --etp)"),
    etp: int | None = typer.Option(None, "--etp", parser=PP_OR_TP, help="expert tensor parallel degree (MoE "
                                   "parallel folding; default: TP, Megatron-Core's default)"),
    vpp: int | None = typer.Option(None, "--vpp", parser=PP_OR_TP, help="virtual (interleaved) stages per pipeline "
                                   "stage (default: chosen for PP >= 4, said in notes; else 1)"),
    seq_len: int = typer.Option(..., "--seq-len", parser=TOKENS, help="sequence length in tokens"),
    global_batch: int = typer.Option(..., "--global-batch", parser=SEQUENCES, help="global batch in sequences"),
    micro_batch: int = typer.Option(1, "--micro-batch", parser=SEQUENCES, help="micro-batch in sequences"),
    recompute: RecomputeOption = "none",
    recompute_layers: int = typer.Option(0, "--recompute-layers", parser=RECOMPUTE_LAYERS,
                                         help="with --recompute full: recompute only the first K layers of each "
                                         "model chunk (Megatron block method; 0: every layer)"),
    offload_layers: int = typer.Option(0, "--offload-layers", parser=OFFLOAD_LAYERS,
                                       help="with --recompute none and --pp 1: offload the saved activations of the "
                                       "first N layers to host memory (Megatron-Core cpu_offloading; 0: none)"),
    zero: int | None = typer.Option(None, "--zero", parser=ZERO_STAGE, help="ZeRO stage 0-3 (3 = FSDP); default: "
                                     "the one the stack runs at this PP (torchtitan 3, with PP 2; NeMo 1)"),
    zero_shard: int | None = typer.Option(None, "--zero-shard", parser=ACCELERATORS,
                                          help="hybrid sharding (HSDP / distributed-optimizer instances): ZeRO over "
                                          "N of the DP x CP ranks, replicated across the groups (N divides DP x "
                                          "CP; torchtitan ZeRO-2/3, nemo-26.04 ZeRO-1) [default: all of DP x CP]"),
    dtype: TrainDtypeOption = "bf16",
    attention: AttentionOption = "flash",
    order: OrderOption = None,
    sequence_parallel: bool = typer.Option(True, "--sequence-parallel/--no-sequence-parallel",
                                           help="split norms/dropout over TP (Megatron since 2022)"),
    schedule: ScheduleOption = None,
    stack: StackOption = None,
    optimizer: OptimizerOption = None,
    tokens: str | None = typer.Option(None, "--tokens", help="train on this many tokens (e.g. 15.6T): adds "
                                      "wall clock with failures and checkpoints, goodput, GPU-hours, energy, "
                                      "CO2 and cost"),
    location: str | None = typer.Option(None, "--location",
                                         help="grid/price location preset or YAML file for --tokens"),
    server_price: float | None = typer.Option(None, "--server-price", parser=PRICE,
                                              help="server $ per accelerator for --tokens (overrides the catalog)"),
    eval_every: str | None = typer.Option(None, "--eval-every", help=EVAL_EVERY_HELP),
    eval_samples: str | None = typer.Option(None, "--eval-samples", help=EVAL_SAMPLES_HELP),
    costs: CostsOption = None,
    no_spare_policy: str | None = typer.Option(None, "--no-spare-policy", help=NO_SPARE_POLICY_HELP,
                                               show_default=False),
    sharp: bool = typer.Option(False, "--sharp", help="IB SHARP in-network all-reduce for the DP gradients (NCCL "
                               "CollNet, NCCL_COLLNET_ENABLE=1; the stack's nccl_collnet); InfiniBand SHARP switches "
                               "only"),
    lora_rank: int | None = typer.Option(None, "--lora-rank", help="fine-tune a frozen base with LoRA adapters of "
                                         "this rank: no weight gradients, optimizer states or DP gradient reduction "
                                         "for the base; MFU in Megatron-Bridge's LoRA FLOP count [default: every "
                                         "weight trained]"),
    lora_targets: LoraTargetsOption = None,
    dsa_stage: str = typer.Option("sparse", "--dsa-stage", help=DSA_STAGE_HELP, show_default=False),
    memory_margin: float | None = typer.Option(
        None, "--memory-margin", show_default=False,
        help="share of the accelerator's memory the plan should leave free after everything priced (the "
        "allocator's fragmentation, what is not priced); less is flagged low_memory_headroom, as search "
        "--memory-margin flags it, and --recompute auto, given a margin, takes the least recompute leaving it "
        "(default 0.05, an ASSUMPTION)"),
    as_json: JsonFlag = False,
) -> None:
    """Estimate one training plan: step time, tokens/s, MFU, memory per GPU and the breakdown."""
    evaluated = eval_options(eval_every, eval_samples, tokens, seq_len, global_batch)  # one line before pricing
    result = estimate_training(model, system, gpus, tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, vpp=vpp, seq_len=seq_len,
                               global_batch=global_batch, micro_batch=micro_batch, recompute=recompute,
                               recompute_layers=recompute_layers, offload_layers=offload_layers, zero=zero,
                               dtype=dtype, attention=attention,
                               order=order, sequence_parallel=sequence_parallel, schedule=schedule, stack=stack,
                               etp=etp, sharp=sharp, zero_shard=zero_shard, lora_rank=lora_rank,
                               lora_targets=lora_targets, optimizer=optimizer, dsa_stage=dsa_stage,
                               memory_margin=memory_margin)  # (its flag, and --recompute auto keeps it; hW73)
    if tokens is not None:
        result = whole_run(result, model, system, tokens, stack=stack, sharp=sharp, location=location,
                           server_price=server_price, costs=costs, evaluated=evaluated,
                           no_spare_policy=no_spare_policy)
    else:
        check_run_options(tokens, location, server_price, costs, no_spare_policy=no_spare_policy)
    emit(result, as_json, lambda shown: render_training(shown, device_word(system)))


PLAN_FLAGS = ("tp", "pp", "dp", "cp", "ep", "etp", "vpp", "seq_len", "global_batch", "micro_batch", "recompute",
              "recompute_layers", "offload_layers", "zero", "zero_shard", "dtype", "attention", "order",
              "sequence_parallel", "schedule", "stack", "sharp", "lora_rank", "lora_targets", "dsa_stage",
              "memory_margin")
"""train's options that make its plan (`estimate_training`'s keywords of the same names): `reliability --plan`."""


def plan_estimate(model: str, system: str, gpus: int, flags: str,
                  optimizer: str | None) -> tuple[TrainingEstimate, bool]:
    """(the estimate, --sharp) of `reliability --plan FLAGS`: train's plan flags read by train's own parser (its
    options, parsers and checks: one parser) for `model` on `system` at `gpus`, priced as `train` prices them
    (`optimizer` None: train's, the stack's recipe's)."""
    import functools
    import shlex

    import typer.main

    from infraplan.planning.shrunk_plan import PLAN_NOT_TAKEN  # (the web's plan refuses the same)

    try:  # typer's own click, whose errors its commands raise (as cli/main.py catches them)
        from typer import _click as click
    except ImportError:  # pragma: no cover - depends on the installed typer
        import click  # type: ignore[no-redef]

    try:
        words = shlex.split(flags)
    except ValueError as exc:
        raise InputError(f"--plan {flags!r}: {exc}") from None
    flags_given = [w.split("=")[0] for w in words if w.startswith("-")]
    refused = {"--" + name.replace("_", "-") for name in PLAN_NOT_TAKEN} | {"--json", "--help"}
    if given := [f for f in flags_given if f in refused]:
        raise InputError(f"--plan takes train's plan flags (--tp, --pp, --seq-len, --global-batch, ...), not "
                         f"{given[0]}: the job's system, GPUs and optimizer are reliability's own")
    if twice := [f for i, f in enumerate(flags_given) if f in flags_given[:i]]:
        raise InputError(f"--plan {flags!r}: {twice[0]} is given twice; give each flag once")

    def parsed(**params: Any) -> dict[str, Any]:
        return params

    reader = typer.Typer()
    reader.command()(functools.wraps(train)(parsed))  # train's signature: its options and parsers
    try:
        params = typer.main.get_command(reader).main([model, "--system", system, "--gpus", str(gpus), *words],
                                                     prog_name="reliability --plan", standalone_mode=False)
    except click.exceptions.NoSuchOption as exc:  # (click's suggestions less the flags --plan refuses, hR76)
        near = sorted(exc.possibilities or ())
        kept, out = [f for f in near if f not in refused], [f for f in near if f in refused]
        also = [f"possible options: {', '.join(kept)}"] if kept else ["infraplan train --help lists the plan's"]
        also += [f"{', '.join(out)}: not taken inside --plan"] if out else []
        raise InputError(f"--plan {flags!r}: No such option: {exc.option_name} ({'; '.join(also)})") from None
    except click.exceptions.ClickException as exc:
        raise InputError(f"--plan {flags!r}: {exc.format_message()}") from None
    if not isinstance(params, dict):  # (--help inside --plan: click printed train's help)
        raise InputError("--plan takes train's plan flags (infraplan train --help lists them)")
    plan = {k: params[k] for k in PLAN_FLAGS}
    return estimate_training(model, system, gpus, optimizer=optimizer, **plan), bool(plan["sharp"])


def register(app: typer.Typer) -> None:
    app.command("train")(train)
