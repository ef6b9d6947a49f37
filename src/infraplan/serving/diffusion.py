"""Text-to-image serving: a latent diffusion model as data, served through the LLM serving engine.

The model file (catalog/diffusion/*.yaml) gives FLOPs and parameters of one U-Net denoising step per image
at one resolution, the guidance passes (classifier-free guidance runs the U-Net twice), the text encoder and
the VAE decoder. One image is one request; the engine batches images continuously, as it batches decode
sequences: each iteration runs one denoising step for every image in the batch.

    step(B)   = max(B * passes * unet_flops / R, (2 * unet_params + B * passes * act_bytes) / BW)
                + kernels_per_unet_forward * kernel_overhead            (R = peak * matmul_max_fraction)
    admission = text_encoder_flops / R   (an image's first iteration also encodes its prompt)
    finish    = decoder_flops / R + kernels_per_decoder * kernel_overhead   (the last step decodes the latent)

Mapped onto the engine: prompt = 1 token (the text encoding, priced per prefill token), output = steps
(the first step is the "first token", each later step a decode iteration), no KV cache. Each accelerator
serves on its own (replicas = GPUs, TP 1). Power and cost follow the LLM simulator's stated assumptions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.budget import require_serving_memory
from infraplan.catalog.schemas import Accelerator
from infraplan.catalog.serving_loader import DiffusionModel, WorkloadSpec, load_diffusion_model
from infraplan.cluster import Cluster
from infraplan.cluster.cost import usd_per_accelerator_hour_if_priced
from infraplan.errors import InputError
from infraplan.hardware.kernels import KernelRates
from infraplan.serving.image_steady_state import (
    OFFLINE_IMAGES,
    SteadyLength,
    arrival_variability,
    short_run_warning,
    steady_length,
)
from infraplan.serving.llm_iteration import ITERATION_OVERHEAD_S, Deployment, IterationCost
from infraplan.serving.serving_metrics import percentiles, power_assumption, power_terms
from infraplan.serving.serving_sim import PoolResult, run_pool
from infraplan.serving.workloads import arrival_times, unused_arrival_note

WEIGHT_BYTES = 2.0  # bf16/fp16 weights
RUNTIME_RESERVE_BYTES = 1.5e9


def diffusion_cost(model: DiffusionModel, accelerator: Accelerator, max_batch: int, dtype: str = "bf16",
                   overhead_s: float = ITERATION_OVERHEAD_S) -> IterationCost:
    """Iteration cost tables of one accelerator serving the diffusion model."""
    check_dtype(accelerator, dtype)
    rates = KernelRates.for_dtype(accelerator, dtype)
    b = np.arange(max_batch + 2, dtype=np.float64)
    flops = b * model.guidance_passes * model.unet_flops_per_image_step
    moved = WEIGHT_BYTES * model.unet_params + b * model.guidance_passes * model.activation_bytes_per_image_step
    step = np.maximum(flops / rates.matmul_flops_per_s, moved / rates.memory_bytes_per_s)
    step = np.where(b > 0, step + model.kernels_per_unet_forward * rates.kernel_overhead_s, 0.0)
    return IterationCost(
        body_s=step, head_s=np.zeros(2 * max_batch + 1), kv_token_s=0.0, pair_s=0.0, prefill_fixed_s=0.0,
        decode_fixed_s=0.0, overhead_s=overhead_s, body_flop_s=flops / rates.matmul_flops_per_s, pair_flop_s=0.0,
        per_prefill_token_s=model.text_encoder_flops / rates.matmul_flops_per_s,
        per_finish_s=model.decoder_flops / rates.matmul_flops_per_s
        + model.kernels_per_decoder * rates.kernel_overhead_s,
    )


def check_dtype(accelerator: Accelerator, dtype: str) -> None:
    """One line unless image generation runs in `dtype` on the part: bf16, or fp8 where it lists an fp8 peak."""
    if dtype not in ("bf16", "fp8"):
        raise InputError(f"image generation runs in bf16 or fp8 (where the part has an fp8 peak), got {dtype}")
    if not accelerator.supports(dtype):  # was "runs in bf16 or fp8 (...), got fp8" (hH66): the part's, not the dtype's
        raise InputError(f"{accelerator.name} has no {dtype} peak (it lists {', '.join(accelerator.peak_flops_per_s)}):"
                         f" image generation on it runs in bf16")


def stack_basis(model: DiffusionModel, accelerator: Accelerator, dtype: str) -> str:
    """The software an image answer assumes, said where an LLM answer names its stack profile (hU67): no serving
    stack profile (catalog/stacks profiles LLM engines: no diffusion release, Diffusers or TensorRT, is read), the
    simulator's own engine on the part's catalog kernel rates (`diffusion_cost`)."""
    check_dtype(accelerator, dtype)
    rates = KernelRates.for_dtype(accelerator, dtype)
    return (f"no serving stack profile (catalog/stacks profiles LLM engines; no diffusion release such as Diffusers "
            f"or TensorRT is read): the simulator's own engine, continuous batching of denoising steps at "
            f"{ITERATION_OVERHEAD_S * 1e3:g} ms per iteration (ASSUMPTION, serving/llm_iteration.py), {dtype} GEMMs "
            f"at {accelerator.name}'s catalog {accelerator.matmul_fraction(dtype):.2f} of peak with no stack "
            f"multiplier, {model.kernels_per_unet_forward} launches per U-Net pass at its "
            f"{rates.kernel_overhead_s * 1e6:.3g} µs each; no measurement checks it")


def memory_need_bytes(model: DiffusionModel, max_batch: int) -> float:
    weights = WEIGHT_BYTES * (model.unet_params + model.text_encoder_params + model.decoder_params)
    return weights + max_batch * model.guidance_passes * model.activation_bytes_per_image_step + RUNTIME_RESERVE_BYTES


def _serving(spec: WorkloadSpec, system: str | Cluster, gpus: int, max_batch: int, dtype: str,
             model: str | None) -> tuple[DiffusionModel, Cluster, Deployment, int]:
    """The diffusion model, the cluster of `gpus` accelerators, the deployment and the denoising steps."""
    dm = load_diffusion_model(model if model is not None and model != "default" else str(spec.diffusion_model))
    cluster = Cluster.resolve(system).for_gpus(gpus)  # an accelerator preset at any size, as LLM serving
    cluster.check_gpus(gpus)
    if max_batch < 1:
        raise InputError(f"--max-batch must be >= 1, got {max_batch}")
    dep = Deployment(tp=1, replicas=gpus, max_batch=max_batch, token_budget=max_batch + 1, block_tokens=1,
                     dtype=dtype, kv_dtype="bf16")
    return dm, cluster, dep, int(spec.steps or 1)


def _memory_refusal(dm: DiffusionModel, acc: Accelerator, max_batch: int) -> str | None:
    need = memory_need_bytes(dm, max_batch)
    if need <= acc.memory_bytes:
        return None
    return (f"weights and {max_batch} images of activations need {need / 2**30:.1f} GiB, "
            f"{acc.name} has {acc.memory_bytes / 2**30:.1f} GiB")


def _run(cost: IterationCost, dep: Deployment, spec: WorkloadSpec, steps: int, rate: float | None, requests: int,
         seed: int) -> tuple[np.ndarray, PoolResult]:
    """The seeded arrivals and the pool's run: one request per image (1 prompt token, steps - 1 decode steps)."""
    arrival = arrival_times(requests, rate, spec.arrival, np.random.default_rng(seed))
    ones = np.ones(requests, dtype=np.int64)
    return arrival, run_pool(cost, dep, 10**12, arrival, ones, 0 * ones, (steps - 1) * ones, dep.replicas)


def image_times(spec: WorkloadSpec, system: str | Cluster, *, rate: float | None, requests: int, max_batch: int,
                seed: int = 0, model: str | None = None, dtype: str = "bf16") -> tuple[np.ndarray, np.ndarray] | str:
    """The arrival and finish seconds of one accelerator's images (rate None: offline), the run
    `estimate_image_serving` makes with the same arguments, or why `max_batch` images do not fit its memory
    (`planning.image_capacity`'s probes: the p99 over a steady window needs the times, not the percentiles)."""
    dm, cluster, dep, steps = _serving(spec, system, 1, max_batch, dtype, model)
    why = _memory_refusal(dm, cluster.accelerator, max_batch)
    if why is not None:
        return why
    arrival, pool = _run(diffusion_cost(dm, cluster.accelerator, max_batch, dtype), dep, spec, steps, rate, requests,
                         seed)
    return arrival, pool.finish_s


def offline_images_per_s(spec: WorkloadSpec, system: str | Cluster, max_batch: int, model: str | None = None,
                         dtype: str = "bf16") -> float | str:
    """Images/s of one accelerator at batch cap `max_batch` with OFFLINE_IMAGES images present at t = 0 (the rate
    a utilisation is taken against: `serving.image_steady_state`), or why they do not fit its memory."""
    got = image_times(spec, system, rate=None, requests=OFFLINE_IMAGES, max_batch=max_batch, model=model,
                      dtype=dtype)
    return got if isinstance(got, str) else OFFLINE_IMAGES / float(got[1].max())


def steady_run_length(spec: WorkloadSpec, system: str | Cluster, gpus: int, rate: float, max_batch: int,
                      dtype: str, model: str | None) -> SteadyLength | str:
    """The steady-state length a run at `rate` on `gpus` takes (`image_steady_state.steady_length` against the
    deployment's offline rate), or why the deployment's memory refuses it: what `serve` simulates without
    --requests, and what the web sizes such a run by (`web.jobs.serve_size`)."""
    offline = offline_images_per_s(spec, system, max_batch, model, dtype)
    if isinstance(offline, str):
        return offline
    return steady_length(rate, offline, gpus, max_batch, arrival_variability(spec))


def _run_length(spec: WorkloadSpec, system: str | Cluster, gpus: int, rate: float, requests: int | None,
                max_batch: int, dtype: str, model: str | None) -> tuple[int, SteadyLength, list[str], list[str]]:
    """The images a run at `rate` sends (`requests`, else the steady-state length), that length, its notes and
    its warnings (a --requests shorter than the p99 needs)."""
    length = steady_run_length(spec, system, gpus, rate, max_batch, dtype, model)
    if isinstance(length, str):  # the caller refused on memory first
        raise AssertionError(length)
    if requests is None:
        require_serving_memory(length.run_images)  # infraplan.budget: refuse before allocating
        return length.run_images, length, [f"simulated {length.why}; --requests sets another length"], []
    warning = short_run_warning(requests, length)
    return requests, length, [], [] if warning is None else [warning]


def estimate_image_serving(spec: WorkloadSpec, system: str | Cluster, gpus: int, *, rate: float | None,
                           requests: int | None, max_batch: int = 16, e2e_slo: float | None = None, seed: int = 0,
                           usd_per_gpu_hour: float | None = None, dtype: str = "bf16",
                           model: str | None = None) -> dict[str, Any]:
    """Images/s, image latency percentiles, SLO attainment, energy and cost per image. At a `rate`, `requests`
    None runs the length the p99 needs at the run's utilisation (`serving.image_steady_state`, said in `notes`),
    and a shorter `requests` is warned of; offline runs take `requests` as given."""
    if rate is None and requests is None:
        raise InputError("an offline image run needs a number of requests")
    dm, cluster, dep, steps = _serving(spec, system, gpus, max_batch, dtype, model)
    sys_spec, acc = cluster.system, cluster.accelerator
    deployment = {"replicas": gpus, "gpus": gpus, "max_batch": max_batch, "dtype": dtype, "steps": steps,
                  "diffusion_model": dm.name, "resolution_px": dm.resolution_px}
    header = {"model": dm.name, "system": sys_spec.name, "accelerator": acc.name, "workload": spec.name,
              "offline": rate is None, "rate_per_s": rate, "seed": seed, "stack": None,
              "stack_basis": stack_basis(dm, acc, dtype)}
    why = _memory_refusal(dm, acc, max_batch)
    if why is not None:
        return {**header, "fits": False, "deployment": deployment, "why": why}
    notes: list[str] = []
    warnings: list[str] = []
    if rate is not None:
        requests, length, notes, warnings = _run_length(spec, system, gpus, rate, requests, max_batch, dtype, model)
        header["offline_images_per_s"] = length.offline_images_per_s
    assert requests is not None  # offline: given (above)
    if undrawn := unused_arrival_note(spec, None, 0, rate is None):  # an offline run's gamma arrivals (hW75)
        warnings = [*warnings, undrawn]
    cost = diffusion_cost(dm, acc, max_batch, dtype)
    arrival, pool = _run(cost, dep, spec, steps, rate, requests, seed)
    latency = pool.finish_s - arrival
    duration = float(pool.finish_s.max() - arrival.min())
    slo = e2e_slo if e2e_slo is not None else spec.e2e_slo_s
    idle_w, host_w = power_terms(acc, sys_spec)
    energy = gpus * (idle_w + host_w) * duration + (acc.tdp_w - idle_w) * 0.5 * (pool.busy_s + pool.compute_s)
    price = usd_per_gpu_hour if usd_per_gpu_hour is not None else usd_per_accelerator_hour_if_priced(cluster, gpus=gpus)
    one = cost.body_s[1] + cost.overhead_s
    return {
        **header, "fits": True, "deployment": deployment, "requests": requests, "duration_s": duration,
        "images_per_s": requests / duration, "requests_per_s": requests / duration,
        "images_per_s_per_gpu": requests / duration / gpus,
        "e2e_s": percentiles(latency), "latency_s": percentiles(latency),
        "unet_step_s_batch1": float(one), "image_latency_s_batch1": float(
            steps * one + cost.per_prefill_token_s + cost.per_finish_s),
        "slo": {"e2e_s": slo}, "slo_attainment": float(np.mean(latency <= slo)) if slo else None,  # None: no SLO
        "power_w_per_gpu": energy / (gpus * duration) if duration > 0 else 0.0,
        "energy_j": energy, "joules_per_image": energy / requests,
        "usd_per_hour_per_gpu": price,
        "usd_per_thousand_images": gpus * price * duration / 3600.0 / requests * 1e3 if price is not None else None,
        "assumptions": {"power": power_assumption(acc), "scheduler": "continuous batching of denoising steps, FCFS, "
                        "round-robin over accelerators"},
        "notes": notes, "warnings": warnings,
    }
