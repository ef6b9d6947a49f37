"""The `infraplan serve` line that reruns a `serve-plan` answer's whole run exactly (`capacity.search_capacity`'s
`serve_command`): the same deployment, requests, seed and stack, so its percentiles are the answer's; and the lines
that list the whole runs that missed (`missed_lines`), and why the answer's own missed (`missed_reason`)."""

from __future__ import annotations

import shlex
from typing import Any

from infraplan.serving.capacity_horizon import outright_misses
from infraplan.serving.results import ServingPlanResult
from infraplan.units import number_text


def serve_command(r: ServingPlanResult, model: str, system: str, workload: str | None, input_len: int | None,
                  output_len: int | None, seed: int, stack: str | None) -> str | None:
    """The `infraplan serve` line that reruns the chosen deployment's full run exactly (same requests, same seed):
    `serve` alone simulates 2,000 requests, the full run `full_run_requests`, so their percentiles differed. In the
    plan as `serve_command` (as `search`'s rows carry `train_command`), so --json and the web give it too."""
    from infraplan.catalog.stacks import DEFAULT_SERVING_STACK

    d, slo = r.deployment, r.slo
    if d is None or slo is None or r.gpus is None or r.full_run_requests is None:
        return None
    args = ["infraplan", "serve", model, "--system", system, "--gpus", str(r.gpus), "--tp", str(d.tp), "--pp",
            str(d.pp)]
    if d.attention_dp > 1:
        args += ["--attention-dp", str(d.attention_dp)]
    if d.moe_tp > 1:  # attention DP with MoE TP (`capacity_layouts`): EP is then the rest, serve's default
        args += ["--moe-tp", str(d.moe_tp)]
    if d.ep > 1:
        args += ["--ep", str(d.ep)]
    args += ["--dtype", d.dtype, "--kv-dtype", d.kv_dtype, "--max-batch", str(d.max_batch), "--token-budget",
             str(d.token_budget)]
    if d.speculative_tokens:  # the drafts the search priced (`capacity_space`)
        args += ["--speculative-tokens", str(d.speculative_tokens), "--acceptance", number_text(d.acceptance)]
    if d.disaggregated and d.prefill is not None:
        args += ["--prefill-gpus", str(d.prefill.gpus)]
        p = d.prefill  # a prefill layout of its own (`capacity_pairs`): serve's --prefill-* flags build it
        if (p.tp, p.attention_dp, p.ep, p.moe_tp) != (d.tp, d.attention_dp, d.ep, d.moe_tp):
            args += ["--prefill-tp", str(p.tp), "--prefill-attention-dp", str(p.attention_dp), "--prefill-ep",
                     str(p.ep)]
            if p.moe_tp > 1:  # attention DP with MoE TP in the prefill pool (hY54)
                args += ["--prefill-moe-tp", str(p.moe_tp)]
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
            pools = f", {option['prefill_replicas']} prefill replicas" if option["disaggregated"] else ""
            if option.get("prefill_tp") is not None:  # of a layout of their own (`capacity_pairs`)
                pre_moe = option.get("prefill_moe_tp") or 1
                pools += (f" (TP{option['prefill_tp']} DP-attention{option['prefill_attention_dp']} "
                          f"EP{option['prefill_ep']}{f' MoE-TP{pre_moe}' if pre_moe > 1 else ''})")
            moe = f" DP-attention{option['attention_dp']} EP{option['ep']} MoE-TP{option['moe_tp']}" if option.get(
                "moe_tp", 1) > 1 else ""  # as before for every other layout
            lines.append(f"{option['dtype']} TP{option['tp']} PP{option['pp']}{moe} batch "
                         f"{option['max_batch']}{pools} on {option['gpus']} accelerators: its full run of "
                         f"{n_missed:,} requests misses the SLO (TTFT "
                         f"{key} {missed['ttft_s'][key]:.3g} s, TPOT {key} {missed['tpot_s'][key]:.3g} s"
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
