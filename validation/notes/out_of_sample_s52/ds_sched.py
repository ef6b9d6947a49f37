"""DeepSpeed's pipeline TrainSchedule as recalled (deepspeed/runtime/pipe/schedule.py: F(i, s) at step 2i + s, B(i, s)
at step 2i + 2p - 1 - s, sends of the previous step paired with the receives of this one) run with blocking
send/recv rendezvous, against an asynchronous 1F1B. hH session 52: equal makespans
(refutes a DeepSpeed-specific bubble).
Run: python3 validation/notes/out_of_sample_s52/ds_sched.py"""



def ds_cmds(s, p, m):
    def valid(i):
        return 0 <= i < m

    cmds, prev = [], None  # prev: (mb, is_forward)
    for k in range(2 * (m + p - 1)):
        fwd = (k % 2) == (s % 2)
        i = (k - s) // 2 if fwd else (k - (2 * p - 1 - s)) // 2
        if fwd:
            if prev and valid(prev[0]) and not prev[1] and s > 0:
                cmds.append(("sg", k))
            if valid(i) and s > 0:
                cmds.append(("ra", k))
        else:
            if valid(i) and s < p - 1:
                cmds.append(("rg", k))
            if prev and valid(prev[0]) and prev[1] and s < p - 1:
                cmds.append(("sa", k))
        if valid(i):
            cmds.append(("F" if fwd else "B", k))
        prev = (i, fwd)
    return cmds


def simulate(p, m, tf, tb):
    cmds = [ds_cmds(s, p, m) for s in range(p)]
    ptr, t = [0] * p, [0.0] * p
    partner = {"sa": (1, "ra"), "ra": (-1, "sa"), "sg": (-1, "rg"), "rg": (1, "sg")}
    done = False
    while not done:
        done, moved = True, False
        for s in range(p):
            while ptr[s] < len(cmds[s]):
                op, k = cmds[s][ptr[s]]
                if op in "FB":
                    t[s] += tf if op == "F" else tb
                    ptr[s] += 1
                    moved = True
                    continue
                d, want = partner[op]
                q = s + d
                if ptr[q] < len(cmds[q]) and cmds[q][ptr[q]] == (want, k):
                    tt = max(t[s], t[q])
                    t[s] = t[q] = tt
                    ptr[s] += 1
                    ptr[q] += 1
                    moved = True
                    continue
                break
            if ptr[s] < len(cmds[s]):
                done = False
        if not done and not moved:
            raise RuntimeError(f"deadlock {ptr}")
    return max(t)


if __name__ == "__main__":
    for p, m, tf, tb in [
        (4, 8, 1, 2),
        (35, 240, 1, 3),
        (35, 192, 1, 3),
        (35, 160, 1, 3),
        (12, 128, 1, 3),
        (4, 32, 1, 3),
        (35, 240, 1, 2),
    ]:
        ds = simulate(p, m, tf, tb)
        ideal = (m + p - 1) * (tf + tb)
        print(
            f"p {p} m {m} tf {tf} tb {tb}: DS blocking {ds:.0f} vs async 1F1B {ideal:.0f} ratio {ds / ideal:.3f}; "
            f"slots of bubble: DS {(ds / (tf + tb)) - m:.1f} vs {p - 1}"
        )
