"""`infraplan serve`: simulate serving a model (or a diffusion model) on a deployment under a request stream."""

from __future__ import annotations

import typer
from rich.table import Table

from infraplan.cli.commands._output import (
    console,
    emit,
    fmt_bytes,
    fmt_num,
    fmt_percent,
    fmt_rate,
    fmt_seconds,
    metric_table,
    print_serving_bands,
    seconds_in_text,
)
from infraplan.cli.options import (
    ACCELERATORS,
    ACCEPTANCE,
    ARRIVAL_RATE,
    BATCH_CAP,
    MAX_ACCELERATORS,
    PP_OR_TP,
    PRICE,
    REQUESTS,
    SEED,
    SPECULATIVE_TOKENS,
    TOKENS,
    TPOT_SLO,
    TTFT_SLO,
    JsonFlag,
    KvDtype,
    ServeDtype,
    count,
)
from infraplan.cluster import Cluster
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.results import ImageServingResult, ImageSlo, ServingResult
from infraplan.serving.serve_results import Percentiles, PoolLayout
from infraplan.serving.serving_api import estimate_serving
from infraplan.units import counted


def power_text(whole_w: float | None, steady_w: float | None) -> str:
    """The power row of `serve` and serve-plan: the draw at the steady served rate where the run has one (an open or
    closed loop's arrivals), the whole run's mean beside it (its drain idles the accelerators, hO57); else the whole
    run's."""
    whole = f"{_num(whole_w, ',.0f')} W"
    if steady_w is None:
        return whole
    return f"{steady_w:,.0f} W at the steady served rate ({whole} over the whole run, drain included)"


def _power_text(r: ServingResult | ImageServingResult) -> str:
    steady = r.steady_power_w_per_gpu if isinstance(r, ServingResult) and r.steady_output_tokens_per_s else None
    return power_text(r.power_w_per_gpu, steady)


def _latency_row(table: Table, label: str, p: Percentiles | None) -> None:
    if p is None or p.p50 is None or p.p90 is None or p.p99 is None:
        table.add_row(label, "-")
        return
    table.add_row(label, f"p50 {fmt_seconds(p.p50)} · p90 {fmt_seconds(p.p90)} · p99 {fmt_seconds(p.p99)}")


def _num(value: float | int | None, spec: str) -> str:
    """'-' when undefined; counts (spec ',') with separators; other numbers without e-notation."""
    if value is None:
        return "-"
    if spec.endswith("g"):
        return fmt_num(value, int(spec.strip(".g") or 4))
    return format(value, spec)


def _cost(usd: float | None, per: str, accelerator: str) -> str:
    """The cost row; an accelerator with no catalogued server price (`cluster.cost`) says so and how to price it,
    where it printed '$- per million output tokens'."""
    if usd is None:
        return f"not priced: no catalogued server price for {accelerator} (--usd-per-hour prices it)"
    return f"${_num(usd, '.4g')} {per}"


def _pool(p: PoolLayout, name: str) -> str:
    dp = f" DP-attention{p.attention_dp}" if p.attention_dp > 1 else ""
    moe = f" MoE-TP{p.moe_tp}" if p.moe_tp > 1 else ""
    return f"{name} {p.replicas} × (TP{p.tp} PP{p.pp}{dp} EP{p.ep}{moe}, batch ≤ {p.max_batch})"


def _slo_counted(r: ServingResult | ImageServingResult, given: tuple[bool, bool]) -> str:
    """The SLOs an attainment counts, each request against each, and the workload's named where no flag set them
    (`given`: --ttft-slo, --tpot-slo; "SLO attainment 96.0 %" named neither the SLOs nor their source, hU81)."""
    slo = r.slo
    named: list[tuple[str, float | None, bool]] = []
    if isinstance(slo, ImageSlo):
        named = [("latency", slo.e2e_s, given[0])]  # --ttft-slo is the image latency SLO
    elif slo is not None:
        named = [("TTFT", slo.ttft_s, given[0]), ("TPOT", slo.tpot_s, given[1])]
    parts = [f"{name} ≤ {fmt_seconds(value)}" for name, value, _ in named if value is not None]
    if not parts:
        return ""
    theirs = [name for name, value, flag in named if value is not None and not flag]
    source = ""
    if theirs:  # an SLO no flag set: the workload's (catalog/workloads/*.yaml ttft_slo_s / tpot_slo_s)
        whose = " and ".join(theirs) if len(theirs) < len(parts) else "the SLO" + ("s" if len(parts) > 1 else "")
        source = f"; {whose}: the {r.workload} workload's"
    unit = "images" if isinstance(r, ImageServingResult) else "requests"
    return f" of {unit} within {' and '.join(parts)}{source}"


def render_serving(r: ServingResult | ImageServingResult, slo_given: tuple[bool, bool] = (True, True)) -> None:
    """`slo_given`: --ttft-slo, --tpot-slo given (an SLO not given is named as the workload's)."""
    if isinstance(r, ImageServingResult):
        di = r.deployment
        title = (f"{r.model} on {r.system}: {di.gpus} × {r.accelerator}, batch ≤ {di.max_batch}, "
                 f"{di.steps} steps, {r.workload}, no serving stack profile")
    else:
        d = r.deployment
        pools = (f", {d.prefill_replicas} prefill + {d.decode_replicas} decode replicas"
                 if d.disaggregated else "")
        dp = f" DP-attention{d.attention_dp} EP{d.ep}" if d.attention_dp > 1 else ""
        dp += f" MoE-TP{d.moe_tp}" if d.moe_tp > 1 else ""
        head = f"{d.replicas} × (TP{d.tp} PP{d.pp}{dp}) {r.accelerator}"
        held = f" holding {d.gpus_held} ({d.gpus_held - d.gpus} idle)" if d.gpus_held else ""  # `replica_packing`
        if d.prefill is not None and d.decode is not None:  # each pool's own layout
            pools = f", {_pool(d.prefill, 'prefill')} + {_pool(d.decode, 'decode')}"
            head = f"{d.gpus} × {r.accelerator}"
        drafts = counted(d.speculative_tokens, "draft token")  # "1 draft token", "3 draft tokens"
        spec = f", {drafts} ({d.tokens_per_step:.2f}/step)" if d.speculative_tokens else ""
        title = (f"{r.model} on {r.system}: {head}{held}{spec}, "
                 f"{d.dtype}{' weight-only' if 'weight-only' in (d.weight_format or '') else ''} weights, "
                 f"{d.kv_dtype} KV{pools}, {r.workload}"
                 + (f", closed loop of {counted(r.concurrency, 'client')}" if r.concurrency else "")
                 + f", stack {r.stack}")
    if not r.fits:  # one line, no table of one row (hU53; exit 0 as serve-plan's "no deployment found")
        console.print(f"{title} does not fit: {seconds_in_text(r.why or '')}", markup=False, highlight=False,
                      soft_wrap=True)
        return
    table = metric_table(title)
    if isinstance(r, ImageServingResult):
        table.add_row("throughput", f"{_num(r.images_per_s, '.3g')} images/s "
                      f"({_num(r.images_per_s_per_gpu, '.3g')} per accelerator)")
        _latency_row(table, "image latency", r.latency_s)
        table.add_row("energy per image", f"{_num(r.joules_per_image, '.4g')} J")
        table.add_row("cost", _cost(r.usd_per_thousand_images, "per 1,000 images", r.accelerator))
    else:
        table.add_row("output throughput", f"{fmt_rate(r.output_tokens_per_s or 0.0, 'tokens/s')} "
                      f"({fmt_rate(r.output_tokens_per_s_per_gpu or 0.0, 'tokens/s')} per accelerator)")
        if r.output_tokens_per_s_while_arriving is not None:
            table.add_row("output throughput while arriving", fmt_rate(r.output_tokens_per_s_while_arriving, "tokens/s")
                          + " (first to last arrival, no drain tail; the line above: whole run, tail included)")
        if r.steady_output_tokens_per_s is not None:  # what the per-token energy and cost are over (hJ57)
            table.add_row("output throughput served, steady", fmt_rate(r.steady_output_tokens_per_s, "tokens/s")
                          + " (the offered rate where the run keeps up; energy and cost per token are over it)")
        table.add_row("requests", f"{_num(r.requests_per_s, '.4g')} requests/s")
        front_end = r.deployment.front_end_s if r.deployment else 0.0
        ttft_label = (f"TTFT (incl. {fmt_seconds(front_end)} front end)" if front_end else
                      "TTFT (offline: no front end)" if r.offline else "TTFT")
        _latency_row(table, ttft_label, r.ttft_s)
        _latency_row(table, "TPOT", r.tpot_s)
        _latency_row(table, "end-to-end", r.e2e_s)
        if r.kv_transfer_s is not None:  # disaggregated: was in --json only (hU55)
            _latency_row(table, "KV transfer to the decode pool (in TTFT)", r.kv_transfer_s)
        table.add_row("energy per output token (with host share)", f"{_num(r.joules_per_token, '.4g')} J")
        if r.device_joules_per_token is not None:  # the per-joule answer without the host figure (hH47)
            table.add_row("  accelerators alone (no host)", f"{_num(r.device_joules_per_token, '.4g')} J")
        table.add_row("cost", _cost(r.usd_per_million_tokens, "per million output tokens", r.accelerator))
        pool = " (decode pool)" if r.deployment.disaggregated else ""  # the top-level layout is the decode pool's
        table.add_row(f"KV cache per replica{pool}", f"{r.deployment.kv_cache_tokens_per_replica:,} tokens "
                      f"({fmt_bytes(r.deployment.kv_cache_bytes_per_gpu)} per accelerator)")
        if (tp_why := r.deployment.tp_source) and tp_why != "--tp":  # --tp auto's rule and the TP it chose
            table.add_row("TP", f"{r.deployment.tp}: {tp_why}")
        why = r.deployment.kv_dtype_source
        if why and why != "--kv-dtype":  # the default the engines' "auto" gives (`serving.kv_default`)
            table.add_row("KV cache dtype", f"{r.deployment.kv_dtype}: {why}")
        if r.deployment.mla_decode_kernel:  # which MLA decode kernel / latent-cache path was priced (hJ56)
            table.add_row("MLA decode kernel", r.deployment.mla_decode_kernel)
    if r.slo_attainment is None:  # no SLO given: null in --json (hU56), where both printed 100 %
        flags = "--ttft-slo, --tpot-slo" if isinstance(r, ServingResult) else "--ttft-slo (the image latency SLO)"
        table.add_row("SLO attainment", f"- (no SLO: {flags} or a workload's)")
    else:
        table.add_row("SLO attainment", fmt_percent(r.slo_attainment) + _slo_counted(r, slo_given))
    table.add_row("power per accelerator (with host share)", _power_text(r))
    table.add_row("simulated", f"{_num(r.requests, ',')} requests over {fmt_seconds(r.duration_s or 0.0)}")
    console.print(table)
    band = getattr(r, "error_band", None)  # LLM results carry one (README "Error bands"); image results none
    if isinstance(r, ImageServingResult) and band is None and r.error_band_basis:  # an image result: none, and why
        console.print(f"error band: none ({r.error_band_basis})", highlight=False, markup=False)
    tpot = r.tpot_s.p50 if isinstance(r, ServingResult) and r.tpot_s is not None else None
    ttft = r.ttft_s.mean if isinstance(r, ServingResult) and r.ttft_s is not None else None
    # the TTFT band: mean TTFT residuals of the Hopper serving sets
    print_serving_bands(band, tpot, getattr(r, "ttft_error_band", None), ttft)
    for note in r.notes if isinstance(r, ImageServingResult) else []:  # an image run's length and why
        console.print(f"note: {note}", highlight=False, markup=False)
    if isinstance(r, ImageServingResult) and r.stack_basis:  # the software the figure assumes (hU67)
        console.print(f"stack: {r.stack_basis}", highlight=False, markup=False, soft_wrap=True)
    for line in r.warnings:
        console.print(f"warning: {seconds_in_text(line)}", style="bold yellow", markup=False)  # the table's units


def serve(
    model: str = typer.Argument(..., help="model preset or HF config.json (diffusion model for image-generation)"),
    system: str = typer.Option(..., "--system", help="system preset, system YAML, or an accelerator preset"),
    gpus: int = typer.Option(..., "--gpus", parser=ACCELERATORS, help="accelerators used"),
    tp: str = typer.Option("auto", "--tp", help="tensor parallel degree, or 'auto'"),
    pp: int = typer.Option(1, "--pp", parser=PP_OR_TP, help="pipeline stages"),
    ep: int | None = typer.Option(None, "--ep", parser=PP_OR_TP,
                                  help="expert parallel degree inside the TP group (MoE) [1]; with --attention-dp: "
                                  "over all attention-DP x TP accelerators [attention DP x TP]"),
    attention_dp: int = typer.Option(1, "--attention-dp", parser=PP_OR_TP,
                                     help="wide EP: data-parallel attention ranks per replica, experts spread "
                                     "over all their accelerators (DeepSeek / SGLang decode) [1]"),
    moe_tp: int = typer.Option(1, "--moe-tp", parser=PP_OR_TP,
                               help="with --attention-dp: accelerators each expert's FFN is split over (TensorRT-LLM "
                               "moe_tensor_parallel_size; EP x MoE TP = attention DP x TP, --ep then defaults to "
                               "attention DP x TP / MoE TP) [1]"),
    speculative_tokens: int = typer.Option(0, "--speculative-tokens", parser=SPECULATIVE_TOKENS,
                                           help="MTP / speculative draft tokens per decode step [0]"),
    acceptance: float | None = typer.Option(None, "--acceptance", parser=ACCEPTANCE,
                                            help="per-token acceptance rate of the draft tokens, needed with "
                                            "--speculative-tokens (DeepSeek-V3 MTP: 0.85-0.9)"),
    dtype: ServeDtype = typer.Option("bf16", "--dtype", help="weight precision"),
    kv_dtype: KvDtype | None = typer.Option(None, "--kv-dtype", help="KV cache precision [the model config's "
                                           "quantization_config, else fp8 with fp8 or nvfp4 weights, else bf16]"),
    offline: bool = typer.Option(False, "--offline", help="all requests present at t=0 (max throughput)"),
    rate: float | None = typer.Option(None, "--rate", parser=ARRIVAL_RATE, help="arrival rate, requests/s"),
    concurrency: int | None = typer.Option(None, "--concurrency", parser=BATCH_CAP,
                                           help="closed loop: N clients, each sending its next request when its "
                                           "last one ends (benchmark clients)"),
    stack: str | None = typer.Option(None, "--stack", help="serving stack profile: trtllm-0.x | vllm-0.x | "
                                     "sglang-0.x | pytorch-mtia, a versioned engine name (vllm-0.12.0) or a stack "
                                     "YAML: KV-memory rule, batch defaults, scheduler, custom all-reduce [the part's "
                                     "vendor's: trtllm-0.x on NVIDIA, vllm-0.x on AMD / TPU, sglang-0.x on Gaudi, "
                                     "pytorch-mtia (an ASSUMPTION profile) on MTIA]"),
    engine: str | None = typer.Option(None, "--engine", hidden=True, help="old alias of --stack"),
    input_len: int | None = typer.Option(None, "--input-len", parser=TOKENS, help="fixed prompt length, tokens"),
    output_len: int | None = typer.Option(None, "--output-len", parser=TOKENS, help="fixed output length, tokens"),
    workload: str | None = typer.Option(None, "--workload", help="chat | code-completion | summarization | "
                                        "image-generation | path to a workload YAML"),
    trace: str | None = typer.Option(None, "--trace", help="CSV with arrival_s,input_tokens,output_tokens"),
    requests: int | None = typer.Option(None, "--requests", parser=REQUESTS,
                                        help="requests to simulate [2000; --concurrency N: 10 per client, at least "
                                        "2000; a trace: all; images at a "
                                        "--rate: the length the p99 needs at its utilisation, 10,000 to 200,000]"),
    max_batch: int | None = typer.Option(None, "--max-batch", parser=BATCH_CAP,
                                         help="sequences per engine [256; --offline or --concurrency: the "
                                              "stack's offline_max_batch (trtllm-0.x 2048); images: 16]"),
    token_budget: int | None = typer.Option(None, "--token-budget", parser=TOKENS,
                                            help="tokens per iteration (chunked prefill), one attention-DP "
                                            "rank's (SGLang's --chunked-prefill-size N at --dp D: N / D) [the "
                                            "stack's: 8192; sglang-0.x by GPU memory, 16384 from 160 GiB, / "
                                            "--attention-dp]"),
    ttft_slo: float | None = typer.Option(None, "--ttft-slo", parser=TTFT_SLO,
                                          help="TTFT SLO: seconds, or 200ms, 2s (images: latency SLO)"),
    tpot_slo: float | None = typer.Option(None, "--tpot-slo", parser=TPOT_SLO, help="TPOT SLO: seconds, or 50ms"),
    prefill_gpus: int = typer.Option(0, "--prefill-gpus", parser=count(0, MAX_ACCELERATORS),
                                     help="accelerators of a disaggregated prefill pool [0: colocated]"),
    prefill_tp: int | None = typer.Option(None, "--prefill-tp", parser=PP_OR_TP,
                                          help="the prefill pool's own TP degree; with any --prefill-* layout flag, "
                                          "--tp/--pp/--ep/--attention-dp/--moe-tp/--max-batch are the decode pool's "
                                          "[decode's]"),
    prefill_pp: int | None = typer.Option(None, "--prefill-pp", parser=PP_OR_TP,
                                          help="the prefill pool's pipeline stages [decode's]"),
    prefill_ep: int | None = typer.Option(None, "--prefill-ep", parser=PP_OR_TP,
                                          help="the prefill pool's EP degree [attention DP x TP / MoE TP with "
                                          "--prefill-attention-dp > 1, else 1]"),
    prefill_attention_dp: int | None = typer.Option(None, "--prefill-attention-dp", parser=PP_OR_TP,
                                                    help="the prefill pool's attention-DP ranks per worker [1]"),
    prefill_max_batch: int | None = typer.Option(None, "--prefill-max-batch", parser=BATCH_CAP,
                                                 help="sequences per prefill engine [decode's]"),
    prefill_moe_tp: int | None = typer.Option(None, "--prefill-moe-tp", parser=PP_OR_TP,
                                              help="with --prefill-attention-dp: the prefill pool's accelerators each "
                                              "expert's FFN is split over (as --moe-tp for the decode pool) [1]"),
    prefill_token_budget: int | None = typer.Option(None, "--prefill-token-budget", parser=TOKENS,
                                                    help="the prefill pool's tokens per iteration, one rank's "
                                                    "[--token-budget; else the stack's on --prefill-attention-dp]"),
    usd_per_hour: float | None = typer.Option(None, "--usd-per-hour", parser=PRICE,
                                              help="$ per accelerator-hour [catalog]"),
    seed: int | None = typer.Option(None, "--seed", parser=SEED,
                                    help="random seed for arrivals and lengths [0]; not with --trace"),
    as_json: JsonFlag = False,
) -> None:
    """Simulate serving: throughput, TTFT/TPOT/end-to-end percentiles, SLO attainment, J/token, $/M tokens."""
    result = estimate_serving(
        model, system, gpus, tp=tp, pp=pp, ep=ep, dtype=dtype, kv_dtype=kv_dtype,
        offline=offline, rate=rate,
        input_len=input_len, output_len=output_len, workload=workload, trace=trace, requests=requests,
        max_batch=max_batch, token_budget=token_budget,
        ttft_slo=ttft_slo, tpot_slo=tpot_slo, seed=seed, prefill_gpus=prefill_gpus, usd_per_gpu_hour=usd_per_hour,
        concurrency=concurrency, stack=stack, engine=engine, attention_dp=attention_dp, moe_tp=moe_tp,
        speculative_tokens=speculative_tokens, acceptance=acceptance,
        prefill=PrefillLayout(prefill_tp, prefill_pp, prefill_ep, prefill_attention_dp, prefill_max_batch,
                              prefill_moe_tp, prefill_token_budget))
    from infraplan.planning.training_run import serving_with_fabric_note  # the command's own: others start without it

    cluster = Cluster.resolve(system)
    result = serving_with_fabric_note(result, cluster, usd_per_hour, system)
    given = (ttft_slo is not None, tpot_slo is not None)
    emit(result, as_json, lambda shown: render_serving(shown, given))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
