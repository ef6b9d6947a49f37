"""A plan's whole run on top of its estimate (`train --tokens`), and a search's best plan's (`search --tokens`),
priced by one function for the CLI and the web (hL60).

`estimate_with_run`: the estimate joined with `training_run.training_run_totals` on `tokens` (read as `--tokens`
reads a count: 15.6T), its periodic evaluation (`training.evaluation.in_run_evaluation` at the plan's resolved point)
in the wall clock. `search_with_run`: the best row estimated again as `train` of its `train_command` estimates it
(`best_plan_estimate`: `estimate_training` with every axis the command spells out, at the
search's margin) and its run by `estimate_with_run`, so `search ... --tokens T` and `train <best.train_command>
--tokens T` give one answer, bit for bit (before, a planner reran `train ... --tokens` from the command by hand);
`best_run_command`: that `train` line with the run's options as given (`run_flags`), for the CLI text, --json and the
web alike (hR61).
"""

from __future__ import annotations

import itertools
import shlex
from collections.abc import Callable, Sequence

from infraplan.catalog.loader import load_model
from infraplan.catalog.schemas import System
from infraplan.cluster import Cluster
from infraplan.cluster.cost import CostOverrides
from infraplan.limits import DEFAULT_NO_SPARE_POLICY
from infraplan.planning.results import SearchRunResult, TrainingRunResult
from infraplan.planning.training_run import training_run_totals
from infraplan.training.estimate import estimate_training
from infraplan.training.evaluation import in_run_evaluation, plan_point
from infraplan.training.results import PlanMetrics, PlanSearchResult, TrainingEstimate
from infraplan.units import parse_tokens


def estimate_with_run(estimate: TrainingEstimate, model: str, system: str | System | Cluster, tokens: str | float, *,
                      stack: str | None, sharp: bool, location: str | None, overrides: CostOverrides,
                      evaluated: tuple[int, int] | None, typed: str | None = None,
                      no_spare_policy: str | None = None) -> TrainingRunResult:
    """`train --tokens`: the estimate with its whole run on `tokens`, priced at `location` with `overrides`,
    `evaluated` (`evaluation.eval_options`: every N sequences, S sequences each) in its wall clock; `typed`: the
    system as the user typed it (`training_run.typed_part`); `no_spare_policy`: `train --no-spare-policy` (None:
    the default, `facility.spare_policy`)."""
    evaluation = (in_run_evaluation(plan_point(model, system, estimate.config, stack, sharp), *evaluated)
                  if evaluated else None)
    totals = training_run_totals(estimate, system, parse_tokens(tokens, name="--tokens"), location=location,
                                 overrides=overrides, typed=typed, evaluation=evaluation,
                                 shape=load_model(model),  # (its optimizer's checkpoint by the model's groups)
                                 no_spare_policy=no_spare_policy or DEFAULT_NO_SPARE_POLICY, sharp=sharp)
    return TrainingRunResult.joined(estimate, totals)


def best_plan_estimate(model: str, system: str | System | Cluster, best: PlanMetrics, stack: str, sharp: bool,
                       memory_margin: float | None, lora_rank: int | None, lora_targets: str | None,
                       optimizer: str | None = None, dsa_stage: str | None = None) -> TrainingEstimate:
    """`train` of the best row's `train_command` (`training.search_rows.train_command`: the same axes, stack,
    --sharp, --memory-margin, LoRA adapters, --optimizer and --dsa-stage as given; no --recompute-layers or
    --zero-shard, which a search does not vary)."""
    c = best.config
    return estimate_training(model, system, c.gpus, tp=c.tp, pp=c.pp, dp=c.dp, cp=c.cp, ep=c.ep, vpp=c.vpp,
                             seq_len=c.seq_len, global_batch=c.global_batch, micro_batch=c.micro_batch,
                             recompute=c.recompute, offload_layers=c.offload_layers, zero=c.zero,
                             dtype=c.dtype, attention=c.attention, order=c.order,
                             sequence_parallel=c.sequence_parallel, schedule=c.schedule, stack=stack, etp=c.etp,
                             sharp=sharp, lora_rank=lora_rank, lora_targets=lora_targets, optimizer=optimizer,
                             dsa_stage=dsa_stage or "sparse", memory_margin=memory_margin)


def run_flags(tokens: str, location: str | None = None, server_price: float | None = None, costs: str | None = None,
              eval_every: str | None = None, eval_samples: str | None = None, no_spare_policy: str | None = None
              ) -> str:
    """A whole run's `train` options as given (`search --tokens`'s, CLI and web alike), each value shell-quoted: what
    `best.train_command` needs to price the same run again (`best_run_command`)."""
    given = (("--tokens", tokens), ("--location", location), ("--server-price", server_price), ("--costs", costs),
             ("--eval-every", eval_every), ("--eval-samples", eval_samples), ("--no-spare-policy", no_spare_policy))
    return " ".join(f"{flag} {shlex.quote(str(value))}" for flag, value in given if value is not None)


RUN_RANKED_PLANS = 5
"""`search --tokens` prices the runs of the first this many plans by step time (the best's tier) and ranks them by
their wall clock: under a repair policy a plan a little slower a step may finish sooner (its shrunk plans faster, its
shrink unit smaller). tests/planning/test_spare_fields_plan_and_run_rank_hS75.py: 20 gives the same winner on the
README's search cases."""


def searched_top(top: int, tokens: str | None) -> int:
    """The plans a search with `--top top` keeps: at least `RUN_RANKED_PLANS` under --tokens (then cut to `top`)."""
    return top if tokens is None else max(top, RUN_RANKED_PLANS)


def search_with_run(result: PlanSearchResult, model: str, system: str | System | Cluster, tokens: str, *,
                    stack: str | None, sharp: bool, memory_margin: float | None, location: str | None,
                    overrides: CostOverrides, evaluated: tuple[int, int] | None, flags: str, typed: str | None = None,
                    optimizer: str | None = None, no_spare_policy: str | None = None, top: int | None = None,
                    ranked: int = RUN_RANKED_PLANS,
                    in_order: Callable[[Sequence[int]], PlanSearchResult] | None = None) -> SearchRunResult:
    """The search with its best plan's whole run on `tokens` (`best_run`; None where no plan fits) and the `train`
    line that prices it again (`best_run_command`: `best.train_command` and `flags`, the run's options as
    `run_flags` spells them). `stack` and `optimizer`: those the search was given (None: the search's own), as
    `train_command` names them. The best is the plan whose run finishes first of the first `ranked` by step time in
    the best's tier (`run_ranked`, objective time); `top`: the rows kept after (None: all). `in_order`: the
    search's answer with its rows in a given order (`search_plans(in_order=...)`'s), called where the runs chose
    another best, so the search's lines about its best (`dtype_choice`, `ep_choice`, `train`'s notes) describe the
    plan the answer gives (hL75; None: they describe the fastest step's; hR76: said of that row without the second
    search hL75's `again` ran)."""
    rows, run, command = list(result.top), None, None
    name = stack if stack is not None else result.stack

    def priced(row: PlanMetrics) -> TrainingRunResult:
        estimate = best_plan_estimate(model, system, row, name, sharp, memory_margin, result.lora_rank,
                                      result.lora_targets, optimizer, result.dsa_stage)
        return estimate_with_run(estimate, model, system, tokens, stack=name, sharp=sharp, location=location,
                                 overrides=overrides, evaluated=evaluated, typed=typed, no_spare_policy=no_spare_policy)

    runs: list[TrainingRunResult] = []
    order: list[int] = []
    searched = list(result.top)
    if result.best is not None:
        order, runs = run_ranked(rows, priced, ranked if result.objective == "time" else 1)
        everyone = [*order, *range(len(order), len(rows))]
        rows = [rows[i] for i in everyone]
        if in_order is not None and order[0] != 0:  # the search's lines of its best said of the runs' best (hL75)
            result = in_order(everyone)
        run = runs[0]
        if rows[0].train_command:
            command = f"{rows[0].train_command} {flags}"
    note = ranked_note(searched, order, runs)
    rows = rows[:top] if top is not None else rows
    return SearchRunResult.model_validate({**dict(result), "best": rows[0] if rows else None, "top": rows,
                                           "best_run": run, "best_run_command": command, "run_ranked_count": len(runs),
                                           "notes": [*result.notes, *note]})


def run_ranked(rows: list[PlanMetrics], priced: Callable[[PlanMetrics], TrainingRunResult], ranked: int
               ) -> tuple[list[int], list[TrainingRunResult]]:
    """(the first `ranked` of `rows` in the best's tier, those the search ranks first, as their indices in the order
    of their runs' wall clock; those runs in that order). A tier: within the MFU guard and the memory margin, or
    beyond either (the search ranks those after, `search_guard`). A plan the search ranks after a slower one (its
    guard's tie band, simplest layout first: `plan_grid.GUARD_TIE_SHARE`) is taken as no faster a step than the
    slowest ranked before it: each run's time is scaled by that step over its own, so the search's order stands
    where the runs differ by their steps alone (spares that always suffice, no evaluations) and the repair policy
    and the evaluations reorder it; runs within 1e-9 of each other keep it (the search's float path against
    train's)."""
    def flagged(row: PlanMetrics) -> bool:
        return row.beyond_published_mfu or row.low_memory_headroom

    head = list(itertools.takewhile(lambda r: flagged(r) == flagged(rows[0]), rows[:max(ranked, 1)]))
    runs = [priced(r) for r in head]
    slowest = list(itertools.accumulate((r.step_time_s for r in head), max))
    times = [run.time_to_train_s * step / row.step_time_s for run, step, row in zip(runs, slowest, head, strict=True)]
    order = sorted(range(len(runs)), key=lambda i: round(times[i] / times[0], 9))
    return order, [runs[i] for i in order]


def ranked_note(searched: list[PlanMetrics], order: list[int], runs: list[TrainingRunResult]) -> list[str]:
    """One line where the runs' times reorder the search's plans (`run_ranked`'s order and runs): the best, where
    another than the fastest step's, and the order the rows are listed in (hV75: the table numbers its rows in that
    order, so "#1" alone named the search's #1 and the table's at once; a reorder below the best was said nowhere)."""
    if order == sorted(order):
        return []
    listed = (f"the first {len(runs)} of the search's were priced and are listed by their runs' time, as the "
              f"search's {', '.join(f'#{i + 1}' for i in order)}")
    if order[0] == 0:
        return [f"--tokens: {listed} (#1's run finishes first, {runs[0].time_to_train_s / 86_400.0:.4g} days)"]
    best, first = searched[order[0]], searched[0]
    was = runs[order.index(0)]
    days, slower = 86_400.0, best.step_time_s / first.step_time_s - 1.0
    return [f"--tokens: the best plan is the search's #{order[0] + 1} ({slower:+.2%} a step): its run finishes "
            f"first, {runs[0].time_to_train_s / days:.4g} days against the search's #1's "
            f"{was.time_to_train_s / days:.4g} (goodput with repairs {runs[0].goodput_with_repairs:.2%} against "
            f"{was.goodput_with_repairs:.2%}, --no-spare-policy {runs[0].no_spare_policy}"
            f"{shrunk_batches_clause(best, first, order[0] + 1, runs[0].no_spare_policy)}); {listed}"]


def shrunk_batches_clause(best: PlanMetrics, first: PlanMetrics, number: int, policy: str) -> str:
    """Why two plans' runs differ under shrink where their micro-batches a replica do (hZ76, traced on the 576-GPU
    GB200 SuperPOD's llama3-70b fp8 job: ZeRO-3's CP2 DP288 at micro-batch 2 and its TP1 DP576 run 1 micro-batch a
    replica, ZeRO-2's CP2 DP288 2): a smaller plan keeps the global batch, so its busiest replica runs ceil(m x DP /
    DP') >= m + 1 of the plan's m micro-batches, at least (m + 1) / m of its work (`shrunk_plan`), whatever the
    ZeRO stage (ZeRO-3's re-gathers a micro-batch: 0.023 -> 0.044 s of a 3.73 s step); "" where the policy is not
    shrink, the counts are equal or a row holds no plan."""
    first_m, best_m = (getattr(getattr(row, "config", None), "micro_batches", None) for row in (first, best))
    if policy != "shrink" or first_m is None or best_m is None or first_m == best_m:
        return ""
    return (f"; on fewer replicas the busiest runs a micro-batch more at least: the search's #1 runs {first_m:,} a "
            f"replica (its micro-batches x{(first_m + 1) / first_m:.3g}), #{number} {best_m:,} "
            f"(x{(best_m + 1) / best_m:.3g})")
