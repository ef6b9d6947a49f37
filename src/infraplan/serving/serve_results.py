"""Typed result of `infraplan serve` of an LLM (`ServingResult`) and the parts every serving result shares: latency
percentiles, the assumptions' text, the deployment and its pools, the SLOs, and the low-attainment warning (issue
17) with the front-end floor's reason (`serving_sim.front_end_s`).

Field names and nesting are the JSON `--json` has always printed: assembled by `serving_sim.simulate_deployment`
(plus the request header of `serving_api.estimate_serving`). A deployment that does not fit memory is not an error:
`fits` is false, `why` says which term, and the simulated metrics are null. The diffusion result, the `serve`
union and serve-plan's results are `serving.results`. Split out of it (session 58).
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
    gpus_held: int | None = Field(None, description="accelerators held where a TP group does not divide the "
                                  "scale-up domain: whole domains' worth, the idle ones beside the groups counted in "
                                  "cost, power and per-accelerator figures (`serving.replica_packing`; absent: gpus)")
    dtype: str = Field(description="weight dtype")
    kv_dtype: str = Field(description="KV-cache dtype")
    kv_dtype_source: str | None = Field(None, description="why this KV-cache dtype: --kv-dtype, or the engines' "
                                        "kv_cache_dtype auto on this checkpoint (`serving.kv_default`)")
    tp_source: str | None = Field(None, description="why this TP: --tp, or --tp auto's rule (the smallest TP leaving "
                                  ">= 25 % of the usable memory to the KV cache, of those the fewest held, "
                                  "`serving.serve_inputs.auto_tp`) with the KV share of each TP it tried")
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
    assumed_host_w_per_gpu: float | None = Field(None, description="watts per accelerator of the host and scale-up "
                                                 "switch share in joules_per_token whose figure is ASSUMED: labelled "
                                                 "ASSUMPTION in the catalog, the generic rule's (Epoch AI's GPU "
                                                 "server, 0.82 x TDP) or stated without a source; 0: every figure "
                                                 "sourced), a warning says which")
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
