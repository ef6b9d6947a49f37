"""The answer a serve-plan capacity search gives (`serving.capacity.search_capacity`): the chosen deployment's plan,
or no deployment and why.

No physics of its own: what the search found, said. Moved out of `serving.capacity` (hB59, the module at its cap).
- Met (`met_answer`): the whole run chosen (`replica_search.chosen_run`: the fewest accelerators, ties by
  `replica_search.option_rank`; a miss only where no level's whole runs meet) with `serve`'s metrics of that run, the
  whole runs that missed first among the rejections (`capacity_rerun.missed_lines`) and why the answer's own missed
  (`capacity_rerun.missed_reason`), the next-best options (`replica_search.next_best`), the error bands of the stack
  priced at the run's context (`catalog.answer_bands.serving_answer_band`, as `serve`'s of `serve_command`: by the
  engine settings the answer changed, hN42; its mean prompt + output tokens, hU59), the notes `serve` says of the
  deployment (collectives priced from a release table, uneven experts, the GEMM share a format runs, MTP drafts,
  the steady draw above TDP: hO57), and the `infraplan serve` line that reruns it (`capacity_rerun.serve_command`).
- None (`unmet_answer`: no option at any PP level): why, in this order: the stack's front end above the TTFT SLO
  (`capacity_candidate.ttft_floor`); the last rejection where no layout was priced; the TTFT and TPOT floors of the
  layouts tried (`tpot_floor`: no deployment of any size gets a percentile below them, hU41, hU55); else the limit,
  with the colocated bound the best layout's offline peak gives where it exceeds the limit, and for an accelerator
  preset (one generic node) that `--max-gpus N` searches N of them.
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.answer_bands import serving_answer_band
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate, ttft_floor
from infraplan.serving.capacity_rerun import missed_lines, missed_reason, serve_command
from infraplan.serving.capacity_space import Drafts, draft_note
from infraplan.serving.engines import ONLINE_MAX_BATCH, ServingEngine, changed_engine_settings
from infraplan.serving.expert_slots import uneven_experts_note
from infraplan.serving.release_tables import prices_collectives, what_if_notes
from infraplan.serving.replica_search import chosen_run, next_best
from infraplan.serving.replica_share import ROUTER
from infraplan.serving.results import ServingPlanResult
from infraplan.serving.serve_inputs import gemm_fraction_note
from infraplan.serving.serving_metrics import steady_power_note
from infraplan.serving.tpot_floor import best_tpot_s, best_ttft_s, tpot_floor_reason, ttft_floor_reason
from infraplan.serving.workloads import Requests


def unmet_answer(shape: Any, cluster: Cluster, engine: ServingEngine, *, system: str, rate: float,
                 slo: tuple[float, float], percentile: float, limit: int, max_gpus: int | None, tps: list[int],
                 tried: list[Candidate], sample: Requests, rejected: list[str], evaluated: int, least: int,
                 versioned: list[str], clipped: int) -> ServingPlanResult:
    """No deployment within `limit` accelerators at any PP level meets the SLOs: why (module docstring). `tried`: every
    layout priced; `rejected`: the layouts refused, each with its reason; `least`: the fewest accelerators any
    layout's offline peak allows colocated; `clipped`: the probe's requests truncated to the context."""
    ttft, tpot = slo
    acc, sys_spec = cluster.accelerator, cluster.system
    floor = best_tpot_s(tried, sample)  # the answer's `best_tpot_s`, which the `why` text reads
    first = best_ttft_s(tried, sample, percentile)  # and its `best_ttft_s` (hU55)
    every_tp = max(tps, default=1) <= limit
    return ServingPlanResult(model=shape.name, system=sys_spec.name, rate_per_s=rate, feasible=False, router=ROUTER,
                             stack=engine.name, best_tpot_s=floor, best_ttft_s=first[0] if first else None,
                             why=ttft_floor(engine, ttft) or (rejected[-1] if rejected and not evaluated else
                                  "; ".join(r for r in (
                                      ttft_floor_reason(first, ttft, percentile, shape.name, acc.name, limit,
                                                        every_tp),
                                      tpot_floor_reason(floor, tpot, shape.name, acc.name, limit, every_tp))
                                            if r) or
                                  f"no deployment within {limit:,} accelerators meets the SLOs"
                                  + (f": colocated, the output rate alone needs at least {least:,} accelerators "
                                     "(the best layout's offline peak)" if least > limit else "")
                                  + (f" ({system} is an accelerator preset, one generic node: --max-gpus N "
                                     "searches N of them)" if cluster.generic and max_gpus is None else "")),
                             rejected=rejected[:20], notes=[*versioned, *what_if_notes(acc, engine.ref)],
                             requests_clipped_to_context=clipped)


def met_answer(shape: Any, cluster: Cluster, engine: ServingEngine, *, model: str, system: str,
               workload: str | None, input_len: int | None, output_len: int | None, rate: float,
               slo: tuple[float, float], percentile: float, key: str, seed: int, stack: str | ServingEngine | None,
               budget: int, drafts: tuple[Drafts, ...], options: list[dict[str, Any]],
               runs: list[tuple[dict[str, Any], Any, bool]], evaluated: int,
               rejected: list[str], versioned: list[str]) -> ServingPlanResult:
    """The whole run chosen among `runs` (the options `options` of every level searched) as the answer (module
    docstring); `key`: the percentile's name in a run's metrics ('p99'); `budget`: the stack's chunked-prefill
    token budget; `drafts`: the (MTP draft tokens, acceptance) searched; `rejected` is extended in place with the
    whole runs that missed, first."""
    ttft, tpot = slo
    acc, sys_spec = cluster.accelerator, cluster.system
    chosen, (result, n_full, n_clipped, context, *_, why_missed), meets = chosen_run(runs)
    rejected[:0] = missed_lines(runs, chosen, key, slo)  # the whole runs that missed, first
    # the bands as `serve`'s of `serve_command` (by the stack priced, and the chosen engine settings, hN42)
    k_chosen = chosen["speculative_tokens"]
    changed = changed_engine_settings(engine, chosen["max_batch"], ONLINE_MAX_BATCH,
                                      max(budget, chosen["max_batch"]), k_chosen)
    plan = ServingPlanResult.model_validate({
        "model": shape.name, "system": cluster.for_gpus(result["deployment"]["gpus"]).name, "accelerator": acc.name,
        "workload": workload or f"fixed {input_len}/{output_len}", "rate_per_s": rate, "feasible": meets,
        "stack": engine.name, "router": ROUTER,
        "gpus": chosen["gpus"], "deployment": result["deployment"],
        "slo": {"ttft_s": ttft, "tpot_s": tpot, "percentile": percentile},
        "meets_slo_full_run": meets, "why": None if meets else missed_reason(result, slo, key, why_missed),
        "full_run_requests": n_full,
        "requests_clipped_to_context": n_clipped,
        "serve": {k: result[k] for k in ("output_tokens_per_s", "requests_per_s", "steady_output_tokens_per_s",
                                         "ttft_s", "tpot_s", "e2e_s",
                                         "slo_attainment", "joules_per_token", "power_w_per_gpu",  # power as
                                         "steady_power_w_per_gpu", "usd_per_million_tokens")},  # `serve` (hU56)
        # next-best (`replica_search.next_best`): none with fewer accelerators than the answer, none that missed
        "alternatives": next_best(options, runs, chosen),
        "candidates_evaluated": evaluated,
        "rejected": rejected[:20],
        "error_band": serving_answer_band(acc.catalog_name, engine.ref, changed, stack is None, context_tokens=context),
        "ttft_error_band": serving_answer_band(acc.catalog_name, engine.ref, changed, stack is None, metric="ttft",
                                               context_tokens=context),
        "notes": [*versioned, *what_if_notes(acc, engine.ref, collectives=prices_collectives(result["deployment"])),
                  *filter(None, [uneven_experts_note(shape, chosen["ep"], engine.engine),
                                 gemm_fraction_note(acc, chosen["dtype"])]),  # as `serve` says them
                  *draft_note(drafts, (k_chosen, dict(drafts)[k_chosen]), shape),
                  *steady_power_note(result, acc, sys_spec)],  # its steady draw above TDP + host (hO57)
    })
    line = serve_command(plan, model, system, workload, input_len, output_len, seed,
                         stack if isinstance(stack, str) else None)
    return plan.model_copy(update={"serve_command": line})
