"""`infraplan search`: the best parallel plans for a model on a system, or a scaling curve over GPU counts (its
--gpus read here, its tables, lines and chart drawn by `cli.commands._search_table`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import typer
from rich.progress import Progress

from infraplan.catalog.output_files import check_output_path
from infraplan.cli.commands._output import console, device_word, emit
from infraplan.cli.commands._search_run import RunAsk, best_plan_run, render_best_run
from infraplan.cli.commands._search_table import plot_scaling, render_search
from infraplan.cli.commands.train import EVAL_EVERY_HELP, EVAL_SAMPLES_HELP
from infraplan.cli.options import (
    MAX_ACCELERATORS,
    PRICE,
    SEQUENCES,
    TOKENS,
    TOP_PLANS,
    CostsOption,
    JsonFlag,
    LoraTargetsOption,
    ModelArgument,
    OptimizerOption,
    ScheduleOption,
    StackOption,
    SystemOption,
)
from infraplan.errors import InputError
from infraplan.limits import NO_SPARE_POLICY_HELP
from infraplan.planning.results import SearchRunResult
from infraplan.planning.search_run import searched_top
from infraplan.training.ep_choice import EVERY_EP
from infraplan.training.results import PlanSearchResult, ScalingResult
from infraplan.training.search import search_plans
from infraplan.units import listed

SEARCH_DSA_STAGE_HELP = ("sparse | warmup: price every plan in this training stage of a DeepSeek Sparse Attention "
                         "model, as train --dsa-stage (warmup: the dense warm-up, the model frozen and forward only, "
                         "the lightning indexer alone trained; no MFU guard: no published warm-up MFU) [default: "
                         "sparse]")
MAX_SCALING_POINTS = 64
"""GPU counts one `search` may sweep (each is a full plan search)."""


def parse_gpu_counts(text: str) -> list[int]:
    """'1024' -> [1024]; '512,1024,2048' -> list; '512:16384:x2' -> geometric range (inclusive).

    Every count must be 1..MAX_ACCELERATORS, a range must go up (LO <= HI) and hold at most 64 points.
    """
    usage = f"--gpus {text!r}: expected N, N1,N2,... or LO:HI:xF (e.g. 512:16384:x2)"
    try:
        if ":" in text:
            lo_text, hi_text, step = text.split(":")
            lo, hi = int(lo_text), int(hi_text)
            if lo < 1 or hi > MAX_ACCELERATORS or lo > hi:
                raise InputError(f"{usage}; the range must go up from LO >= 1 to HI <= {MAX_ACCELERATORS:,}")
            if step.startswith("x"):
                factor = int(step[1:])
                if factor < 2:
                    raise InputError(f"{usage}; the factor after x must be >= 2")
                counts: list[int] = []
                n = lo
                while n <= hi and len(counts) <= MAX_SCALING_POINTS:
                    counts.append(n)
                    n *= factor
            else:
                if int(step) < 1:
                    raise InputError(f"{usage}; the step must be >= 1")
                counts = list(range(lo, hi + 1, int(step))[:MAX_SCALING_POINTS + 1])
        else:
            counts = [int(x) for x in listed(text, "--gpus", "512,1024,2048")]
    except InputError:
        raise
    except ValueError:
        raise InputError(usage) from None
    if len(counts) > MAX_SCALING_POINTS:
        raise InputError(f"--gpus {text!r}: more than {MAX_SCALING_POINTS} GPU counts; use a coarser step")
    bad = [n for n in counts if not 1 <= n <= MAX_ACCELERATORS]
    if bad:
        raise InputError(f"--gpus {text!r}: every count must be 1..{MAX_ACCELERATORS:,}, got {bad[0]}")
    if twice := [n for i, n in enumerate(counts) if n in counts[:i]]:  # was searched and listed twice (hU53)
        raise InputError(f"--gpus {text!r}: {twice[0]} is given twice; give each count once")
    return counts




def _progress(as_json: bool) -> Progress:
    """The search's progress display, not yet started: it starts at the first plan evaluated (`search_plans` has
    then resolved the model, system, stack, dtype and GPU count), so a refused search prints only its error line
    (an unknown --system printed an empty stdout line first, hU46). Off under --json and where the console is not
    interactive (a pipe, CI): there Rich draws nothing and its stop printed an empty line before the answer."""
    return Progress(transient=True, disable=as_json or not console.is_interactive, console=console)


def search(
    model: ModelArgument,
    system: SystemOption,
    gpus: str = typer.Option(..., "--gpus", help="N, a list N1,N2 or a range LO:HI:xF"),
    seq_len: int = typer.Option(..., "--seq-len", parser=TOKENS, help="sequence length in tokens"),
    global_batch: int = typer.Option(..., "--global-batch", parser=SEQUENCES, help="global batch in sequences"),
    dtype: str = typer.Option("auto", "--dtype", help="bf16 | fp8 | mxfp8 | nvfp4 | auto (the fastest the "
                              "accelerator has with a published pre-training recipe for the model's class: no nvfp4 "
                              "for MoE; the answer names the best other)"),
    top: int = typer.Option(5, "--top", parser=TOP_PLANS, help="plans to list"),
    objective: str = typer.Option("time", "--objective", help="time | memory"),
    cross_node_tp: bool = typer.Option(False, "--cross-node-tp", help="let TP leave the scale-up domain"),
    plot: str | None = typer.Option(None, "--plot", help="write a Plotly scaling chart (HTML) here"),
    schedule: ScheduleOption = None,
    stack: StackOption = None,
    optimizer: OptimizerOption = None,
    mfu_guard: bool | None = typer.Option(
        None, "--mfu-guard/--no-mfu-guard", show_default=False,
        help="rank plans above the best published MFU of the accelerator family after those within it; default: "
        "on, off on what-if hardware (a file that differs from its preset); compare a what-if with its preset "
        "under --no-mfu-guard on both"),
    sharp: bool = typer.Option(False, "--sharp", help="IB SHARP in-network all-reduce for every plan's DP gradients "
                               "(NCCL CollNet, as train --sharp; ZeRO 0 plans gain); InfiniBand SHARP switches only"),
    memory_margin: float | None = typer.Option(
        None, "--memory-margin", show_default=False,
        help="share of the accelerator's memory a plan should leave free after everything priced (the allocator's "
        "fragmentation, what is not priced); plans with less are ranked after those with it (default 0.05, an "
        "ASSUMPTION)"),
    lora_rank: int | None = typer.Option(None, "--lora-rank", help="price every plan as LoRA fine-tuning of a frozen "
                                         "base with adapters of this rank, as train --lora-rank (MFU in its LoRA FLOP "
                                         "count; no MFU guard: no published LoRA MFU) [default: every weight "
                                         "trained]"),
    lora_targets: LoraTargetsOption = None,
    dsa_stage: str = typer.Option("sparse", "--dsa-stage", help=SEARCH_DSA_STAGE_HELP, show_default=False),
    tokens: str | None = typer.Option(None, "--tokens", help="train on this many tokens (e.g. 15.6T): adds the best "
                                      "plan's whole run, as train --tokens of its train_command (one GPU count)"),
    location: str | None = typer.Option(None, "--location", help="grid/price location preset or YAML file for "
                                        "--tokens"),
    server_price: float | None = typer.Option(None, "--server-price", parser=PRICE,
                                              help="server $ per accelerator for --tokens (overrides the catalog)"),
    eval_every: str | None = typer.Option(None, "--eval-every", help=EVAL_EVERY_HELP),
    eval_samples: str | None = typer.Option(None, "--eval-samples", help=EVAL_SAMPLES_HELP),
    costs: CostsOption = None,
    no_spare_policy: str | None = typer.Option(None, "--no-spare-policy", help=NO_SPARE_POLICY_HELP,
                                               show_default=False),
    as_json: JsonFlag = False,
) -> None:
    """Search every valid training plan (TP/CP/PP/VPP/DP/EP, micro-batch, recompute, ZeRO, dtype); list the best."""
    counts = parse_gpu_counts(gpus)
    ask = RunAsk(tokens, location, server_price, costs, eval_every, eval_samples, seq_len, global_batch, counts,
                 no_spare_policy)
    if top < 1:
        raise InputError(f"--top must be >= 1, got {top}")
    if plot is not None:  # --plot "" refused as any name without .html (hL70: it wrote nothing, silently)
        if not plot.endswith(".html"):
            raise InputError(f"--plot must name an .html file, got {plot!r}")
        if len(counts) < 2:
            raise InputError(f"--plot draws a scaling curve: give several GPU counts (--gpus 512:8192:x2), got --gpus "
                             f"{gpus}")
        check_output_path(plot, "--plot")
    results = []
    in_order: list[Callable[[Sequence[int]], PlanSearchResult]] = []  # (one search's answer in the runs' order)
    progress = _progress(as_json)
    task = progress.add_task("evaluating plans", total=None)
    try:
        for n in counts:
            def tick(done: int, total: int, n: int = n) -> None:
                if not progress.live.is_started:  # the first plan evaluated: every input was resolved and checked
                    progress.start()
                progress.update(task, completed=done, total=total, description=f"{n} GPUs")
            searched = partial(search_plans, model, system, n, seq_len, global_batch, dtype=dtype,
                               top=searched_top(top, tokens),  # (--tokens: its runs rank the first)
                               objective=objective, cross_node_tp=cross_node_tp,
                               schedules=(schedule,) if schedule else (), stack=stack,
                               mfu_guard=mfu_guard, sharp=sharp, memory_margin=memory_margin,
                               compare_dtypes=len(counts) == 1,  # (a scaling curve lists no choice)
                               lora_rank=lora_rank, lora_targets=lora_targets, optimizer=optimizer,
                               dsa_stage=dsa_stage,
                               ep_mask=None if len(counts) == 1 else EVERY_EP)  # (nor an EP line)
            results.append(searched(progress=tick, in_order=in_order))
    finally:
        if progress.live.is_started:
            progress.stop()
    result: PlanSearchResult | ScalingResult
    if len(results) == 1:  # (with --tokens, its best plan's whole run: `_search_run`)
        result = best_plan_run(results[0], model, system, ask, stack, sharp, memory_margin, optimizer, top,
                               in_order[0])  # (its lines of the runs' best, hL75, said without a search, hR76)
    else:
        result = ScalingResult.from_searches(results)
        if plot:
            plot_scaling(result, plot, device_word(system))
    guarded = all(r.mfu_guard for r in results)
    emit(result, as_json, lambda shown: render_search(shown, guarded, device_word(system)))
    if isinstance(result, SearchRunResult) and not as_json:
        render_best_run(result, device_word(system))


def register(app: typer.Typer) -> None:
    app.command("search")(search)
