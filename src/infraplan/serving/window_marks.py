"""The engines' work at two instants of an open-loop run's arrival window, and the steady dynamic draw read from it.

What is modelled: nothing new in the power model (`serving.serving_metrics`: while an iteration runs an accelerator
draws idle + (TDP - idle) x 0.5 x (1 + u), u the iteration's tensor-core time over its duration, so the dynamic
energy of an engine of tp GPUs is (TDP - idle) x 0.5 x tp x (busy s + tensor-core s)). Only where that energy is
read: the whole run's dynamic joules per output token carry the ramp from an empty engine and the drain after the
last arrival, both small batches (many joules per token), and scaled by the steady served rate they read a steady
draw above TDP + host (hO57, validation/notes/product_review_tried.md: Llama 3 70B fp8 chat at 2,000 requests/s on
632 H100, 124,265 requests: 1.13 J/token dynamic, 1,341 W per GPU over a 1,275 W ceiling). The dynamic power over
the later half of the arrival window (the mid and last arrival of the run, `window_cuts`) is flat in the number of
requests (hO57's measure: 507 / 510 / 510 W per GPU at 1x / 4x / 16x the requests, the whole run's figure 691 / 558 /
522 W): it is the steady state's draw, and `serving_metrics.summarize` takes it (`WINDOW_DYNAMIC_POWER`).

How: each engine loop (`serving.fcfs_loop`, `serving.engine_loop`, `serving.lockstep_loop`) is given the two cut
times (engine clock = the run's seconds) and records its work (busy s + tensor-core s) at each, at the place it adds
an iteration's or a leapt stretch's seconds (one float compare there, `cut` inf once both are passed): the step
that straddles a cut is split pro rata of its seconds (a leapt stretch's iterations grow linearly in length: the
split is the linear share, exact at its ends); a cut that falls while the engine idles takes its work then
(`pass_cuts`), and a cut after the engine's last step its final work (`close_marks`). A step so ends no later than
the time it adds, so the work over the cuts is at most twice their span per engine and the draw at most TDP.
A closed loop's arrival window is an output of its run (its clients' cycles: `serving.client_loop`,
`serving.pair_loop`), not known when its engines start: no cuts, and the run falls back to the whole run's figure,
said in the result's assumptions (`fallback_basis`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

# the steady draw and the per-token energy from the dynamic power over the later half of the arrival window (module
# docstring); False: the whole run's dynamic joules per token at the steady served rate (hO57's field as landed)
WINDOW_DYNAMIC_POWER = True

WINDOW_BASIS = ("steady_power_w_per_gpu and joules_per_token: (idle + host) W and the dynamic W over the later half of "
                "the arrival window (its mid to its last arrival: past the ramp, before the drain), over the steady "
                "served rate")


def fallback_basis(why: str) -> str:
    """The assumption a run without window marks states (`summarize`): the whole run's dynamic joules per token."""
    return (f"steady_power_w_per_gpu and joules_per_token: (idle + host) W at the steady served rate plus the whole "
            f"run's dynamic joules per token, ramp and drain in ({why}): high where they are a large share")


def window_cuts(arrival_s: np.ndarray) -> list[float]:
    """The cut times of an open-loop run's arrivals: [the arrival window's mid, its last arrival]; empty where the
    window is empty (offline: every request at t = 0) or `WINDOW_DYNAMIC_POWER` is off."""
    if not WINDOW_DYNAMIC_POWER or len(arrival_s) < 2:
        return []
    first, last = float(np.min(arrival_s)), float(np.max(arrival_s))
    return [0.5 * (first + last), last] if last > first else []


def pass_cuts(marks: list[float], cuts: Sequence[float], clock: float, step_s: float, work: float,
              step_work: float) -> float:
    """A step of `step_s` seconds ending at `clock`, which added `step_work` to the engine's work (now `work`),
    reached the next cut: record the work at each cut up to `clock` (the step's pro rata share where the cut falls
    inside it, none where the engine idled past it before the step); returns the next cut (inf after the last)."""
    start, before = clock - step_s, work - step_work
    while len(marks) < len(cuts) and cuts[len(marks)] <= clock:
        cut = cuts[len(marks)]
        marks.append(before + (cut - start) / step_s * step_work if cut > start and step_s > 0.0 else before)
    return cuts[len(marks)] if len(marks) < len(cuts) else math.inf


def close_marks(marks: list[float], cuts: Sequence[float], work: float) -> tuple[float, ...] | None:
    """The engine's work at every cut, once it ended with `work` (the cuts it never reached: all of it); None for no
    cuts (the caller reads the whole run's figure)."""
    if not cuts:
        return None
    return (*marks, *[work] * (len(cuts) - len(marks)))


def summed(works: Sequence[tuple[float, ...] | None],
           weights: Sequence[float] | None = None) -> tuple[float, ...] | None:
    """The engines' (or pools') work at the cuts summed, each x its weight (GPUs per engine); None where any has
    none (or there is none)."""
    kept = [w for w in works if w is not None]
    if not kept or len(kept) < len(works):
        return None
    scale = weights if weights is not None else [1.0] * len(kept)
    return tuple(float(sum(s * w[i] for s, w in zip(scale, kept, strict=True))) for i in range(len(kept[0])))


def window_dynamic_w(pools: Sequence[Any], pool_tp: Sequence[int], cuts: Sequence[float],
                     dynamic_w: float) -> float | None:
    """The pools' dynamic watts (all GPUs) over the later half of the arrival window: (TDP - idle) x 0.5 x the GPU
    work (busy + tensor-core seconds x GPUs per engine) between the cuts, over their span; None where a pool has no
    marks or the window is empty."""
    if len(cuts) != 2 or not cuts[1] > cuts[0]:
        return None
    work = summed([getattr(p, "window_work", None) for p in pools], [float(t) for t in pool_tp])
    if work is None:
        return None
    return dynamic_w * 0.5 * (work[1] - work[0]) / (cuts[1] - cuts[0])
