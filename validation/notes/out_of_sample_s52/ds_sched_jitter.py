"""Sensitivity only (hK, session 54; nothing in src reads it): DeepSpeed's TrainSchedule as read (ds_sched_read.py) with
each forward / backward drawn with a coefficient of variation `cv` (normal, i.i.d. per stage and micro-batch; no
source gives a per-rank step-time variance, so this says what a variance would have to be, not what it is). With
DP pipelines the step waits for the slowest (the gradient reduction follows the last backward). Prints the makespan
over the deterministic 1F1B's and its fit a m + b over m 240 / 192 / 160 at p 35.
Run: python3 validation/notes/out_of_sample_s52/ds_sched_jitter.py"""

from __future__ import annotations

import random
import statistics

from ds_sched_read import PARTNER, cmds_of


def simulate(p: int, m: int, tf: float, tb: float, cv: float, rng: random.Random) -> float:
    """ds_sched_read.simulate with x = 0 and each compute drawn N(t, (cv t)^2), floored at 0."""
    cmds = [cmds_of(s, p, m) for s in range(p)]
    ptr, t = [0] * p, [0.0] * p
    while True:
        moved, done = False, True
        for s in range(p):
            while ptr[s] < len(cmds[s]):
                op, k = cmds[s][ptr[s]]
                if op in "FB":
                    base = tf if op == "F" else tb
                    t[s] += max(0.0, rng.gauss(base, cv * base))
                    ptr[s] += 1
                    moved = True
                    continue
                d, want = PARTNER[op]
                q = s + d
                if ptr[q] < len(cmds[q]) and cmds[q][ptr[q]] == (want, k):
                    t[s] = t[q] = max(t[s], t[q])
                    ptr[s] += 1
                    ptr[q] += 1
                    moved = True
                    continue
                break
            if ptr[s] < len(cmds[s]):
                done = False
        if done:
            return max(t)
        if not moved:
            raise RuntimeError("deadlock")


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
