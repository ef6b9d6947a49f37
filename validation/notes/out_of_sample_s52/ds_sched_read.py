"""DeepSpeed 0.5.10 TrainSchedule as read (hK, session 53; pipe/schedule.py TrainSchedule.steps, PyPI sdist): a forward
step issues RecvActivation then SendGrad, a backward step SendActivation then RecvGrad, each a blocking rendezvous
transfer of `x` seconds. Prints the makespan against 1F1B's (m + p - 1)(tf + tb) and the transfers on the critical
path (4 m + 2 p - 8 for p >= 3; 2 m at p 2) against Megatron's batched 2 (m + p - 1).
Run: python3 validation/notes/out_of_sample_s52/ds_sched_read.py"""

from collections.abc import Callable

PARTNER = {"sa": (1, "ra"), "ra": (-1, "sa"), "sg": (-1, "rg"), "rg": (1, "sg")}


def cmds_of(s: int, p: int, m: int) -> list[tuple[str, int]]:
    """Stage s's instructions, step by step (schedule.py `_step_to_micro_batch`: F(i) at step 2 i + s, B(i) at
    2 i + 2 p - 1 - s)."""
    out: list[tuple[str, int]] = []
    prev = -1
    for k in range(2 * (m + p - 1)):
        fwd = k % 2 == s % 2
        i = (k - s) // 2 if fwd else (k - (2 * p - 1 - s)) // 2
        if fwd:
            if 0 <= i < m and s > 0:
                out.append(("ra", k))
            if 0 <= prev < m and s > 0:
                out.append(("sg", k))
        else:
            if 0 <= prev < m and s < p - 1:
                out.append(("sa", k))
            if 0 <= i < m and s < p - 1:
                out.append(("rg", k))
        if 0 <= i < m:
            out.append(("F" if fwd else "B", k))
        prev = i
    return out


def simulate(p: int, m: int, tf: float, tb: float, x: float = 0.0,
             compute: Callable[[float], float] = lambda base: base) -> float:
    """Makespan with blocking rendezvous transfers: both partners start a transfer together and finish x later.
    `compute(base)` is the time a forward (base tf) or backward (tb) takes: as given, or drawn (ds_sched_jitter.py)."""
    cmds = [cmds_of(s, p, m) for s in range(p)]
    ptr, t = [0] * p, [0.0] * p
    while True:
        moved, done = False, True
        for s in range(p):
            while ptr[s] < len(cmds[s]):
                op, k = cmds[s][ptr[s]]
                if op in "FB":
                    t[s] += compute(tf if op == "F" else tb)
                    ptr[s] += 1
                    moved = True
                    continue
                d, want = PARTNER[op]
                q = s + d
                if ptr[q] < len(cmds[q]) and cmds[q][ptr[q]] == (want, k):
                    t[s] = t[q] = max(t[s], t[q]) + x
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


if __name__ == "__main__":
    for p, m in ((35, 240), (35, 192), (35, 160), (12, 128), (4, 8), (4, 32), (3, 16), (2, 16), (8, 64)):
        base = simulate(p, m, 1.0, 2.0)
        n = (simulate(p, m, 1.0, 2.0, 1e-3) - base) / 1e-3
        print(f"p {p:2d} m {m:3d}: makespan {base:.0f} vs 1F1B {(m + p - 1) * 3:.0f}; exposed transfers {n:.0f}"
              f" (4m + 2p - 8 = {4 * m + 2 * p - 8}; Megatron formula 2(m + p - 1) = {2 * (m + p - 1)})")
