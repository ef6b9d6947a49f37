"""`search --tokens`: the best plan's whole run (wall clock with failures, checkpoints and evaluations, GPU-hours,
energy, CO2, cost), as `train --tokens` of the best plan's `train_command` prices it
(`planning.search_run.search_with_run`: one answer, bit for bit, hL60); its options read before the search runs and
its table printed after the search's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from infraplan.catalog.facility_loader import load_location
from infraplan.cli.commands.train import render_run
from infraplan.cluster.cost import load_cost_overrides
from infraplan.planning.results import SearchRunResult
from infraplan.planning.search_run import run_flags, search_with_run
from infraplan.training.evaluation import eval_options
from infraplan.training.results import PlanSearchResult
from infraplan.training.run_options import check_run_options
from infraplan.units import parse_tokens


class RunAsk:
    """What `search` was asked of the best plan's whole run: `train --tokens`'s options, read before the search
    runs (a bad count or location, or --eval-every without --tokens, is one line, not a line after a long search)."""

    def __init__(self, tokens: str | None, location: str | None, server_price: float | None, costs: str | None,
                 eval_every: str | None, eval_samples: str | None, seq_len: int, global_batch: int,
                 counts: list[int], no_spare_policy: str | None = None) -> None:
        self.evaluated = eval_options(eval_every, eval_samples, tokens, seq_len, global_batch)  # as `train` reads
        if tokens is not None:
            parse_tokens(tokens, name="--tokens")  # (each read again by the run, as `train` reads them)
            if location is not None:
                load_location(location)
        check_run_options(tokens, location, server_price, costs, len(counts), no_spare_policy)
        self.tokens, self.location, self.no_spare_policy = tokens, location, no_spare_policy
        # the run's options as typed, for the line that reruns the best plan's run with `train` (`best_run_command`)
        self.flags = (run_flags(tokens, location, server_price, costs, eval_every, eval_samples, no_spare_policy)
                      if tokens else "")
        self.overrides = load_cost_overrides(costs).merged(server_usd_per_accelerator=server_price)


def best_plan_run(result: PlanSearchResult, model: str, system: str, ask: RunAsk, stack: str | None, sharp: bool,
                  memory_margin: float | None, optimizer: str | None = None, top: int | None = None,
                  in_order: Callable[[Sequence[int]], PlanSearchResult] | None = None
                  ) -> SearchRunResult | PlanSearchResult:
    """The search with its best plan's whole run where --tokens was given (the search alone otherwise); `top`: the
    rows --top lists (the search kept `search_run.searched_top`'s, its runs ranking the first); `in_order`: the
    search's answer in a given order (`search_with_run`'s)."""
    if ask.tokens is None:
        return result
    return search_with_run(result, model, system, ask.tokens, stack=stack, sharp=sharp, memory_margin=memory_margin,
                           location=ask.location, overrides=ask.overrides, evaluated=ask.evaluated, flags=ask.flags,
                           typed=system, optimizer=optimizer, no_spare_policy=ask.no_spare_policy, top=top,
                           in_order=in_order)


def render_best_run(result: SearchRunResult, device: str) -> None:
    """The best plan's whole run after the search's table (`train.render_run`, as `train --tokens` prints it), and
    the `train` line that prices it again (hI61: the text named a "train_command" only --json showed; hR61: the
    result's `best_run_command`, as --json and the web give it)."""
    from infraplan.cli.commands._output import console

    run = result.best_run
    if run is not None:
        console.print(f"the best plan (#1) on {run.tokens:,.0f} tokens, as train --tokens of its "
                      "train_command:", highlight=False, markup=False)
        render_run(run, device)
        if result.best_run_command:
            console.print(f"the same run again: {result.best_run_command}", highlight=False, markup=False,
                          soft_wrap=True)
        for note in run.notes:  # what `train --tokens` says of it that the search's notes above did not
            if note not in result.notes:
                console.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
