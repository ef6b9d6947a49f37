"""Typed results of the serving layer: `infraplan serve` (LLM or diffusion) and `infraplan serve-plan`.

Field names and nesting are the JSON `--json` has always printed: the LLM result is assembled by
`serving_sim.simulate_deployment` (plus the request header of `serving_api.estimate_serving`), the image result
by `diffusion.estimate_image_serving`, the capacity plan by `capacity.search_capacity`. A deployment that does
not fit memory is not an error: `fits` is false, `why` says which term, and the simulated metrics are null.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result, SparseResult


class Percentiles(Result):
    """Latency percentiles over the simulated requests, seconds each."""

    p50: float | None = Field(description="median, seconds")
    p90: float | None = Field(description="90th percentile, seconds")
    p99: float | None = Field(description="99th percentile, seconds")
    mean: float | None = Field(description="mean, seconds")


class Assumptions(Result):
    """What the simulation assumes (text)."""

    power: str = Field(description="power model")
    scheduler: str = Field(description="scheduler model")
    host_share: str | None = Field(None, description="the host watts per accelerator in power_w_per_gpu and "
                                   "joules_per_token, and where they come from")
    per_token_basis: str | None = Field(None, description="the rate per-token energy and cost are over (steady_state)")


class PoolLayout(Result):
    """One pool of a disaggregated deployment: its workers' parallel layout, batch cap and memory per GPU."""

    replicas: int = Field(description="workers of the pool, each TP x PP x attention-DP GPUs (count)")
    tp: int = Field(description="tensor parallel degree")
    pp: int = Field(description="pipeline stages")
    ep: int = Field(description="expert parallel degree")
    attention_dp: int = Field(description="data-parallel attention ranks per worker (count)")
    moe_tp: int = Field(1, description="accelerators each expert's FFN is split over in an attention-DP worker "
                        "(EP x MoE TP = attention DP x TP; count)")
    gpus: int = Field(description="accelerators of the pool")
    max_batch: int = Field(description="sequences per engine (per attention-DP rank)")
    token_budget: int = Field(description="tokens per iteration (chunked prefill)")
    weights_bytes_per_gpu: float = Field(description="bytes of weights per GPU")
    kv_cache_bytes_per_gpu: float = Field(description="bytes of KV cache per GPU")
    kv_cache_tokens_per_replica: int = Field(description="tokens the KV cache of one worker holds")
    memory_capacity_bytes: float = Field(description="bytes of accelerator memory")


class LLMDeployment(SparseResult):
    """An LLM deployment: replicas of TP x PP engines, dtypes, batch limits and memory per GPU.

    Disaggregated: the top-level layout and memory are the decode pool's, `replicas` and `gpus` count both pools,
    and `prefill` / `decode` give each pool's own layout."""

    replicas: int = Field(description="replicas of TP x PP x attention-DP GPUs (count)")
    tp: int = Field(description="tensor parallel degree")
    pp: int = Field(description="pipeline stages")
    ep: int = Field(description="expert parallel degree")
    gpus: int = Field(description="accelerators")
    dtype: str = Field(description="weight dtype")
    kv_dtype: str = Field(description="KV-cache dtype")
    kv_dtype_source: str | None = Field(None, description="why this KV-cache dtype: --kv-dtype, or the engines' "
                                        "kv_cache_dtype auto on this checkpoint (`serving.kv_default`)")
    tp_source: str | None = Field(None, description="why this TP: --tp, or --tp auto's rule (the smallest TP leaving "
                                  ">= 25 % of the usable memory to the KV cache, `serving.serving_api.auto_tp`) with "
                                  "the KV share of each TP it tried")
    mla_decode_kernel: str | None = Field(None, description="the absorbed-MLA decode kernel and latent-cache path "
                                          "priced (measured fit or roofline; `serving.mla_decode.kernel_path`)")
    weight_format: str | None = Field(None, description="the weights' precision path priced (native, or "
                                      "weight-only W4A16 for int4 / mxfp4 without fp4 tensor cores)")
    max_batch: int = Field(description="sequences per engine")
    token_budget: int = Field(description="tokens per iteration (chunked prefill)")
    block_tokens: int = Field(description="tokens per KV block")
    engine: str | None = Field(None, description="serving engine whose KV-memory rule applies (trtllm|vllm|sglang)")
    attention_dp: int = Field(1, description="data-parallel attention ranks per replica (wide EP: experts over "
                              "attention DP x TP GPUs; count)")
    moe_tp: int = Field(1, description="accelerators each expert's FFN is split over in an attention-DP replica "
                        "(--moe-tp: EP x MoE TP = attention DP x TP; count)")
    speculative_tokens: int = Field(0, description="draft (MTP) tokens proposed per decode step (count)")
    acceptance: float = Field(0.0, description="per-token acceptance rate of the draft tokens (fraction)")
    tokens_per_step: float = Field(1.0, description="mean tokens emitted per decode step per sequence "
                                   "(1 - R^(K+1)) / (1 - R) (count)")
    weights_bytes_per_gpu: float = Field(description="bytes of weights per GPU")
    kv_cache_bytes_per_gpu: float = Field(description="bytes of KV cache per GPU")
    kv_cache_tokens_per_replica: int = Field(description="tokens the KV cache of one replica holds (all its "
                                             "attention-DP ranks)")
    memory_capacity_bytes: float = Field(description="bytes of accelerator memory")
    disaggregated: bool = Field(description="separate prefill and decode pools")
    prefill_replicas: int | None = Field(None, description="replicas of the prefill pool (disaggregated)")
    decode_replicas: int | None = Field(None, description="replicas of the decode pool (disaggregated)")
    prefill: PoolLayout | None = Field(None, description="the prefill pool's layout (disaggregated)")
    decode: PoolLayout | None = Field(None, description="the decode pool's layout (disaggregated)")
    front_end_s: float = Field(0.0, description="the stack's front-end time per request (HTTP server, tokenizer, "
                               "hand-off to the engine, first token streamed back), in every TTFT and end-to-end "
                               "latency (seconds); 0 offline (an in-process batch, as trtllm-bench, MLPerf Offline)")


class LLMSlo(Result):
    """The SLOs the attainment counts against, seconds (null: none)."""

    ttft_s: float | None = Field(description="time-to-first-token SLO, seconds")
    tpot_s: float | None = Field(description="time-per-output-token SLO, seconds")


SLO_WARNING_BELOW = 0.5
"""A serving result whose SLO attainment is below this fraction carries a warning (issue 17)."""


def _field(part: Any, name: str) -> Any:
    """A field of a result part given as a mapping or a model (None: absent)."""
    return part.get(name) if isinstance(part, dict) else getattr(part, name, None)


def front_end_floor_reason(ttft_slo_s: float, front_end_s: float, stack: str | None = None) -> str:
    """Why no deployment of any size meets a TTFT SLO at or below the stack's front-end time ('' above it): every
    online request's TTFT carries that time on top of its queue and prefill (`serving_sim.front_end_s`), so more
    replicas or accelerators cannot bring TTFT under it. One sentence for `serve`'s warning and serve-plan's `why`."""
    if ttft_slo_s > front_end_s:
        return ""
    who = f" {stack}" if stack else ""
    return (f"the TTFT SLO {ttft_slo_s:.3g} s is not above the {front_end_s:.3g} s front end{who} adds to every "
            "online request (HTTP server, tokenizer, hand-off, first token back): no deployment of any size or load "
            "meets it")


def with_slo_warning(data: Any) -> Any:
    """Add the low-SLO-attainment warning to a result's input mapping (once), so every path to it says so."""
    attainment = data.get("slo_attainment") if isinstance(data, dict) else None
    if attainment is None or attainment >= SLO_WARNING_BELOW:
        return data
    ttft, front = _field(data.get("slo"), "ttft_s"), _field(data.get("deployment"), "front_end_s")
    why = ("overloaded at this load, or the SLO is out of reach" if ttft is None or not front or ttft > front else
           front_end_floor_reason(ttft, front, data.get("stack")))
    line = f"only {attainment * 100:.1f} % of requests meet the SLO (< {SLO_WARNING_BELOW * 100:.0f} %): {why}"
    warnings = list(data.get("warnings") or [])
    return {**data, "warnings": warnings if line in warnings else [*warnings, line]}


class ServingResult(SparseResult):
    """`infraplan serve` of an LLM: throughput, TTFT/TPOT/end-to-end percentiles, energy and cost."""

    _warn = model_validator(mode="before")(with_slo_warning)

    model: str = Field(description="model name")
    system: str = Field(description="system name")
    accelerator: str = Field(description="accelerator name")
    workload: str = Field(description="workload preset, trace or fixed lengths")
    offline: bool = Field(description="every request present at t = 0")
    rate_per_s: float | None = Field(description="arrival rate, requests per second")
    concurrency: int | None = Field(None, description="closed-loop clients, each sending on its last finish (count)")
    stack: str | None = Field(None, description="serving stack profile: engine conventions, scheduler, custom "
                              "all-reduce (catalog/stacks)")
    seed: int = Field(description="random seed")
    requests_clipped_to_context: int = Field(description="requests truncated to the model's context (count)")
    fits: bool = Field(description="the deployment fits memory")
    why: str | None = Field(None, description="why it does not fit")
    deployment: LLMDeployment = Field(description="the deployment")
    requests: int | None = Field(None, description="simulated requests (count)")
    duration_s: float | None = Field(None, description="simulated seconds, first arrival to last finish")
    output_tokens_per_s: float | None = Field(None, description="output tokens per second over the whole run, first "
                                              "arrival to last finish, drain tail included (vLLM benchmark_serving's "
                                              "and MLPerf LoadGen's convention)")
    output_tokens_per_s_per_gpu: float | None = Field(None, description="output tokens per second per GPU")
    output_tokens_per_s_while_arriving: float | None = Field(
        None, description="steady-state output tokens per second: tokens completed between the first and the last "
        "arrival over that window, no drain tail (serving.steady_state); null offline")
    offered_output_tokens_per_s: float | None = Field(
        None, description="offered output tokens per second: arrivals over the arrival window times the mean output "
        "length; null offline")
    steady_output_tokens_per_s: float | None = Field(
        None, description="output tokens per second a fleet serving this load around the clock serves: the offered "
        "rate where the run keeps up, its capacity where its queue grows (serving.steady_state); the per-token "
        "energy and cost are taken over it; null offline (they are the whole run's)")
    input_tokens_per_s: float | None = Field(None, description="prompt tokens per second")
    requests_per_s: float | None = Field(None, description="completed requests per second")
    ttft_s: Percentiles | None = Field(None, description="time to first token, seconds")
    tpot_s: Percentiles | None = Field(None, description="time per output token, seconds")
    e2e_s: Percentiles | None = Field(None, description="end-to-end latency, seconds")
    e2e_last_arrivals_s: float | None = Field(None, description="mean end-to-end latency of the last 1 % of "
                                              "arrivals (the tail once arrivals stop), seconds")
    kv_transfer_s: Percentiles | None = Field(None, description="prefill-to-decode KV transfer, seconds")
    slo: LLMSlo | None = Field(None, description="the SLOs")
    slo_attainment: float | None = Field(None, description="fraction of requests meeting every SLO")
    ttft_over_slo_count: int | None = Field(None, description="requests whose TTFT exceeds its SLO (count; MLPerf "
                                           "LoadGen's early stopping counts them)")
    tpot_over_slo_count: int | None = Field(None, description="requests whose TPOT exceeds its SLO (count)")
    ttft_over_slo_by_batch_count: list[int] | None = Field(
        None, description="ttft_over_slo_count in each of 10 consecutive batches of the requests by arrival (counts; "
        "bursts of requests over the SLO show as uneven batches; serve-plan's batch-means confidence reads them)")
    tpot_over_slo_by_batch_count: list[int] | None = Field(
        None, description="tpot_over_slo_count in each of 10 consecutive batches by arrival of the requests of more "
        "than one output token (counts)")
    warnings: list[str] = Field(default_factory=list, description="lines a reader must not miss (SLO attainment "
                                "below 50 %, ...)")
    mean_input_tokens: float | None = Field(None, description="mean prompt length, tokens")
    mean_output_tokens: float | None = Field(None, description="mean output length, tokens")
    busy_fraction: float | None = Field(None, description="fraction of GPU time running iterations")
    power_w_per_gpu: float | None = Field(None, description="watts per GPU incl. host share, the whole run's mean")
    steady_power_w_per_gpu: float | None = Field(None, description="the same at steady_output_tokens_per_s")
    energy_j: float | None = Field(None, description="joules over the simulated run")
    joules_per_token: float | None = Field(None, description="joules per output token, accelerators incl. host share, "
                                           "at the steady served rate (steady_output_tokens_per_s)")
    device_joules_per_token: float | None = Field(None, description="joules per output token, accelerators alone (no "
                                                  "host share): what a per-joule comparison owes the host figure; at "
                                                  "the steady served rate")
    usd_per_hour_per_gpu: float | None = Field(None, description="USD per accelerator-hour")
    usd_per_million_tokens: float | None = Field(None, description="USD per million output tokens at the steady "
                                                 "served rate (steady_output_tokens_per_s)")
    usd_per_million_tokens_reason: str | None = Field(None, description="why the cost is null (no price)")
    iterations: int | None = Field(None, description="engine iterations simulated (count)")
    assumptions: Assumptions | None = Field(None, description="modelling assumptions")
    error_band: ErrorBand | None = Field(None, description="expected relative throughput error (validation residuals "
                                         "of the nearest serving cases; catalog/error_bands.yaml); null: none yet")
    ttft_error_band: ErrorBand | None = Field(None, description="expected relative error of the mean TTFT "
                                              "(predicted / measured - 1; residuals of the nearest serving cases' "
                                              "TTFT, catalog/error_bands.yaml); null: none yet")


class ImageDeployment(Result):
    """A diffusion deployment: one engine per accelerator."""

    replicas: int = Field(description="engines, one per accelerator (count)")
    gpus: int = Field(description="accelerators")
    max_batch: int = Field(description="images per engine")
    dtype: str = Field(description="weight dtype")
    steps: int = Field(description="denoising steps per image")
    diffusion_model: str = Field(description="diffusion model name")
    resolution_px: int = Field(description="image side, pixels")


class ImageSlo(Result):
    """The image latency SLO, seconds."""

    e2e_s: float | None = Field(description="end-to-end latency SLO, seconds")


class ImageServingResult(SparseResult):
    """`infraplan serve` of a diffusion model: images/s, latency percentiles, energy and cost per image."""

    _warn = model_validator(mode="before")(with_slo_warning)

    model: str = Field(description="diffusion model name")
    system: str = Field(description="system name")
    accelerator: str = Field(description="accelerator name")
    workload: str = Field(description="workload preset")
    offline: bool = Field(description="every request present at t = 0")
    rate_per_s: float | None = Field(description="arrival rate, requests per second")
    offline_images_per_s: float | None = Field(None, description="the deployment's offline images/s, which the "
                                               "rate's utilisation (and the run's default length) is taken against")
    seed: int = Field(description="random seed")
    fits: bool = Field(description="weights and activations fit memory")
    why: str | None = Field(None, description="why it does not fit")
    deployment: ImageDeployment = Field(description="the deployment")
    requests: int | None = Field(None, description="simulated requests (count)")
    duration_s: float | None = Field(None, description="simulated seconds")
    images_per_s: float | None = Field(None, description="images per second")
    requests_per_s: float | None = Field(None, description="requests per second")
    images_per_s_per_gpu: float | None = Field(None, description="images per second per GPU")
    e2e_s: Percentiles | None = Field(None, description="image latency, seconds")
    latency_s: Percentiles | None = Field(None, description="image latency, seconds (same as e2e_s)")
    unet_step_s_batch1: float | None = Field(None, description="seconds per denoising step at batch 1")
    image_latency_s_batch1: float | None = Field(None, description="seconds per image at batch 1")
    slo: ImageSlo | None = Field(None, description="the SLO")
    slo_attainment: float | None = Field(None, description="fraction of images within the SLO")
    warnings: list[str] = Field(default_factory=list, description="lines a reader must not miss (SLO attainment "
                                "below 50 %, ...)")
    notes: list[str] = Field(default_factory=list, description="how the run was set up (its default length and "
                             "why: serving.image_steady_state)")
    power_w_per_gpu: float | None = Field(None, description="watts per GPU incl. host share")
    energy_j: float | None = Field(None, description="joules over the simulated run")
    joules_per_image: float | None = Field(None, description="joules per image")
    usd_per_hour_per_gpu: float | None = Field(None, description="USD per accelerator-hour")
    usd_per_thousand_images: float | None = Field(None, description="USD per 1,000 images")
    assumptions: Assumptions | None = Field(None, description="modelling assumptions")
    error_band: ErrorBand | None = Field(None, description="expected relative images/s error; null: no band, "
                                         "`error_band_basis` says why")
    error_band_basis: str | None = Field(None, description="which validation cases the band comes from, or why "
                                         "there is none")


ServeResult = ServingResult | ImageServingResult
"""What `infraplan serve` prints: an LLM or a diffusion result (told apart by `deployment`)."""


def serve_result(data: dict[str, Any]) -> ServingResult | ImageServingResult:
    """Type the dict the simulators assemble: a diffusion deployment names its `diffusion_model`."""
    if "diffusion_model" in data["deployment"]:
        return ImageServingResult.model_validate(data)
    return ServingResult.model_validate(data)


class PlanSlo(Result):
    """The SLOs a capacity plan meets, seconds, at a percentile."""

    ttft_s: float = Field(description="time-to-first-token SLO, seconds")
    tpot_s: float = Field(description="time-per-output-token SLO, seconds")
    percentile: float = Field(description="percentile the SLOs apply to (0-100)")


class ServeSummary(Result):
    """The chosen deployment's full simulation, the headline metrics."""

    output_tokens_per_s: float = Field(description="output tokens per second")
    requests_per_s: float = Field(description="completed requests per second")
    steady_output_tokens_per_s: float | None = Field(None, description="output tokens per second served at the "
                                                     "steady state, which the per-token energy and cost are over "
                                                     "(as `serve` gives it)")
    ttft_s: Percentiles = Field(description="time to first token, seconds")
    tpot_s: Percentiles = Field(description="time per output token, seconds")
    e2e_s: Percentiles = Field(description="end-to-end latency, seconds")
    slo_attainment: float = Field(description="fraction of requests meeting every SLO")
    joules_per_token: float = Field(description="joules per output token, accelerators incl. host share, at the "
                                    "steady served rate")
    power_w_per_gpu: float = Field(description="watts per accelerator incl. host share, the whole run's mean, as "
                                   "`serve` of `serve_command` gives it")
    steady_power_w_per_gpu: float | None = Field(None, description="the same at the steady served rate")
    usd_per_million_tokens: float | None = Field(description="USD per million output tokens at the steady served "
                                                 "rate (null: unpriced)")


class DeploymentOption(Result):
    """A deployment meeting the SLOs, found by the capacity search."""

    gpus: int = Field(description="accelerators")
    dtype: str = Field(description="weight dtype")
    tp: int = Field(description="tensor parallel degree")
    pp: int = Field(description="pipeline stages")
    ep: int = Field(1, description="expert parallel degree (wide EP: over the attention-DP ranks; count)")
    attention_dp: int = Field(1, description="data-parallel attention ranks per replica (count)")
    moe_tp: int = Field(1, description="accelerators each expert's FFN is split over in an attention-DP replica "
                        "(count; EP x MoE TP = attention DP x TP)")
    max_batch: int = Field(description="sequences per engine")
    replicas: int = Field(description="replicas of TP x PP x attention-DP GPUs (count)")
    prefill_replicas: int = Field(description="replicas of the prefill pool (0: colocated)")
    disaggregated: bool = Field(description="separate prefill and decode pools")
    speculative_tokens: int = Field(0, description="MTP / speculative draft tokens per decode step (count; 0: none)")
    prefill_tp: int | None = Field(None, description="the prefill pool's own TP degree (None: the layout above)")
    prefill_attention_dp: int | None = Field(None, description="the prefill pool's own attention-DP ranks (count)")
    prefill_ep: int | None = Field(None, description="the prefill pool's own expert parallel degree (count)")
    prefill_moe_tp: int | None = Field(None, description="the prefill pool's own MoE TP: accelerators each expert's "
                                       "FFN is split over in its attention-DP workers (count)")


class ServingPlanResult(SparseResult):
    """`infraplan serve-plan` (`capacity.search_capacity`): the fewest accelerators meeting the SLOs at a rate."""

    model: str = Field(description="model name")
    system: str = Field(description="system name")
    accelerator: str | None = Field(None, description="accelerator name")
    workload: str | None = Field(None, description="workload preset or fixed lengths")
    rate_per_s: float = Field(description="target arrival rate, requests per second")
    stack: str | None = Field(None, description="serving stack profile the search ran with (catalog/stacks)")
    router: str | None = Field(None, description=(
        "how requests are spread over the replicas, as the probes and the whole run both take it: round_robin, in "
        "arrival order over the fleet's engines (a probe's replica gets its share of the full stream, serving."
        "replica_share)"))
    feasible: bool = Field(description="a deployment meets the SLOs within the limit, its probes and its whole run "
                           "(false for a miss: `deployment` then holds the answer whose whole run missed, `why` says)")
    why: str | None = Field(None, description="why none does, or why the answer's whole run missed its SLO "
                               "(`meets_slo_full_run` false; `capacity_rerun.missed_reason`)")
    best_tpot_s: float | None = Field(None, description=(
        "with no deployment found: the lowest TPOT any layout tried reaches, seconds per output token (the sample's "
        "shortest request of two or more output tokens decoding alone on the fastest layout: no size goes below it; "
        "`why` quotes it when the TPOT SLO is below it); null: a deployment was found, or no layout was simulated"))
    best_ttft_s: float | None = Field(None, description=(
        "with no deployment found: the lowest TTFT at the SLO percentile any layout tried reaches, seconds (the "
        "sample's prompt at that percentile prefilling alone on the fastest layout, with the stack's front end: no "
        "size goes below it; `why` quotes it when the TTFT SLO is below it); null: a deployment was found, or no "
        "layout was simulated"))
    gpus: int | None = Field(None, description="accelerators of the chosen deployment")
    deployment: LLMDeployment | None = Field(None, description="the chosen deployment")
    slo: PlanSlo | None = Field(None, description="the SLOs")
    meets_slo_full_run: bool | None = Field(None, description="the full-length run meets the SLOs too")
    full_run_requests: int | None = Field(None, description=(
        "requests of that full-length run (count): at least 4 x the requests the deployment holds at once, so "
        "most of them meet it in steady state"))
    requests_clipped_to_context: int | None = Field(None, description=(
        "requests truncated to the model's context (count), as `serve` truncates a workload preset's long tail "
        "(the probes' requests alike): of the full run's `full_run_requests`; with no deployment found, of one "
        "probe stream of --requests"))
    serve: ServeSummary | None = Field(None, description="the chosen deployment's simulation")
    alternatives: list[DeploymentOption] | None = Field(None, description="next-best deployments, best first")
    candidates_evaluated: int | None = Field(None, description="deployments simulated (count)")
    rejected: list[str] = Field(description="deployments that do not fit, and why (first 20)")
    error_band: ErrorBand | None = Field(None, description="expected relative throughput error of the chosen "
                                         "deployment, as `serve` gives it (catalog/error_bands.yaml); null: none yet")
    ttft_error_band: ErrorBand | None = Field(None, description="expected relative error of the chosen "
                                              "deployment's mean TTFT, as `serve` gives it; null: none yet")
    notes: list[str] = Field(default_factory=list, description="what a what-if part takes from its preset (measured "
                             "release tables: `serving.release_tables`; an inherited price)")
    serve_command: str | None = Field(None, description="the `infraplan serve` command line that reruns the chosen "
                                      "deployment's full run (its requests, seed, SLOs and stack); null: none found")
