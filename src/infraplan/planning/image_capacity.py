"""Image-generation capacity of one accelerator: the most images/s it serves, in steady state, with p99 image latency
within the SLO.

The diffusion serving model (`serving/diffusion.py`: U-Net denoising steps batched continuously, text encoder on
admission, VAE decoder on the last step; each accelerator serves on its own) is simulated at Poisson arrivals on
one accelerator, for each batch cap that fits memory, and the rate is bisected between 1/1000 of the offline
(saturated) throughput and the top rate below for the highest rate whose probe meets the SLO; the best batch cap
wins (ties: the smaller; the bisections run highest offline rate first and stop once a cap can no longer win).
Devices for a demand of R images/s = ceil(R / capacity), since accelerators serve independently (replicas = GPUs,
TP 1). Results are cached per (workload, model, system, SLO), and shared by the systems of one accelerator
preset (the simulation reads only the accelerator).

Steady state, as `serve-plan` judges an LLM probe (`serving.capacity_candidate`, the same functions): the p99 is
taken over the probe's steady window (`steady_window`: without the first and last batch-cap images, the fill and
the drain) and a probe whose backlog grows over the window's later half misses (`keeps_up`, given the batch cap as
the images held at once, as serve-plan gives a replica's caps: its Poisson-swing bound applies below the cap, hQ80).
No answer moves: a probe sends at least LOW_END_IMAGES = 1,000 images, so the later half holds at least (1,000 - 2 x
32) / 2 = 468 and a growth past the share bound (46.8 images) puts the count above any cap (at most 32), where the
share decides alone, as it did before. What images add is the
probe's length: a queue started empty needs a relaxation time, growing as 1 / (1 - rho)^2 at utilisation rho =
rate / offline rate, to reach its steady state; a probe sends `probe_images(rho, batch, c_a^2)` images, the rule
`serve`'s image runs take their default length from (`serving.image_steady_state`: Abate & Whitt 1987, the fit of
RELAXATION_SPANS = 60 and the floor of IMAGE_PROBE_REQUESTS images), so `serve` at a plan's capacity runs the probe.
Before (hC44's finding, session 43) every probe sent 1,000 images: near saturation the queue had no time to build
and an H100 was sized at 18.16 images/s (99.97 % of its offline rate), p99 2.43 s on the probe but 14.5 s on a
20,000-image `serve` run at that rate and 21 s on 100,000, against a 5 s SLO; at low utilisation the p99 of 1,000
images rested on 10 and an MTIA v1 was sized at 0.364 images/s, p99 6.8 s on 20,000.
ASSUMPTION: a rate whose probe would exceed MAX_PROBE_IMAGES is not planned (its steady state cannot be shown in
that many images): rho <= 1 / (1 + c_a sqrt(RELAXATION_SPANS / MAX_PROBE_IMAGES)) = 0.983 at Poisson arrivals,
the search's upper end (a B200, p99 3.5 s at 0.981, is held there). The bisection runs on x = -ln(1 - rho) (a
probe near saturation costs 1 / (1 - rho)^2, so it halves the cheap far side first) and stops when its bracket is
within RATE_TOLERANCE of its top; the answer's seed-to-seed spread is ~1 % (H100 17.50 - 17.71 on seeds 0 - 2),
so a plan's capacity is the same question's answer to about that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from infraplan.catalog.loader import list_presets
from infraplan.catalog.serving_loader import load_diffusion_model, load_workload
from infraplan.catalog.versioned_cache import versioned_args_cache
from infraplan.cluster import Cluster
from infraplan.errors import InputError
from infraplan.serving.capacity_candidate import keeps_up, steady_window
from infraplan.serving.diffusion import image_times, offline_images_per_s, stack_basis
from infraplan.serving.image_steady_state import (
    IMAGE_PROBE_REQUESTS,
    MAX_PROBE_IMAGES,
    RELAXATION_SPANS,
    arrival_variability,
    probe_images,
    top_utilisation,
)

DEFAULT_IMAGE_WORKLOAD = "image-generation"
IMAGE_BATCH_CAPS = (1, 2, 4, 8, 16, 32)
RATE_TOLERANCE = 0.005  # the bisection stops when its bracket is within 0.5 % of its top (the seeds' spread: ~1 %)
PROBE_SEED = 0  # every probe's arrivals (serve's default seed)
LOW_END = 1e-3  # the bisection's lowest rate, a fraction of the offline rate (probed first: does any rate meet?)
LOW_END_IMAGES = 1000  # the low end's probe (images seldom overlap: one image's latency)
__all__ = [  # the probe's rule (re-exported) lives in serving.image_steady_state, serve's too
    "DEFAULT_IMAGE_WORKLOAD", "IMAGE_BATCH_CAPS", "IMAGE_PROBE_REQUESTS", "LOW_END", "LOW_END_IMAGES",
    "MAX_PROBE_IMAGES", "PROBE_SEED", "RATE_TOLERANCE", "RELAXATION_SPANS", "ImageCapacity", "arrival_variability",
    "image_capacity", "probe_images", "top_utilisation"]


@dataclass(frozen=True)
class ImageCapacity:
    """Images/s one accelerator sustains within the SLO, at which batch cap, its p99 latency there over the steady
    window of a probe of `probe_images` images (seed 0)."""

    images_per_s: float
    max_batch: int
    p99_latency_s: float
    slo_s: float
    offline_images_per_s: float
    diffusion_model: str
    probe_images: int
    stack_basis: str = ""  # the software the figure assumes, as `serve` says it (`serving.diffusion.stack_basis`)


def _offline(workload: str, model: str | None, system: str, batch: int) -> float:
    """Images/s of one accelerator at batch cap `batch` with every image present at t = 0 (the rate `serve`
    takes a utilisation against too)."""
    got = offline_images_per_s(load_workload(workload), system, batch, model)
    if isinstance(got, str):
        raise InputError(got)
    return got


def _p99(workload: str, model: str | None, system: str, rate: float, batch: int, images: int) -> float:
    """The p99 image latency over the steady window of a probe of `images` images at `rate`; inf when its backlog
    grows (not steady state: `keeps_up` with the accelerator's `batch` held at once, as serve-plan judges a replica
    of one engine: its Poisson-swing bound below the cap, `serving.backlog_growth`)."""
    got = image_times(load_workload(workload), system, rate=rate, requests=images, max_batch=batch, seed=PROBE_SEED,
                      model=model)
    if isinstance(got, str):
        raise InputError(got)
    arrival, finish = got
    steady = steady_window(arrival, batch)
    if not keeps_up(arrival, finish, steady, batch):
        return math.inf
    return float(np.percentile((finish - arrival)[steady], 99.0))


@versioned_args_cache(maxsize=256)
def image_capacity(workload: str, model: str | None, system: str, slo_s: float | None) -> ImageCapacity | str:
    """The capacity of one accelerator of `system`, or why it cannot serve the workload within the SLO. The
    simulation reads only the accelerator, so systems of the same accelerator preset share one search."""
    acc = Cluster.resolve(system).for_gpus(1).accelerator
    shared = acc.name in list_presets("accelerators") and Cluster.resolve(acc.name).for_gpus(1).accelerator == acc
    return _device_capacity(workload, model, acc.name if shared else system, slo_s)


@versioned_args_cache(maxsize=256)
def _device_capacity(workload: str, model: str | None, system: str, slo_s: float | None) -> ImageCapacity | str:
    """`image_capacity` on a system or an accelerator preset."""
    spec = load_workload(workload)
    if spec.kind != "diffusion":
        raise InputError(f"workload {workload!r} is not image generation (kind {spec.kind}); use e.g. "
                         f"{DEFAULT_IMAGE_WORKLOAD!r}")
    slo = slo_s if slo_s is not None else spec.e2e_slo_s
    if slo is None:
        raise InputError(f"workload {workload!r} has no image latency SLO; give latency_slo")
    ca2 = arrival_variability(spec)
    why = "no batch cap fits memory"
    lightest_p99: float | None = None  # the least p99 of the caps that fit memory but miss the SLO
    bracket: list[tuple[int, float, float]] = []  # (batch, offline images/s, p99 at its low end) within the SLO
    for batch in IMAGE_BATCH_CAPS:
        try:
            offline = _offline(workload, model, system, batch)
            low_p99 = _p99(workload, model, system, offline * LOW_END, batch, LOW_END_IMAGES)
        except InputError as exc:
            if lightest_p99 is None:  # no cap fit memory: that is why (else the SLO reason below stands)
                why = str(exc)
            break  # larger batches need more memory still
        if low_p99 > slo:
            lightest_p99 = low_p99 if lightest_p99 is None else min(lightest_p99, low_p99)
            why = f"one image takes {lightest_p99:.3g} s at p99, beyond the {slo:g} s SLO"
            continue
        bracket.append((batch, offline, low_p99))
    # highest offline rate first: a cap whose top is at or below the best rate found can no longer win (its rate
    # stays below its top), so its bisection stops there
    best: ImageCapacity | None = None
    top = top_utilisation(ca2)
    for batch, offline, low_p99 in sorted(bracket, key=lambda b: -b[1]):
        # utilisations: lo met the SLO (at p99 `at` on `images`), hi is not planned or missed it
        lo, hi, at, images = LOW_END, top, low_p99, LOW_END_IMAGES
        while hi - lo > RATE_TOLERANCE * hi and not (best is not None and hi * offline <= best.images_per_s):
            mid = 1.0 - math.sqrt((1.0 - lo) * (1.0 - hi))  # the midpoint of -ln(1 - rho)
            n = _images(mid, batch, ca2)
            p99 = _p99(workload, model, system, mid * offline, batch, n)
            if p99 <= slo:
                lo, at, images = mid, p99, n
            else:
                hi = mid
        rate = lo * offline
        if best is None or rate > best.images_per_s or rate == best.images_per_s and batch < best.max_batch:
            named = spec.diffusion_model if model in (None, "default") else model  # (as `serving.diffusion` reads it)
            best = ImageCapacity(rate, batch, at, slo, offline, str(named), images)
    if best is None:
        return why
    acc = Cluster.resolve(system).for_gpus(1).accelerator  # (bf16: the dtype `image_times` runs by default)
    return replace(best, stack_basis=stack_basis(load_diffusion_model(best.diffusion_model), acc, "bf16"))


def _images(rho: float, batch: int, ca2: float) -> int:
    n = probe_images(rho, batch, ca2)
    if n is None:  # only rho <= top_utilisation is probed
        raise AssertionError(f"utilisation {rho} beyond the longest probe")
    return n
