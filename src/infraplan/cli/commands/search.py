"""`infraplan search`: the best parallel plans for a model on a system, or a scaling curve over GPU counts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from infraplan.catalog.output_files import check_output_path, write_atomically
from infraplan.cli.commands._output import (
    band_line,
    console,
    device_word,
    emit,
    fmt_bytes,
    fmt_percent,
    fmt_seconds,
    print_band,
)
from infraplan.cli.commands._search_run import RunAsk, best_plan_run, render_best_run
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
from infraplan.planning.results import SearchRunResult
from infraplan.training.ep_choice import EVERY_EP
from infraplan.training.results import MfuCeiling, PlanConfig, PlanSearchResult, ScalingResult
from infraplan.training.search import search_plans
from infraplan.units import listed, significant_text

SEARCH_DSA_STAGE_HELP = ("sparse | warmup: price every plan in this training stage of a DeepSeek Sparse Attention "
                         "model, as train --dsa-stage (warmup: the dense warm-up, the model frozen and forward only, "
                         "the lightning indexer alone trained; no MFU guard: no published warm-up MFU) [default: "
                         "sparse]")
WARMUP_GUARD_LINE = ("DSA's dense warm-up stage has no published-MFU guard (every published figure is a pre-training "
                     "MFU)")
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


def _plan_label(c: PlanConfig) -> str:
    """The plan in one line; the pipeline schedule, the expert TP and the rank order are named where they are not
    `train`'s defaults (1f1b, or interleaved with V > 1; ETP = TP; tp-cp-pp-dp), so two rows never read alike."""
    default = "interleaved" if c.vpp > 1 else "1f1b"
    schedule = f" {c.schedule}" if c.pp > 1 and c.schedule and c.schedule != default else ""
    etp = f" ETP{c.etp}" if c.ep > 1 and c.etp is not None and c.etp != c.tp else ""
    order = f" {c.order}" if c.order != "tp-cp-pp-dp" else ""
    return (f"TP{c.tp} CP{c.cp} PP{c.pp}×V{c.vpp}{schedule} DP{c.dp} EP{c.ep}{etp} mb{c.micro_batch} {c.recompute} "
            f"Z{c.zero} {c.dtype}{order}")


GUARD_LINE = ("ranked under the published-MFU guard: a plan above its family's best published MFU comes after every "
              "plan within it (*); --no-mfu-guard ranks by predicted time alone")
"""Said under every guarded ranking (hU41, session 41): the guard can hold every listed plan, or a scaling curve's
every point, at the ceiling while the plans predicted faster go unlisted (Llama 3 70B on 64 H100: the best listed
10.7 s at MFU 37.1 %, the fastest 8.61 s at 46.3 %), and the output said nothing of it."""


def ceiling_line(c: MfuCeiling, objective: str = "time", effect: bool = True) -> str:
    """One precision's published-MFU ceiling in words: its value and convention, whose figure it is (the family's
    own or a fallback, and why), its source, and the plans it ranked after the best (hG52: the guard, not the
    model, chose the answer where any are); `effect` False leaves that out (a scaling curve says it per point)."""
    convention = "causal half of the scores" if c.flop_convention == "causal_scores" else "full scores"
    whose = f"{c.family} {c.figure_dtype}, stack class {c.stack_class}"
    kind = f"FALLBACK, {c.basis}" if c.fallback else c.basis
    ahead = "faster" if objective == "time" else "smaller-memory"
    if not c.ranks:
        ranked = "flags only (not ranking)"
    elif c.ranked_after_count:
        ranked = (f"ranked {c.ranked_after_count:,} {ahead} plan{'s' if c.ranked_after_count > 1 else ''} after the "
                  f"best, the fastest {fmt_seconds(c.fastest_ranked_after_step_time_s)} at MFU "
                  f"{fmt_percent(c.fastest_ranked_after_mfu)}{_fastest_label(c)}")
    else:
        ranked = f"ranked no {ahead} plan after the best"
    line = f"MFU ceiling {c.dtype}: {fmt_percent(c.mfu)} ({convention}) from {whose}, {kind} ({c.source})"
    return f"{line}; {ranked}" if effect else line


def _fastest_label(c: MfuCeiling) -> str:
    """The layout of the fastest plan a ceiling ranked after the best, in the table's words (hF59: Llama 3 405B on
    16,384 H100 in bf16 answered TP8 CP8 PP8 x V2, CP 8 at 8K tokens, and said the fastest's time, not its plan)."""
    return "" if c.fastest_ranked_after_config is None else f" ({_plan_label(c.fastest_ranked_after_config)})"


def margin_line(result: PlanSearchResult) -> str:
    """The plans the memory margin alone ranked after the best: how many, the margin, and the fastest's step time
    against the best's (hF57: the count alone left a user to guess what --memory-margin 0 would give)."""
    n, best, fastest = result.margin_ranked_after_count, result.best, result.margin_fastest_ranked_after_step_time_s
    line = f"the memory margin alone ranked {n:,} plan{'s' if n > 1 else ''} the objective puts ahead after the best"
    if best is None or fastest is None or not best.memory_capacity_bytes:
        return line
    share = best.memory_margin_bytes / best.memory_capacity_bytes
    # how much faster, in words: at three digits the two times often print alike ("2.42 s against 2.42 s", hF58)
    faster = significant_text((best.step_time_s - fastest) / best.step_time_s * 100.0, 2)
    return (f"{line}: each leaves less than the margin of {fmt_percent(share)} of the accelerator's memory "
            f"(--memory-margin) free; the fastest {fmt_seconds(fastest)} a step against the best's "
            f"{fmt_seconds(best.step_time_s)} ({faster} % faster)")


def render_search(result: PlanSearchResult | ScalingResult, mfu_guard: bool = True, device: str = "GPU") -> None:
    """`mfu_guard`: whether a scaling curve's searches ran under the guard (a single search says so itself);
    `device`: what the headers call one accelerator (`_output.device_word`)."""
    per = f"/{device}" if len(device) <= 3 else f" per {device}"  # GPU: tokens/s/GPU; a header Rich can wrap else
    if isinstance(result, ScalingResult):
        if all(p.best is None for p in result.scaling):  # no count has a plan: no table of dashes (hU53)
            for point in result.scaling:
                console.print(f"no feasible plan for {result.model} on {result.system} at {point.gpus:,} {device}"
                              f"{'s' if point.gpus != 1 else ''}: {point.reason}", highlight=False, markup=False,
                              soft_wrap=True)
            _print_notes(result.notes)
            return
        stage = ", DSA dense warm-up" if result.dsa_stage == "warmup" else ""  # (the stage priced, as its notes)
        table = Table(title=f"scaling: {result.model} on {result.system}{stage}")
        for col in (f"{device}s", "best plan", f"tokens/s{per}", "MFU", "step time"):
            table.add_column(col)
        for point in result.scaling:
            best = point.best
            if best is None:
                table.add_row(f"{point.gpus:,}", point.reason, "-", "-", "-")
            else:
                table.add_row(f"{point.gpus:,}", _plan_label(best.config), f"{best.tokens_per_s_per_gpu:,.0f}",
                              fmt_percent(best.mfu), fmt_seconds(best.step_time_s))
        console.print(table)
        band = next((p.best.error_band for p in result.scaling if p.best is not None), None)
        if band is not None:  # one accelerator and stack: one band for every point
            print_band(band_line(band, "throughput"))
        if mfu_guard and any(p.best is not None for p in result.scaling):
            console.print(GUARD_LINE, highlight=False, markup=False)
        elif stage and any(p.best is not None for p in result.scaling):  # (as one search says it)
            console.print(f"no plan ranked by a ceiling: {WARMUP_GUARD_LINE}", highlight=False, markup=False)
        first = next((p for p in result.scaling if p.mfu_ceilings), None)  # (one accelerator and stack: one ceiling)
        for ceiling in first.mfu_ceilings if first is not None else []:
            console.print(ceiling_line(ceiling, effect=False), highlight=False, markup=False)
        for point in result.scaling:  # where the guard, not the model, chose a point's plan
            for c in point.mfu_ceilings:
                if c.ranks and c.ranked_after_count:
                    console.print(f"{point.gpus:,} {device}s: the {c.dtype} ceiling ranked {c.ranked_after_count:,} "
                                  f"faster plan{'s' if c.ranked_after_count > 1 else ''} after the best, the fastest "
                                  f"{fmt_seconds(c.fastest_ranked_after_step_time_s)} at MFU "
                                  f"{fmt_percent(c.fastest_ranked_after_mfu)}{_fastest_label(c)}", highlight=False,
                                  markup=False)
        _print_notes(result.notes)
        return
    if result.best is None:  # one line, no empty table (hU53); exit 0 with `best` null and `reason` in the JSON, as
        _print_no_plan(result, device)  # serve-plan's "no deployment found": a question with no answer, not bad input
        return
    table = Table(title=f"top plans: {result.model} on {result.system} ({result.gpus:,} {device}s), "
                  f"stack {result.stack}")  # 16,384 as every other count (read "16384 GPUs", hU81)
    for col in ("#", "plan", "step time", f"tokens/s{per}", "MFU", f"memory{per}"):
        table.add_column(col)
    for i, row in enumerate(result.top, 1):
        flag = " *" if row.beyond_published_mfu else ""  # ranked after every plan within the published ceiling
        table.add_row(str(i), _plan_label(row.config), fmt_seconds(row.step_time_s),
                      f"{row.tokens_per_s_per_gpu:,.0f}", fmt_percent(row.mfu) + flag,
                      fmt_bytes(row.memory_per_gpu_bytes) + (" !" if row.low_memory_headroom else ""))
    console.print(table)
    flagged = next((row for row in result.top if row.beyond_published_mfu), None)
    if flagged is not None:
        console.print(f"* beyond published MFU: {flagged.beyond_published_mfu_reason}", highlight=False, markup=False)
    tight = next((row for row in result.top if row.low_memory_headroom), None)
    if tight is not None:  # (ranked after the plans with the margin: `search_plans`)
        console.print(f"! low memory headroom: {tight.low_memory_headroom_reason}", highlight=False, markup=False)
    if result.dsa_stage == "warmup":  # (no published warm-up MFU: `search_guard.frozen_guard`)
        console.print(f"ranked by predicted {result.objective} alone: {WARMUP_GUARD_LINE}", highlight=False,
                      markup=False)
    elif result.lora_rank is not None:  # (no published LoRA MFU: `search_guard.frozen_guard`)
        console.print(f"ranked by predicted {result.objective} alone: LoRA rank {result.lora_rank} has no "
                      "published-MFU guard (every published figure is a pre-training MFU)", highlight=False,
                      markup=False)
    elif not result.mfu_guard:
        console.print("ranked by predicted time alone (no published-MFU guard: what-if hardware or --no-mfu-guard); "
                      "compare with its preset under --no-mfu-guard", highlight=False, markup=False)
    elif result.top:
        console.print(GUARD_LINE, highlight=False, markup=False)
    for ceiling in result.mfu_ceilings if result.top else []:  # each precision's ceiling and what it ranked after
        console.print(ceiling_line(ceiling, result.objective), highlight=False, markup=False)
    if result.margin_ranked_after_count:
        console.print(margin_line(result), highlight=False, markup=False)
    if result.tie_ranked_after_count:  # (the guard's tie band: `plan_grid.Found._simplest`, hG85)
        console.print(f"the ceiling's tie band ranked {result.tie_ranked_after_count:,} plans within it and up to 1 % "
                      "faster after the best, a simpler layout (no recompute, then less CP, fewer of TP and PP, "
                      "less PP)", highlight=False, markup=False)
    if result.dtype_choice is not None:  # --dtype auto: the precision chosen, why, the best other (hD50)
        console.print(result.dtype_choice.summary, highlight=False, markup=False)
    if result.ep_choice is not None:  # an MoE model: why this EP (training/ep_choice.py, hU59)
        console.print(result.ep_choice, highlight=False, markup=False)
    if result.top and result.top[0].error_band is not None:  # one accelerator and stack: one band for every row
        print_band(band_line(result.top[0].error_band, "throughput"))
    rate = f"{result.configs_per_s:,.0f}" if result.configs_per_s is not None else "-"
    console.print(f"evaluated {result.evaluated_count:,} valid plans ({result.feasible_count:,} fit in memory) in "
                  f"{result.wall_time_s:.2f} s = {rate} configs/s")
    _print_notes(result.notes)


def _print_no_plan(result: PlanSearchResult, device: str) -> None:
    """A search with no plan in one line: what was searched, why none, and how many plans were tried; then the
    notes (the part's figures' standing), as serve-plan prints them after its "no deployment found" line."""
    count = f"{result.gpus:,} {device}{'s' if result.gpus != 1 else ''}"
    console.print(f"no feasible plan for {result.model} on {result.system} ({count}, stack {result.stack}): "
                  f"{result.reason} ({result.evaluated_count:,} valid plans evaluated, {result.feasible_count:,} fit "
                  "in memory)",
                  highlight=False, markup=False, soft_wrap=True)
    _print_notes(result.notes)


def _print_notes(notes: list[str]) -> None:
    for note in notes:  # the accelerator's figures' standing and use (`catalog.figures.figures_notes`)
        console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)


def _write_text(path: str, text: str) -> None:
    Path(path).write_text(text, encoding="utf-8")


def _plot(result: ScalingResult, path: str, device: str) -> None:
    """The scaling chart; `device`: what its axes call one accelerator (`_output.device_word`), as the tables."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    points = [(p.gpus, p.best) for p in result.scaling if p.best is not None]
    if not points:  # an empty 4.8 MB chart written, exit 0 (hU41): refused, nothing written
        first = result.scaling[0]
        counts = ", ".join(f"{p.gpus:,}" for p in result.scaling)
        raise InputError(f"--plot {path}: no {device} count of {counts} has a plan that fits ({first.gpus:,} "
                         f"{device}s: {first.reason}); nothing written")
    gpus = [g for g, _ in points]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=gpus, y=[b.tokens_per_s_per_gpu for _, b in points],
                             name=f"tokens/s per {device}"), secondary_y=False)
    fig.add_trace(go.Scatter(x=gpus, y=[b.mfu * 100 for _, b in points], name="MFU (%)"),
                  secondary_y=True)
    fig.update_xaxes(type="log", title_text=f"{device}s")  # "GPUs" on an MTIA rack read wrong (hY41)
    fig.update_yaxes(title_text=f"tokens/s per {device}", secondary_y=False)
    fig.update_yaxes(title_text="MFU (%)", secondary_y=True)
    fig.update_layout(title=f"{result.model} on {result.system}: best plan per {device} count")
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    write_atomically(path, lambda tmp: _write_text(tmp, html), "--plot")


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
    as_json: JsonFlag = False,
) -> None:
    """Search every valid training plan (TP/CP/PP/VPP/DP/EP, micro-batch, recompute, ZeRO, dtype); list the best."""
    counts = parse_gpu_counts(gpus)
    ask = RunAsk(tokens, location, server_price, costs, eval_every, eval_samples, seq_len, global_batch, counts)
    if top < 1:
        raise InputError(f"--top must be >= 1, got {top}")
    if plot:
        if not plot.endswith(".html"):
            raise InputError(f"--plot must name an .html file, got {plot!r}")
        if len(counts) < 2:
            raise InputError(f"--plot draws a scaling curve: give several GPU counts (--gpus 512:8192:x2), got --gpus "
                             f"{gpus}")
        check_output_path(plot, "--plot")
    results = []
    progress = _progress(as_json)
    task = progress.add_task("evaluating plans", total=None)
    try:
        for n in counts:
            def tick(done: int, total: int, n: int = n) -> None:
                if not progress.live.is_started:  # the first plan evaluated: every input was resolved and checked
                    progress.start()
                progress.update(task, completed=done, total=total, description=f"{n} GPUs")
            results.append(search_plans(model, system, n, seq_len, global_batch, dtype=dtype, top=top,
                                        objective=objective, cross_node_tp=cross_node_tp, progress=tick,
                                        schedules=(schedule,) if schedule else (), stack=stack,
                                        mfu_guard=mfu_guard, sharp=sharp, memory_margin=memory_margin,
                                        compare_dtypes=len(counts) == 1,  # (a scaling curve lists no choice)
                                        lora_rank=lora_rank, lora_targets=lora_targets, optimizer=optimizer,
                                        dsa_stage=dsa_stage,
                                        ep_mask=None if len(counts) == 1 else EVERY_EP))  # (nor an EP line)
    finally:
        if progress.live.is_started:
            progress.stop()
    result: PlanSearchResult | ScalingResult
    if len(results) == 1:  # (with --tokens, its best plan's whole run: `_search_run`)
        result = best_plan_run(results[0], model, system, ask, stack, sharp, memory_margin, optimizer)
    else:
        result = ScalingResult.from_searches(results)
        if plot:
            _plot(result, plot, device_word(system))
    guarded = all(r.mfu_guard for r in results)
    emit(result, as_json, lambda shown: render_search(shown, guarded, device_word(system)))
    if isinstance(result, SearchRunResult) and not as_json:
        render_best_run(result, device_word(system))


def register(app: typer.Typer) -> None:
    app.command("search")(search)
