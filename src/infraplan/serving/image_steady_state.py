"""How many images a run at a given utilisation must send for its p99 to be the steady state's: one rule for
`serve`'s image runs (`serving.diffusion.estimate_image_serving`) and `plan`'s image-capacity probes
(`planning.image_capacity`).

A queue started empty needs a relaxation time to reach its steady state, which grows as 1 / (1 - rho)^2 at
utilisation rho = rate / offline rate: in heavy traffic the queue is a reflected Brownian motion of drift
-(mu - lambda) and variance lambda (c_a^2 + c_s^2), whose time scale is variance / drift^2 (Abate & Whitt,
"Transient behavior of regulated Brownian motion, I", Adv. Appl. Prob. 19 (1987); the M/M/1 case: Morse,
"Stochastic properties of waiting lines", Oper. Res. 3 (1955), 1 / (mu (1 - sqrt rho)^2)). In images (arrivals
over that time, denoising steps deterministic, c_s^2 ~ 0): c_a^2 rho^2 / (1 - rho)^2. A run sends RELAXATION_SPANS
times that, and at least IMAGE_PROBE_REQUESTS (and STEADY_SPANS x the images held at once, the LLM probe's floor,
`serving.capacity_candidate`): a p99 rests on the 1 % of images above it, 100 of 10,000.
Fitted to steady-state answers, not to rows (hI44, session 43): bisections on 200,000-image runs (seeds 0, 1, 2)
give an H100 17.63 / 17.67 / 17.70 images/s, an MI300X 15.35 (seed 0), an A100 6.02 / 6.03 / 5.97.
RELAXATION_SPANS = 60 answers 17.58, 15.30, 6.02 (seed 0; 20 left the A100 3.5 % high on 1,000-image floors, 40
1.4 %); floors of 5,000 / 10,000 / 20,000 images answer an MTIA v1 0.278 / 0.277 / 0.266 images/s (1,000: 0.364).
ASSUMPTION: no run is longer than MAX_PROBE_IMAGES (a utilisation that would need more cannot be shown in steady
state in that many images): rho <= 1 / (1 + c_a sqrt(RELAXATION_SPANS / MAX_PROBE_IMAGES)) = 0.983 at Poisson
arrivals, the highest `plan` sizes at.

`serve` on several accelerators round-robins the images over them (`serving_sim.run_pool`): each one sees every
k-th arrival, a renewal stream of squared variation c_a^2 / k at the same utilisation, so each needs 1 / k of the
relaxation images and the k of them together the single queue's count; the floor of STEADY_SPANS x the batch cap
holds per accelerator (k x in all). Before (session 43), `serve` sent 2,000 images whatever the load: an H100 at
plan's 17.58 images/s (batch 16) read p99 2.09 s where the 54,313-image run (this rule, plan's probe) reads 4.67 s
and a 100,000-image one 4.43 s (5 s SLO); the extra offline run the utilisation needs costs ~1 ms, the default
run 0.13 s of CPU there (10,000 images at low load: 0.03 s; the 200,000 cap: 0.45 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from infraplan.catalog.serving_loader import WorkloadSpec
from infraplan.serving.steady_state import STEADY_SPANS

IMAGE_PROBE_REQUESTS = 10_000  # images per run at least: 100 above its p99
RELAXATION_SPANS = 60.0  # run images / the queue's relaxation in images (module docstring: fitted)
MAX_PROBE_IMAGES = 200_000  # ASSUMPTION: the longest run; utilisations that would need more are not shown
OFFLINE_IMAGES = 1000  # images of the offline run (all present at t = 0) a utilisation is taken against


def arrival_variability(spec: WorkloadSpec) -> float:
    """c_a^2, the squared coefficient of variation of the inter-arrival times (1 for Poisson)."""
    return spec.arrival.cv**2 if spec.arrival.process == "gamma" else 1.0


def probe_images(rho: float, batch: int, ca2: float = 1.0) -> int | None:
    """Images a run at utilisation `rho` sends (module docstring), `batch` images held at once, or None above
    MAX_PROBE_IMAGES."""
    if rho >= 1.0:
        return None
    need = RELAXATION_SPANS * ca2 * rho**2 / (1.0 - rho) ** 2
    if need > MAX_PROBE_IMAGES:
        return None
    return max(IMAGE_PROBE_REQUESTS, STEADY_SPANS * batch, math.ceil(need))


def top_utilisation(ca2: float = 1.0) -> float:
    """The highest rho whose run fits MAX_PROBE_IMAGES: `plan`'s upper end."""
    return 1.0 / (1.0 + math.sqrt(ca2 * RELAXATION_SPANS / MAX_PROBE_IMAGES))


@dataclass(frozen=True)
class SteadyLength:
    """The images a run at `utilisation` of the deployment's `offline_images_per_s` needs (`images`: the rule, None
    beyond MAX_PROBE_IMAGES) and the length it runs when none is asked (`run_images`: the rule, else
    MAX_PROBE_IMAGES), with the reason in words."""

    utilisation: float
    offline_images_per_s: float
    images: int | None
    run_images: int
    why: str


def steady_length(rate: float, offline_per_accelerator: float, accelerators: int, batch: int,
                  ca2: float = 1.0) -> SteadyLength:
    """The length a run of `rate` images/s over `accelerators` round-robin accelerators (each at most `batch`
    images at once, `offline_per_accelerator` images/s offline) needs for its p99 (module docstring)."""
    offline = accelerators * offline_per_accelerator
    rho = rate / offline
    need = probe_images(rho, accelerators * batch, ca2)
    head = f"utilisation {rho:.3f} (the rate over the deployment's offline {offline:.4g} images/s)"
    if need is not None:
        relax = RELAXATION_SPANS * ca2 * rho**2 / (1.0 - rho) ** 2
        held = STEADY_SPANS * accelerators * batch
        why = (f"{need:,} images at {head}: "
               + (f"{RELAXATION_SPANS:g} x the queue's relaxation to steady state, c_a^2 rho^2 / (1 - rho)^2 images "
                  "(Abate & Whitt 1987)" if need == math.ceil(relax) and need > max(IMAGE_PROBE_REQUESTS, held) else
                  f"{STEADY_SPANS} x the {accelerators * batch:,} images the deployment holds at once" if need == held
                  and held > IMAGE_PROBE_REQUESTS else
                  f"the floor of {IMAGE_PROBE_REQUESTS:,} images, 100 above the p99")
               + "; the length plan's image-capacity probe runs (serving.image_steady_state)")
        return SteadyLength(rho, offline, need, need, why)
    if rho >= 1.0:
        why = (f"{MAX_PROBE_IMAGES:,} images, the longest run: at {head} the queue never settles, its backlog and "
               "p99 grow with the run's length")
    else:
        why = (f"{MAX_PROBE_IMAGES:,} images, the longest run: at {head}, above {top_utilisation(ca2):.3f}, the "
               f"queue's steady state needs more ({RELAXATION_SPANS:g} x c_a^2 rho^2 / (1 - rho)^2 images), so the "
               "p99 may still read low (plan sizes no accelerator this close to saturation)")
    return SteadyLength(rho, offline, None, MAX_PROBE_IMAGES, why)


def short_run_warning(asked: int, length: SteadyLength) -> str | None:
    """The warning for a run of `asked` images shorter than its p99 needs, or None."""
    if length.images is not None and asked >= length.images:
        return None
    if length.images is None and length.utilisation < 1.0 and asked >= MAX_PROBE_IMAGES:
        return None
    if length.utilisation >= 1.0:
        return (f"--requests {asked:,} at utilisation {length.utilisation:.3f}: the rate is at or above the offline "
                "capacity, so the queue never settles and the p99 grows with --requests")
    need = f"{length.images:,}" if length.images is not None else f"more than {MAX_PROBE_IMAGES:,}"
    return (f"--requests {asked:,} is shorter than the {need} images the p99 needs at utilisation "
            f"{length.utilisation:.3f} (the queue's relaxation to steady state): the latencies may read low; "
            "leave --requests out to run that length")
