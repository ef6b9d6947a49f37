"""Image-generation capacity of one accelerator: the most images/s it serves with p99 image latency <= the SLO.

The diffusion serving model (`serving/diffusion.py`: U-Net denoising steps batched continuously, text encoder on
admission, VAE decoder on the last step; each accelerator serves on its own) is simulated, as `serve-plan` does
for LLMs, at Poisson arrivals on one accelerator: for each batch cap that fits memory, the rate is bisected
between 0 and the offline (saturated) throughput for the highest rate whose p99 latency meets the SLO; the best
batch cap wins (ties: the smaller; the bisections run highest offline rate first and stop once a cap can no
longer win: the answer of every bisection run in full, with fewer probes: the scenario tests' 294 -> 90). Devices
for a demand of R images/s = ceil(R / capacity), since accelerators serve independently (replicas = GPUs, TP 1).
Results are cached per (workload, model, system, SLO).
"""

from __future__ import annotations

from dataclasses import dataclass

from infraplan.catalog.serving_loader import load_workload
from infraplan.catalog.versioned_cache import versioned_args_cache
from infraplan.errors import InputError
from infraplan.serving.diffusion import estimate_image_serving

DEFAULT_IMAGE_WORKLOAD = "image-generation"
IMAGE_PROBE_REQUESTS = 1000  # images per probe (Poisson arrivals, seed 0), as serve-plan's probe
IMAGE_BATCH_CAPS = (1, 2, 4, 8, 16, 32)
BISECTION_STEPS = 12  # rate resolution: offline throughput / 2^12


@dataclass(frozen=True)
class ImageCapacity:
    """Images/s one accelerator sustains within the SLO, at which batch cap, and its p99 latency there."""

    images_per_s: float
    max_batch: int
    p99_latency_s: float
    slo_s: float
    offline_images_per_s: float
    diffusion_model: str


def _p99(workload: str, model: str | None, system: str, rate: float | None, batch: int) -> tuple[float, float]:
    r = estimate_image_serving(load_workload(workload), system, 1, rate=rate, requests=IMAGE_PROBE_REQUESTS,
                               max_batch=batch, seed=0, model=model)
    if not r["fits"]:
        raise InputError(str(r.get("why")))
    return float(r["e2e_s"]["p99"]), float(r["images_per_s"])


@versioned_args_cache(maxsize=256)
def image_capacity(workload: str, model: str | None, system: str, slo_s: float | None) -> ImageCapacity | str:
    """The capacity of one accelerator of `system`, or why it cannot serve the workload within the SLO."""
    spec = load_workload(workload)
    if spec.kind != "diffusion":
        raise InputError(f"workload {workload!r} is not image generation (kind {spec.kind}); use e.g. "
                         f"{DEFAULT_IMAGE_WORKLOAD!r}")
    slo = slo_s if slo_s is not None else spec.e2e_slo_s
    if slo is None:
        raise InputError(f"workload {workload!r} has no image latency SLO; give latency_slo")
    why = "no batch cap fits memory"
    lightest_p99: float | None = None  # the least p99 of the caps that fit memory but miss the SLO
    bracket: list[tuple[int, float, float]] = []  # (batch, offline images/s, p99 at 1/1000 of it) within the SLO
    for batch in IMAGE_BATCH_CAPS:
        try:
            _, offline = _p99(workload, model, system, None, batch)
            low_p99, _ = _p99(workload, model, system, offline * 1e-3, batch)
        except InputError as exc:
            if lightest_p99 is None:  # no cap fit memory: that is why (else the SLO reason below stands)
                why = str(exc)
            break  # larger batches need more memory still
        if low_p99 > slo:
            lightest_p99 = low_p99 if lightest_p99 is None else min(lightest_p99, low_p99)
            why = f"one image takes {lightest_p99:.3g} s at p99, beyond the {slo:g} s SLO"
            continue
        bracket.append((batch, offline, low_p99))
    # the bisections, highest offline rate first: a cap whose upper end is at or below the best rate found can no
    # longer win (its rate stays below that end), so its bisection stops there; the answer, ties to the smaller
    # cap included, is the one of every bisection run in full
    best: ImageCapacity | None = None
    for batch, offline, low_p99 in sorted(bracket, key=lambda b: -b[1]):
        lo, hi, at = offline * 1e-3, offline, low_p99
        for _ in range(BISECTION_STEPS):
            if best is not None and hi <= best.images_per_s:
                break
            mid = 0.5 * (lo + hi)
            p99, _ = _p99(workload, model, system, mid, batch)
            if p99 <= slo:
                lo, at = mid, p99
            else:
                hi = mid
        if best is None or lo > best.images_per_s or lo == best.images_per_s and batch < best.max_batch:
            best = ImageCapacity(lo, batch, at, slo, offline, str(spec.diffusion_model if model is None else model))
    return best if best is not None else why
