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

import shlex

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


def search_with_run(result: PlanSearchResult, model: str, system: str | System | Cluster, tokens: str, *,
                    stack: str | None, sharp: bool, memory_margin: float | None, location: str | None,
                    overrides: CostOverrides, evaluated: tuple[int, int] | None, flags: str, typed: str | None = None,
                    optimizer: str | None = None, no_spare_policy: str | None = None) -> SearchRunResult:
    """The search with its best plan's whole run on `tokens` (`best_run`; None where no plan fits) and the `train`
    line that prices it again (`best_run_command`: `best.train_command` and `flags`, the run's options as
    `run_flags` spells them). `stack` and `optimizer`: those the search was given (None: the search's own), as
    `train_command` names them."""
    run = command = None
    if result.best is not None:
        name = stack if stack is not None else result.stack
        estimate = best_plan_estimate(model, system, result.best, name, sharp, memory_margin, result.lora_rank,
                                      result.lora_targets, optimizer, result.dsa_stage)
        run = estimate_with_run(estimate, model, system, tokens, stack=name, sharp=sharp, location=location,
                                overrides=overrides, evaluated=evaluated, typed=typed, no_spare_policy=no_spare_policy)
        if result.best.train_command:
            command = f"{result.best.train_command} {flags}"
    return SearchRunResult.model_validate({**dict(result), "best_run": run, "best_run_command": command})
