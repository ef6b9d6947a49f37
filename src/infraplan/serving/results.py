"""Typed results of the serving layer: `infraplan serve` (LLM or diffusion) and `infraplan serve-plan`.

Field names and nesting are the JSON `--json` has always printed: the LLM result (`serving.serve_results`, with the
parts every serving result shares) is assembled by `serving_sim.simulate_deployment` (plus the request header of
`serving_api.estimate_serving`), the image result here by `diffusion.estimate_image_serving`, the capacity plan by
`capacity.search_capacity`. A deployment that does not fit memory is not an error: `fits` is false, `why` says which
term, and the simulated metrics are null.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from infraplan.catalog.error_bands import ErrorBand
from infraplan.results import Result, SparseResult
from infraplan.serving.serve_results import (
    Assumptions,
    LLMDeployment,
    Percentiles,
    ServingResult,
    with_slo_warning,
)


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
    stack: str | None = Field(None, description="serving stack profile: none for an image (catalog/stacks profiles "
                              "LLM engines only); `stack_basis` says what the figure assumes instead")
    stack_basis: str | None = Field(None, description="the software the figure assumes: the simulator's own engine "
                                    "on the part's catalog kernel rates (serving.diffusion.stack_basis)")
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
    tpot_s: float | None = Field(None, description="time-per-output-token SLO, seconds (null: none, every request "
                                 "one output token, --output-len 1)")
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

    gpus: int = Field(description="accelerators held (`serving.replica_packing`)")
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
                               "(`meets_slo_full_run` false; `capacity_answer.missed_reason`)")
    best_tpot_s: float | None = Field(None, description=(
        "with no deployment found: the lowest TPOT any layout tried reaches, seconds per output token (the sample's "
        "shortest request of two or more output tokens decoding alone on the fastest layout: no size goes below it; "
        "`why` quotes it when the TPOT SLO is below it); null: a deployment was found, or no layout was simulated"))
    best_ttft_s: float | None = Field(None, description=(
        "with no deployment found: the lowest TTFT at the SLO percentile any layout tried reaches, seconds (the "
        "sample's prompt at that percentile prefilling alone on the fastest layout, with the stack's front end: no "
        "size goes below it; `why` quotes it when the TTFT SLO is below it); null: a deployment was found, or no "
        "layout was simulated"))
    gpus: int | None = Field(None, description="accelerators of the chosen deployment: those it holds, whole "
                             "scale-up domains where its TP groups leave some idle (deployment.gpus_held; "
                             "`serving.replica_packing`)")
    deployment: LLMDeployment | None = Field(None, description="the chosen deployment")
    slo: PlanSlo | None = Field(None, description="the SLOs")
    meets_slo_full_run: bool | None = Field(None, description="the full-length run meets the SLOs too")
    full_run_requests: int | None = Field(None, description=(
        "requests of that full-length run (count): at least 4 x the requests the deployment holds at once, so "
        "most of them meet it in steady state"))
    slo_confidence_fraction: float | None = Field(None, description=(
        "the one-sided confidence (a fraction) at which the whole run shows each percentile within its SLO: its "
        "requests over the SLO few enough for the binomial bound and the batch-means bound, over the runs of "
        "`full_run_seeds` judged together (serving.capacity_confidence, hQ51, hQ56, hQ63)"))
    full_run_seeds: list[int] | None = Field(None, description=(
        "the seeds of the independent whole runs of `full_run_requests` each that the verdict judged together: the "
        "first is `serve_command`'s; a run shown within the SLOs is confirmed on the next seeds' runs (hQ63), so a "
        "calm draw of the arrivals does not decide alone; one seed: its run was not shown within them"))
    full_run_over_slo_count: list[list[int | None]] | None = Field(None, description=(
        "requests over the TTFT and over the TPOT SLO (count), [TTFT, TPOT], in each run of `full_run_seeds`, in "
        "that order (TPOT over the requests of more than one output token; null: no SLO counted)"))
    full_run_percentile_s: list[list[float]] | None = Field(None, description=(
        "the TTFT and the TPOT at the SLO's percentile (s), [TTFT, TPOT], in each run of `full_run_seeds`, in that "
        "order: the answer meets only where every run's are within the SLOs (hA64); `serve` shows the first"))
    requests_clipped_to_context: int | None = Field(None, description=(
        "requests truncated to the model's context (count), as `serve` truncates a workload preset's long tail "
        "(the probes' requests alike): of the full run's `full_run_requests`; with no deployment found, of one "
        "probe stream of --requests"))
    serve: ServeSummary | None = Field(None, description="the chosen deployment's simulation")
    alternatives: list[DeploymentOption] | None = Field(None, description="next-best deployments, best first")
    candidates_evaluated_count: int | None = Field(None, description="deployments simulated (count)")
    rejected: list[str] = Field(description="deployments that do not fit, and why (first 20)")
    error_band: ErrorBand | None = Field(None, description="expected relative throughput error of the chosen "
                                         "deployment, as `serve` gives it (catalog/error_bands.yaml); null: none yet")
    ttft_error_band: ErrorBand | None = Field(None, description="expected relative error of the chosen "
                                              "deployment's mean TTFT, as `serve` gives it; null: none yet")
    notes: list[str] = Field(default_factory=list, description="what a what-if part takes from its preset (measured "
                             "release tables: `serving.release_tables`; an inherited price)")
    serve_command: str | None = Field(None, description="the `infraplan serve` command line that reruns the chosen "
                                      "deployment's full run (its requests, seed, SLOs and stack); null: none found")
