"""The answer a serve-plan capacity search gives (`serving.capacity.search_capacity`): the chosen deployment's plan,
or no deployment and why.

No physics of its own: what the search found, said. Moved out of `serving.capacity` (hB59, the module at its cap);
the rerun line and the floors merged in from `serving.capacity_answer` and `serving.capacity_answer` (hR62, moves only).
- Met (`met_answer`): the whole run chosen (`replica_search.chosen_run`: the fewest accelerators, ties by
  `replica_search.option_rank`; a miss only where no level's whole runs meet) with `serve`'s metrics of that run, the
  whole runs that missed first among the rejections (`missed_lines`) and why the answer's own missed
  (`missed_reason`), the next-best options (`replica_search.next_best`), the error bands of the stack
  priced at the run's context (`catalog.answer_bands.serving_answer_band`, as `serve`'s of `serve_command`: by the
  engine settings the answer changed, hN42; its mean prompt + output tokens, hU59), the notes `serve` says of the
  deployment (collectives priced from a release table, uneven experts, the GEMM share a format runs, MTP drafts,
  the steady draw above TDP: hO57; an ASSUMED host share in joules_per_token: hH70), and the `infraplan serve`
  line that reruns it (`serve_command`).
- None (`unmet_answer`: no option at any PP level): why, in this order: the stack's front end above the TTFT SLO
  (`capacity_candidate.ttft_floor`); the last rejection where no layout was priced; the TTFT and TPOT floors of the
  layouts tried (`best_tpot_s`, `best_ttft_s`: no deployment of any size gets a percentile below them, hU41,
  hU55); else the limit, with the colocated bound the best layout's offline peak gives where it exceeds the limit,
  and for an accelerator preset (one generic node) that `--max-gpus N` searches N of them.

The `infraplan serve` line that reruns a `serve-plan` answer's whole run exactly (`capacity.search_capacity`'s
`serve_command`): the same deployment, requests, seed and stack, so its percentiles are the answer's; and the lines
that list the whole runs that missed (`missed_lines`), and why the answer's own missed (`missed_reason`).

The TPOT and TTFT floors of a serve-plan search: the lowest TPOT, and TTFT percentile, any deployment of the
layouts it tried can reach.

Modelled: one request decoding alone (batch 1, no queue, no prefill beside it) on each layout priced by
`serving.capacity.search_capacity`; a larger deployment only lowers a replica's load towards that, and a batch, a
longer context or a prefill only lengthens a decode step, so no TPOT percentile falls below it. Source: the search's
own simulator (`serving.capacity_candidate.Candidate.run`); hU41 / hV41 (a `--tpot-slo` below the floor is told so
instead of `--max-gpus N`). Moved out of `serving.capacity` (hS42).

TTFT (hU55): a request's TTFT is its stack's front end (`serving_sim.front_end_s`) plus its wait and its prefill; a
deployment of any size only shortens the wait, so no request's TTFT falls below its prompt prefilling alone (no
queue, no decode beside it) on the fastest layout tried, and no TTFT percentile falls below the alone TTFT of the
prompt at that percentile of the sample's lengths (numpy's "lower" percentile: a prompt at or below the one the run's
percentile lands on; ASSUMPTION: a longer prompt never prefills faster, the iteration cost growing with its tokens).
Before, a TTFT SLO above the front end but below a long prompt's prefill was told only "no deployment within 16,384
accelerators meets the SLOs" (Llama 3 70B chat on H100 at a 250 ms p99, whose 6,000-token p99 prompt alone takes
about 0.3 s).
"""

from __future__ import annotations

import shlex
from typing import Any

import numpy as np

from infraplan.catalog.answer_bands import serving_answer_band
from infraplan.cluster import Cluster
from infraplan.serving.capacity_candidate import Candidate, ttft_floor
from infraplan.serving.capacity_confidence import CONFIDENCE, confirming_seeds
from infraplan.serving.capacity_horizon import outright_misses
from infraplan.serving.capacity_space import Drafts, draft_note, format_tie_note
from infraplan.serving.deployment import Deployment
from infraplan.serving.engines import ONLINE_MAX_BATCH, ServingEngine, changed_engine_settings
from infraplan.serving.expert_slots import uneven_experts_note
from infraplan.serving.kv_handoff import stated_handoff_note
from infraplan.serving.raised_budget import deployment_budget_note
from infraplan.serving.release_tables import prices_collectives, what_if_notes
from infraplan.serving.replica_packing import idle_note
from infraplan.serving.replica_search import chosen_run, next_best
from infraplan.serving.replica_share import ROUTER
from infraplan.serving.results import ServingPlanResult
from infraplan.serving.serve_inputs import gemm_fraction_note
from infraplan.serving.serving_metrics import assumed_host_note, steady_power_note
from infraplan.serving.serving_sim import front_end_s
from infraplan.serving.workloads import Requests
from infraplan.units import number_text


def image_sizing(workload: str) -> str:
    """Where the fewest accelerators for an image rate are found, for serve-plan's refusal of a diffusion model or
    workload (hH66: the line named no way on)."""
    return (": `plan` sizes an image service's accelerators under its p99 SLO (services: {kind: image, workload: "
            f"{workload}, rate: R}}); `serve` runs one deployment")


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
               drafts: tuple[Drafts, ...], options: list[dict[str, Any]],
               runs: list[tuple[dict[str, Any], Any, bool]], evaluated: int,
               rejected: list[str], versioned: list[str], token_budget: int | None = None) -> ServingPlanResult:
    """The whole run chosen among `runs` (the options `options` of every level searched) as the answer (module
    docstring); `key`: the percentile's name in a run's metrics ('p99'); `drafts`: the (MTP draft tokens,
    acceptance) searched; `rejected` is extended in place with the whole runs that missed, first; `token_budget`:
    the one given (None: the stack's), which the budget note and `serve_command` take as `serve` does (hS77)."""
    ttft, tpot = slo
    acc, sys_spec = cluster.accelerator, cluster.system
    chosen, (result, n_full, n_clipped, context, *_, why_missed), meets = chosen_run(runs)
    rejected[:0] = missed_lines(runs, chosen, key, slo)  # the whole runs that missed, first
    # the bands as `serve`'s of `serve_command` (by the stack priced, and the chosen engine settings, hN42)
    k_chosen = chosen["speculative_tokens"]
    changed = changed_engine_settings(engine, chosen["max_batch"],  # the cap, as `serve` of `serve_command` (hS77)
                                      ONLINE_MAX_BATCH,  # one rank's budget (hG72)
                                      result["deployment"]["token_budget"], k_chosen, memory_bytes=acc.memory_bytes,
                                      attention_dp=chosen["attention_dp"], prefill=result["deployment"].get("prefill"))
    plan = ServingPlanResult.model_validate({
        "model": shape.name, "system": cluster.for_gpus(result["deployment"]["gpus"]).name, "accelerator": acc.name,
        "workload": workload or f"fixed {input_len}/{output_len}", "rate_per_s": rate, "feasible": meets,
        "stack": engine.name, "router": ROUTER,
        "gpus": chosen["gpus"], "deployment": result["deployment"],
        "slo": {"ttft_s": ttft, "tpot_s": None if tpot == float("inf") else tpot, "percentile": percentile},
        "meets_slo_full_run": meets, "why": None if meets else missed_reason(result, slo, key, why_missed),
        "full_run_requests": n_full,
        "slo_confidence_fraction": CONFIDENCE,  # the runs judged together (`capacity_horizon.judged_run`, hQ63)
        "full_run_seeds": confirming_seeds(seed)[:len(result.get("runs_over_slo_count") or [None])],
        "full_run_over_slo_count": result.get("runs_over_slo_count"),
        "full_run_percentile_s": result.get("runs_percentile_s"),  # each seed's [TTFT, TPOT] (hA64)
        "requests_clipped_to_context": n_clipped,
        "serve": {k: result[k] for k in ("output_tokens_per_s", "requests_per_s", "steady_output_tokens_per_s",
                                         "ttft_s", "tpot_s", "e2e_s",
                                         "slo_attainment", "joules_per_token", "power_w_per_gpu",  # power as
                                         "steady_power_w_per_gpu", "usd_per_million_tokens")},  # `serve` (hU56)
        # next-best (`replica_search.next_best`): none with fewer accelerators than the answer, none that missed
        "alternatives": (alternatives := next_best(options, runs, chosen)),
        "candidates_evaluated_count": evaluated,
        "rejected": rejected[:20],
        "error_band": serving_answer_band(acc.catalog_name, engine.ref, changed, stack is None, context_tokens=context),
        "ttft_error_band": serving_answer_band(acc.catalog_name, engine.ref, changed, stack is None, metric="ttft",
                                               context_tokens=context),
        "notes": [*versioned, *what_if_notes(acc, engine.ref, collectives=prices_collectives(result["deployment"])),
                  *filter(None, [uneven_experts_note(shape, chosen["ep"], engine.engine),
                                 gemm_fraction_note(acc, chosen["dtype"]),  # as `serve` says them
                                 deployment_budget_note(engine, token_budget, acc.memory_bytes, chosen["attention_dp"],
                                                        chosen["max_batch"], k_chosen)]),  # the cap's (hS77)
                  *draft_note(drafts, (k_chosen, dict(drafts)[k_chosen]), shape),
                  *format_tie_note(chosen, alternatives, acc.device_word),  # another format on as many (hL76)
                  *steady_power_note(result, acc, sys_spec),  # its steady draw above TDP + host (hO57)
                  *assumed_host_note(result, sys_spec, acc.device_word),  # an ASSUMED host share in J/token (hH70)
                  *filter(None, [idle_note([Deployment(tp=chosen["tp"], pp=chosen["pp"], replicas=chosen["replicas"],
                                                       attention_dp=chosen["attention_dp"])],
                                           cluster.fabric.scale_up_domain, acc.device_word)]),  # as `serve` (hT73)
                  *filter(None, [stated_handoff_note(result["deployment"], cluster.fabric.scale_up_domain,
                                                     acc.device_word)])],  # as `serve_command`'s (hT75, hL75)
    })
    line = serve_command(plan, model, system, workload, input_len, output_len, seed,
                         stack if isinstance(stack, str) else None, chosen["max_batch"], token_budget)
    return plan.model_copy(update={"serve_command": line})


def serve_command(r: ServingPlanResult, model: str, system: str, workload: str | None, input_len: int | None,
                  output_len: int | None, seed: int, stack: str | None, max_batch: int | None = None,
                  token_budget: int | None = None) -> str | None:
    """The `infraplan serve` line that reruns the chosen deployment's full run exactly (same requests, same seed):
    `serve` alone simulates 2,000 requests, the full run `full_run_requests`, so their percentiles differed. In the
    plan as `serve_command` (as `search`'s rows carry `train_command`), so --json and the web give it too.
    `max_batch`: the batch cap searched (None: the deployment's), `token_budget` the one given (None: the stack's
    default, which `serve` takes without the flag): the flags asked, so `serve` runs the same iteration batch and
    says the same budget note (hS77: the line gave the batch run and its budget, and `serve` said nothing)."""
    from infraplan.catalog.stacks import DEFAULT_SERVING_STACK

    d, slo = r.deployment, r.slo
    if d is None or slo is None or r.gpus is None or r.full_run_requests is None:
        return None
    # the replicas' accelerators: serve holds the same domains (`replica_packing`), `gpus` where none is idle
    args = ["infraplan", "serve", model, "--system", system, "--gpus", str(d.gpus), "--tp", str(d.tp), "--pp",
            str(d.pp)]
    if d.attention_dp > 1:
        args += ["--attention-dp", str(d.attention_dp)]
    if d.moe_tp > 1:  # attention DP with MoE TP (`capacity_layouts`): EP is then the rest, serve's default
        args += ["--moe-tp", str(d.moe_tp)]
    if d.ep > 1:
        args += ["--ep", str(d.ep)]
    args += ["--dtype", d.dtype, "--kv-dtype", d.kv_dtype, "--max-batch", str(max_batch or d.max_batch)]
    args += ["--token-budget", str(token_budget)] if token_budget is not None else []
    if d.speculative_tokens:  # the drafts the search priced (`capacity_space`)
        args += ["--speculative-tokens", str(d.speculative_tokens), "--acceptance", number_text(d.acceptance)]
    if d.disaggregated and d.prefill is not None:
        args += ["--prefill-gpus", str(d.prefill.gpus)]
        p = d.prefill  # a prefill layout of its own (`capacity_layouts`): serve's --prefill-* flags build it
        if (p.tp, p.attention_dp, p.ep, p.moe_tp) != (d.tp, d.attention_dp, d.ep, d.moe_tp):
            args += ["--prefill-tp", str(p.tp), "--prefill-attention-dp", str(p.attention_dp), "--prefill-ep",
                     str(p.ep)]
            if p.moe_tp > 1:  # attention DP with MoE TP in the prefill pool (hY54)
                args += ["--prefill-moe-tp", str(p.moe_tp)]
            if p.token_budget != d.token_budget:  # its own ranks' default (SGLang's chunk // attention DP, hG73)
                args += ["--prefill-token-budget", str(p.token_budget)]
    if workload is not None:
        args += ["--workload", workload]
    if input_len is not None:
        args += ["--input-len", str(input_len)]
    if output_len is not None:
        args += ["--output-len", str(output_len)]
    args += ["--rate", number_text(r.rate_per_s), "--requests", str(r.full_run_requests), "--seed", str(seed)]
    if slo.ttft_s is not None:
        args += ["--ttft-slo", number_text(slo.ttft_s)]
    if slo.tpot_s is not None:
        args += ["--tpot-slo", number_text(slo.tpot_s)]
    args += ["--stack", stack or r.stack or DEFAULT_SERVING_STACK]
    return shlex.join(args)


def missed_lines(runs: list[tuple[dict[str, Any], Any, bool]], chosen: dict[str, Any], key: str,
                 slo: tuple[float, float]) -> list[str]:
    """serve-plan's `rejected` lines of the whole runs that missed (`replica_search.whole_runs`'s runs: option, its
    run's serve metrics, request count, ..., why, and whether it met), but the answer's own: its miss is its
    `meets_slo_full_run` (it was listed as rejected too, and `serve-plan` printed it under "not chosen:", hU47). Each
    names its percentiles above the SLO (`outright_misses`; a `judged_run` reason names them first, and a plain miss,
    with no reason, names them alone: hS71, README chat's 32-accelerator TP2 run printed TPOT p99 0.23 s unnamed)."""
    lines = []
    for option, (missed, n_missed, *_, why), ok in runs:
        if not ok and option is not chosen:
            why = why or "; ".join(outright_misses(missed, slo, key))
            figures = ("its full run misses the SLO, not simulated whole (the search's answer alone asked: "
                       "`answer_only`"
                       if missed is None else f"its full run of {n_missed:,} requests misses the SLO (TTFT {key} "
                       f"{missed['ttft_s'][key]:.3g} s, TPOT {key} {missed['tpot_s'][key]:.3g} s")
            pools = f", {option['prefill_replicas']} prefill replicas" if option["disaggregated"] else ""
            if option.get("prefill_tp") is not None:  # of a layout of their own (`capacity_layouts`)
                pre_moe = option.get("prefill_moe_tp") or 1
                pools += (f" (TP{option['prefill_tp']} DP-attention{option['prefill_attention_dp']} "
                          f"EP{option['prefill_ep']}{f' MoE-TP{pre_moe}' if pre_moe > 1 else ''})")
            moe = f" DP-attention{option['attention_dp']} EP{option['ep']} MoE-TP{option['moe_tp']}" if option.get(
                "moe_tp", 1) > 1 else ""  # as before for every other layout
            lines.append(f"{option['dtype']} TP{option['tp']} PP{option['pp']}{moe} batch "
                         f"{option['max_batch']}{pools} on {option['gpus']} accelerators: {figures}"
                         f"{'; ' + why if why else ''})")
    return lines


def missed_reason(result: dict[str, Any], slo: tuple[float, float], key: str, why: str) -> str:
    """Why an answer's whole run missed, where none met (its `why`): `capacity_horizon.judged_run`'s reason (a pool
    that does not settle, a percentile not shown within the SLO at its confidence, a miss past the warm-up), else
    every percentile above its SLO (`capacity_horizon.outright_misses`, TTFT then TPOT: hH63, it named only the
    first), where the replica probes met it (hR51: serve-plan printed figures inside the SLO and the probes' advice
    for every miss)."""
    if why:
        return why
    over = outright_misses(result, slo, key) or [f"its TTFT {key} {result['ttft_s'][key]:.3g} s is above the SLO "
                                                 f"({slo[0]:.3g} s)"]
    return f"{'; '.join(over)} where its replica probes met it: more probe requests (--requests) size it safely"


def best_tpot_s(tried: list[Candidate], sample: Requests) -> float | None:
    """The lowest TPOT of the layouts `tried`: the sample's shortest request of more than one output token decoding
    alone (batch 1, no queue, no other prefill) on each. More replicas only lower a replica's load towards that, and
    a longer context, a batch or a prefill beside it only lengthen a step, so no deployment of these layouts at any
    size gets a TPOT percentile below it (hU41: `--tpot-slo 1ms` was told `--max-gpus N` searches more). None: no
    layout tried or no request of two tokens."""
    multi = np.flatnonzero(sample.output_tokens > 1)
    if not tried or not multi.size:
        return None
    one = sample.subset([int(multi[np.argmin(sample.input_tokens[multi] + sample.output_tokens[multi])])])
    alone = Requests(np.zeros(1), one.input_tokens, one.output_tokens)
    times = [cand.run(alone, "mixed") for cand in tried]
    return min(float(t.finish_s[0] - t.first_token_s[0]) for t in times) / float(one.output_tokens[0] - 1)


def tpot_floor_reason(floor: float | None, tpot: float, model: str, acc: str, limit: int, every_tp: bool) -> str:
    """Why no deployment meets a TPOT SLO below `floor` (`best_tpot_s`), at any size or (TP layouts beyond
    `limit` not tried) within `limit` accelerators; '' when the SLO is at or above it."""
    if floor is None or tpot >= floor:
        return ""
    where = "at any size" if every_tp else f"within {limit:,} accelerators (wider TP not tried: --max-gpus N)"
    return (f"the TPOT SLO {tpot * 1e3:.3g} ms is below what {model} decodes on {acc} {where}: the best TPOT found "
            f"is {floor * 1e3:.3g} ms (one request decoding alone on the fastest layout tried)")


def best_ttft_s(tried: list[Candidate], sample: Requests, percentile: float) -> tuple[float, int] | None:
    """The lowest TTFT `percentile` the layouts `tried` reach, seconds, and the prompt (tokens) it is read on: the
    sample's prompt at that percentile (numpy "lower") prefilling alone, with its stack's front end, on each layout
    in its colocated and its prefill-pool form (module docstring: no deployment of these layouts at any size goes
    below it). None: no layout tried."""
    if not tried or not len(sample):
        return None
    prompt = int(np.percentile(sample.input_tokens, percentile, method="lower"))
    alone = Requests(np.zeros(1), np.array([prompt], dtype=sample.input_tokens.dtype),
                     np.ones(1, dtype=sample.output_tokens.dtype))
    best = min(float(cand.run(alone, mode).first_token_s[0]) + front_end_s(cand.dep)
               for cand in tried for mode in ("mixed", "prefill"))
    return best, prompt


def ttft_floor_reason(floor: tuple[float, int] | None, ttft: float, percentile: float, model: str, acc: str,
                      limit: int, every_tp: bool) -> str:
    """Why no deployment meets a TTFT SLO below `floor` (`best_ttft_s`), at any size or within `limit`
    accelerators; '' when the SLO is at or above it."""
    if floor is None or ttft >= floor[0]:
        return ""
    where = "at any size" if every_tp else f"within {limit:,} accelerators (wider TP not tried: --max-gpus N)"
    return (f"the TTFT SLO {ttft:.3g} s at p{percentile:g} is below what {model} reaches on {acc} {where}: the best "
            f"TTFT p{percentile:g} found is {floor[0]:.3g} s (the sample's p{percentile:g} prompt, {floor[1]:,} "
            "tokens, prefilling alone on the fastest layout tried, with the stack's front end)")
