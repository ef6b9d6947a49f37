"""`infraplan search`'s answer as a person reads it: the table of the best plans (or the scaling curve's, one best
plan per GPU count), the lines under it (the published-MFU guard and each precision's ceiling, the memory margin, the
tie band, the dtype and EP choices, the error band, the search's rate, the notes) and the scaling chart (`--plot`,
Plotly HTML). The MFU ceilings are the accelerator family's best published pre-training MFU
(`training.search_guard`). Moved out of cli/commands/search.py (hD, session 70), unchanged.
"""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from infraplan.catalog.output_files import write_atomically
from infraplan.cli.commands._output import (
    band_line,
    console,
    fmt_bytes,
    fmt_percent,
    fmt_seconds,
    print_band,
)
from infraplan.errors import InputError
from infraplan.training.results import MfuCeiling, PlanConfig, PlanSearchResult, ScalingResult
from infraplan.units import significant_text

WARMUP_GUARD_LINE = ("DSA's dense warm-up stage has no published-MFU guard (every published figure is a pre-training "
                     "MFU)")


def plan_label(c: PlanConfig) -> str:
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
    return "" if c.fastest_ranked_after_config is None else f" ({plan_label(c.fastest_ranked_after_config)})"


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
                table.add_row(f"{point.gpus:,}", plan_label(best.config), f"{best.tokens_per_s_per_gpu:,.0f}",
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
        table.add_row(str(i), plan_label(row.config), fmt_seconds(row.step_time_s),
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
                      "compare with the preset it extends, if any, under --no-mfu-guard", highlight=False, markup=False)
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


def plot_scaling(result: ScalingResult, path: str, device: str) -> None:
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
