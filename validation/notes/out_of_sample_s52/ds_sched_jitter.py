"""Sensitivity only (hK, session 54; nothing in src reads it): DeepSpeed's TrainSchedule as read (ds_sched_read.py) with
each forward / backward drawn with a coefficient of variation `cv` (normal, i.i.d. per stage and micro-batch; no
source gives a per-rank step-time variance, so this says what a variance would have to be, not what it is). With
DP pipelines the step waits for the slowest (the gradient reduction follows the last backward). Prints the makespan
over the deterministic 1F1B's and its fit a m + b over m 240 / 192 / 160 at p 35.
Run: python3 validation/notes/out_of_sample_s52/ds_sched_jitter.py"""

from __future__ import annotations

import random
import statistics

from ds_sched_read import simulate as read_simulate


def simulate(p: int, m: int, tf: float, tb: float, cv: float, rng: random.Random) -> float:
    """ds_sched_read.simulate with x = 0 and each compute drawn N(t, (cv t)^2), floored at 0."""
    return read_simulate(p, m, tf, tb, compute=lambda base: max(0.0, rng.gauss(base, cv * base)))


def main() -> None:
    rng = random.Random(54)
    tf, tb, p = 1.0, 3.0, 35  # full recompute: backward = recompute + 2 x forward
    for cv in (0.02, 0.05, 0.10):
        points = []
        for dp, m in ((8, 240), (10, 192), (12, 160)):
            steps = [max(simulate(p, m, tf, tb, cv, rng) for _ in range(dp)) for _ in range(3)]
            points.append((m, statistics.mean(steps) / (tf + tb)))
        mx = statistics.mean(m for m, _ in points)
        my = statistics.mean(v for _, v in points)
        a = sum((m - mx) * (v - my) for m, v in points) / sum((m - mx) ** 2 for m, _ in points)
        b = my - a * mx
        print(f"cv {cv:.2f}: step / (tf + tb) = {a:.3f} m + {b:.1f} (deterministic: 1.000 m + {p - 1}); "
              + ", ".join(f"m {m}: x{v / (m + p - 1):.3f}" for m, v in points))


if __name__ == "__main__":
    main()
