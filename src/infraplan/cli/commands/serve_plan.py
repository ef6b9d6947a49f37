"""`infraplan serve-plan`: the fewest accelerators and the deployment that serve a QPS target within SLOs."""

from __future__ import annotations

import typer

from infraplan.cli.commands._fitted_table import ID, TEXT, Col, print_fitted
from infraplan.cli.commands._output import (
    console,
    emit,
    fmt_num,
    fmt_rate,
    fmt_seconds,
    metric_table,
    print_serving_bands,
    seconds_in_text,
    stage_bar,
)
from infraplan.cli.commands.serve import power_text
from infraplan.cli.options import (
    ACCELERATORS,
    ACCEPTANCE,
    ARRIVAL_RATE,
    PERCENTILE,
    PROBE_REQUESTS,
    SPECULATIVE_TOKENS,
    TOKENS,
    TPOT_SLO,
    TTFT_SLO,
    JsonFlag,
    KvDtype,
    ModelArgument,
    SeedOption,
    ServingSystem,
)
from infraplan.planning.fleet_mix_llm import deployment_line
from infraplan.serving.capacity import BATCH_CAPS, search_capacity
from infraplan.serving.results import DeploymentOption, ServingPlanResult
from infraplan.units import listed


def render_plan(r: ServingPlanResult) -> None:
    d, s, slo = r.deployment, r.serve, r.slo
    if d is None or s is None or slo is None:  # none found (a miss is `feasible` false with its deployment, hJ57)
        console.print(f"no deployment found for {r.model} on {r.system} at {fmt_num(r.rate_per_s)} requests/s: "
                      f"{seconds_in_text(r.why or '')}", markup=False, soft_wrap=True)
        if r.requests_clipped_to_context:
            console.print(f"note: {r.requests_clipped_to_context:,} requests of a probe stream were truncated to "
                          f"{r.model}'s context (the workload's long tail, as `serve` truncates it)", markup=False,
                          soft_wrap=True)
        for line in r.notes:  # the part's SECONDARY figures, a what-if's tables (`release_tables.what_if_notes`)
            console.print(f"note: {line}", markup=False, soft_wrap=True)
        return
    head, rest = deployment_line(r).split(": ", 1)  # the line fleet-mix names a pool's deployment by
    from rich.text import Text

    console.print(Text.assemble((head, "bold"), f": {rest}"))
    table = metric_table(f"{r.model} at {fmt_num(r.rate_per_s)} requests/s ({r.workload}), SLO p"
                         f"{fmt_num(slo.percentile)}: TTFT ≤ {fmt_seconds(slo.ttft_s)}"
                         + (f", TPOT ≤ {fmt_seconds(slo.tpot_s)}" if slo.tpot_s is not None else ""))
    table.add_row("output throughput", fmt_rate(s.output_tokens_per_s, "tokens/s") + " (whole run, drain included)")
    if s.steady_output_tokens_per_s is not None:  # the rate the per-token rows are over (hJ57)
        table.add_row("output throughput served, steady", fmt_rate(s.steady_output_tokens_per_s, "tokens/s")
                      + " (energy and cost per token are over it)")
    for p, label in ((s.ttft_s, "TTFT"), (s.tpot_s, "TPOT"), (s.e2e_s, "end-to-end")):
        table.add_row(label, f"p50 {fmt_seconds(p.p50 or 0.0)} · p90 {fmt_seconds(p.p90 or 0.0)} · "
                      f"p99 {fmt_seconds(p.p99 or 0.0)}")
    table.add_row("SLO attainment", f"{s.slo_attainment * 100:.1f} %")
    table.add_row("energy per output token (with host share)", f"{fmt_num(s.joules_per_token, 4)} J")
    table.add_row("power per accelerator (with host share)",  # as `serve` says it
                  power_text(s.power_w_per_gpu, s.steady_power_w_per_gpu if s.steady_output_tokens_per_s else None))
    table.add_row("cost", f"${fmt_num(s.usd_per_million_tokens, 4)} per million output tokens"
                  if s.usd_per_million_tokens is not None else
                  f"not priced: no catalogued server price for {r.accelerator} (`serve --usd-per-hour` prices it)")
    console.print(table)
    print_serving_bands(r.error_band, s.tpot_s.p50, r.ttft_error_band, s.ttft_s.mean)  # as `serve` prints them
    if not r.meets_slo_full_run:  # its own figures at the SLO's percentile (hU47: it was printed "not chosen")
        key = f"p{slo.percentile:g}"
        got = f"TTFT {key} {fmt_seconds(getattr(s.ttft_s, key))}, TPOT {key} {fmt_seconds(getattr(s.tpot_s, key))}"
        console.print(f"warning: the whole deployment's run of {r.full_run_requests or 0:,} requests misses the SLO "
                      f"({got}): {seconds_in_text(r.why or 'its replica probes met it')}; so did every option whose "
                      "whole run was tried", style="bold yellow",
                      markup=False)  # its own reason (`capacity_answer`, hF52)
    if r.meets_slo_full_run and r.full_run_seeds and r.slo_confidence_fraction is not None:  # the verdict's rule (hQ63)
        console.print(f"note: TTFT and TPOT p{slo.percentile:g} shown within their SLOs at "
                      f"{r.slo_confidence_fraction:.0%} confidence (one-sided) over "
                      f"{len(r.full_run_seeds)} independent runs of {r.full_run_requests or 0:,} requests (seeds "
                      f"{', '.join(map(str, r.full_run_seeds))}), judged together; the figures above are seed "
                      f"{r.full_run_seeds[0]}'s", markup=False, soft_wrap=True)
    if r.requests_clipped_to_context:  # a preset's long tail, truncated as `serve` truncates it
        console.print(f"note: {r.requests_clipped_to_context:,} of the full run's {r.full_run_requests or 0:,} "
                      f"requests were truncated to {r.model}'s context (the workload's long tail, as `serve` "
                      "truncates it)", markup=False, soft_wrap=True)
    for line in r.notes:  # a what-if's preset tables and price (`serving.release_tables.what_if_notes`)
        console.print(f"note: {line}", markup=False, soft_wrap=True)
    for line in (x for x in r.rejected if "its full run of" in x):
        console.print(f"not chosen: {seconds_in_text(line)}", markup=False)  # in the table's units (hU53)
    if r.alternatives:  # through `print_fitted`: at 80 columns Rich cut "accelerat…", "disaggreg…" (hU81)
        drafts = any(o.speculative_tokens for o in r.alternatives) or d.speculative_tokens > 0
        rows = [[str(o.gpus), o.dtype, f"{o.tp}, DP-attn {o.attention_dp}, EP {o.ep}"
                 + (f", MoE TP {o.moe_tp}" if o.moe_tp > 1 else "") if o.attention_dp > 1
                 else str(o.tp), str(o.pp), str(o.max_batch), str(o.replicas),
                 f"yes ({o.prefill_replicas} prefill{_own_prefill(o)})" if o.disaggregated else "no",
                 *((str(o.speculative_tokens),) if drafts else ())] for o in r.alternatives]
        drafted = (Col("draft tokens"),) if drafts else ()  # MTP searched (--try-speculative) or given
        print_fitted("next-best deployments", [
            Col("devices", ID, "right"), Col("dtype", justify="left"), Col("TP", TEXT),
            *map(Col, ("PP", "batch cap", "replicas")), Col("disaggregated", TEXT), *drafted], rows)


def _own_prefill(o: DeploymentOption) -> str:
    """An option's prefill pool of a layout of its own (`serving.capacity_layouts`), as the table names it."""
    if o.prefill_tp is None:
        return ""
    moe = f", MoE TP {o.prefill_moe_tp}" if (o.prefill_moe_tp or 1) > 1 else ""  # hY54
    return f" TP {o.prefill_tp}" + (f", DP-attn {o.prefill_attention_dp}, EP {o.prefill_ep}{moe}"
                                    if (o.prefill_attention_dp or 1) > 1 else "")


def _ints(text: str, flag: str) -> tuple[int, ...]:
    from infraplan.errors import InputError

    entries = listed(text, flag, "64,128,256")  # an empty entry: one line, as --dtypes (hU69: it was skipped)
    try:
        values = tuple(int(x) for x in entries)
    except ValueError:
        raise InputError(f"{flag} takes comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1 or max(values) > 1_048_576:
        raise InputError(f"{flag} takes comma-separated whole numbers 1..1,048,576, got {text[:80]!r}")
    return values


def serve_plan(
    model: ModelArgument,
    system: ServingSystem,
    rate: float = typer.Option(..., "--rate", parser=ARRIVAL_RATE, help="target arrival rate, requests/s"),
    workload: str | None = typer.Option(None, "--workload", help="chat | code-completion | summarization | YAML"),
    input_len: int | None = typer.Option(None, "--input-len", parser=TOKENS, help="fixed prompt length, tokens"),
    output_len: int | None = typer.Option(None, "--output-len", parser=TOKENS, help="fixed output length, tokens"),
    ttft_slo: float | None = typer.Option(None, "--ttft-slo", parser=TTFT_SLO, help="TTFT SLO, s or 2s [workload's]"),
    tpot_slo: float | None = typer.Option(None, "--tpot-slo", parser=TPOT_SLO, help="TPOT SLO, s or 50ms [workload's]"),
    percentile: float = typer.Option(99.0, "--percentile", parser=PERCENTILE,
                                     help="SLO percentile for TTFT and TPOT: 50, 90 or 99"),
    dtypes: str = typer.Option("bf16,fp8", "--dtypes", help="weight dtypes (bf16,fp8,int8,int4,nvfp4,mxfp4,mxfp8)"),
    kv_dtype: KvDtype | None = typer.Option(None, "--kv-dtype", help="KV cache precision of every deployment tried "
                                           "[each weight dtype's as serve takes it: the model config's "
                                           "quantization_config, else fp8 with fp8 or nvfp4 weights, else bf16]"),
    speculative_tokens: int = typer.Option(0, "--speculative-tokens", parser=SPECULATIVE_TOKENS,
                                           help="MTP / speculative draft tokens per decode step of every deployment "
                                           "tried, as serve prices them [0]"),
    acceptance: float | None = typer.Option(None, "--acceptance", parser=ACCEPTANCE,
                                            help="per-token acceptance rate of the draft tokens, needed with "
                                            "--speculative-tokens (DeepSeek-V3 MTP: 0.85-0.9) [--try-speculative: "
                                            "0.85]"),
    try_speculative: bool = typer.Option(False, "--try-speculative",
                                         help="search every layout with and without the model's MTP module as the "
                                         "draft (DeepSeek-V3 / R1; the stack must run it); ties go to plain "
                                         "decoding, the answer says which"),
    max_batch: str = typer.Option(",".join(map(str, BATCH_CAPS)), "--max-batch",
                                  help="batch caps to consider, sequences per engine, comma-separated"),
    token_budget: int | None = typer.Option(None, "--token-budget", parser=TOKENS,
                                            help="tokens per iteration (chunked prefill) of every deployment tried, "
                                            "one attention-DP rank's, as serve --token-budget takes it [the stack's: "
                                            "8192; vllm-0.x the batch cap above it; sglang-0.x by GPU memory, 16384 "
                                            "from 160 GiB, / attention DP]"),
    max_gpus: int | None = typer.Option(None, "--max-gpus", parser=ACCELERATORS,
                                        help="search limit, accelerators [the system's size]"),
    no_disaggregation: bool = typer.Option(False, "--no-disaggregation", help="colocated deployments only"),
    requests: int = typer.Option(1500, "--requests", parser=PROBE_REQUESTS,
                                 help="requests per probe simulation (a larger number is refused, naming the limit)"),
    seed: SeedOption = 0,
    stack: str | None = typer.Option(None, "--stack", help="serving stack profile: trtllm-0.x | vllm-0.x | "
                                     "sglang-0.x | pytorch-mtia, a versioned engine name (vllm-0.12.0) or a stack "
                                     "YAML: KV-memory rule, scheduler, token budget [the part's vendor's: trtllm-0.x "
                                     "on NVIDIA, vllm-0.x on AMD / TPU, sglang-0.x on Gaudi, pytorch-mtia (an "
                                     "ASSUMPTION profile) on MTIA]"),
    as_json: JsonFlag = False,
) -> None:
    """Capacity search: fewest accelerators (TP, replicas, batch cap, dtype, disaggregation) meeting the SLOs."""
    caps, kinds = _ints(max_batch, "--max-batch"), tuple(listed(dtypes, "--dtypes", "bf16,fp8"))
    with stage_bar(off=as_json) as tick:  # each PP level's searches and whole runs on stderr, as `plan`'s (hJ58)
        result = search_capacity(model, system, rate, workload=workload, input_len=input_len, output_len=output_len,
                                 ttft_slo=ttft_slo, tpot_slo=tpot_slo, dtypes=kinds,
                                 batch_caps=caps, token_budget=token_budget, percentile=percentile,
                                 max_gpus=max_gpus, requests=requests,
                                 disaggregation=not no_disaggregation, seed=seed, stack=stack, kv_dtype=kv_dtype,
                                 speculative_tokens=speculative_tokens, acceptance=acceptance,
                                 try_speculative=try_speculative, progress=tick)

    def render(r: ServingPlanResult) -> None:
        render_plan(r)
        if r.serve_command is not None:
            console.print(f"the full run again: {r.serve_command}", soft_wrap=True, highlight=False, markup=False)

    emit(result, as_json, render)


def register(app: typer.Typer) -> None:
    app.command("serve-plan")(serve_plan)
