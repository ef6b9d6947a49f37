"""FSDP / ZeRO-3 ring all-gather / reduce-scatter at 64-1,024 ranks against modalities' FULL_SHARD rows (hD, s57).

Notes: validation/notes/network_flow_tried.md, "hD (session 57)". Rows and plans: out_of_sample_s56/training_tables.py
(modalities 0.5.0 README.md:318-383, hE56), stack modalities-fsdp1.yaml. Per FULL_SHARD row (mbs 2, >= 64 GPUs):
- the model's per-layer all-gather (one decoder layer's bf16 weights, 12 H^2 x 2 B: 157 MB at 2.7B, 403 MB at 6.7B)
  on the row's system, unsized (alpha-beta) and sized (what `train` prices: the SimAI NIC table read per ring step);
- NCCL's own tuning-model time of a Simple ring: baseLat 8.4 us + (n - N) NVLink steps x 3.4 us + N network steps x
  14 us + the bandwidth term (N nodes of 4; the constants read from the NCCL 2.20.5 binary, `NCCL_*` below; the
  way tuning.cc sums them RECALLED);
- what the published step allows: FSDP1 runs 3 collectives a layer a step (forward all-gather, backward all-gather
  and reduce-scatter), all on one process group (torch 2.5.1 fsdp/_flat_param.py:1403-1407 and
  _runtime_utils.py:843-851), so on one NCCL stream: the step less the optimizer is at least their sum, t <= (step -
  optimizer) / (3 L), the per-collective time where the published step is communication-bound (>= 256 H100, >= 128
  A100 at 2.7B: the step rises above the flat small-scale step there);
- each time as a latency per ring step, (t - bandwidth term) / (n - 1).
`--sweep K ...`: the same rows' errors (modalities' 40 rows, training_tables.py) and the gated training set with
the SimAI table's per-step shortfall converted at K x the fabric's 8-NIC busbw (a latency per step 1 / K of today's;
K = 2.13 on MareNostrum 5 is the table read at 8 NDR400 NICs' 400 GB/s, NCCL's own scale per hN51).
Run from the repository root (~3 s; ~2 s a K):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s57/fsdp_ring_latency.py [--sweep 1 1.5 2]
"""

from __future__ import annotations

import math
import pathlib
import statistics
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
S56 = HERE.parent / "out_of_sample_s56"
sys.path.insert(0, str(S56))

import training_tables as tt  # noqa: E402  (hE56's rows, plans and model files)

from infraplan.cluster.cluster import Cluster  # noqa: E402
from infraplan.network import collective_efficiency as ce  # noqa: E402
from infraplan.network import collective_formulas as cf  # noqa: E402
from infraplan.network.fabric import group_link  # noqa: E402
from infraplan.training import estimate_training  # noqa: E402

# NCCL 2.20.5 (PyPI nvidia-nccl-cu12 2.20.5, lib/libnccl.so.2, float32 tables): baseLat at file offset 1372756,
# hwLat at 222167392 ([NVLink, PCI, NET] x [Tree, Ring, CollNetDirect, CollNetChain, NVLS, NVLSTree] x [LL, LL128,
# Simple]): ring baseLat {6.6, 14, 8.4}; ring hwLat NVLink {.6, 1.9, 3.4}, NET {2.7, 4.0, 14.0} us
NCCL_BASE_RING_SIMPLE_S, NCCL_NVLINK_RING_SIMPLE_S, NCCL_NET_RING_SIMPLE_S = 8.4e-6, 3.4e-6, 14.0e-6
FSDP = str(S56 / "modalities-fsdp1.yaml")


def nccl_tuning_ring(fabric, size: float, n: int, per_node: int) -> float:
    """NCCL's tuning-model time of a Simple-protocol ring all-gather (module docstring), at the model's ring rate."""
    nodes = math.ceil(n / per_node)
    bw = float(group_link(fabric, np.array([float(n)]), np.array([1.0]))[0][0])
    return (NCCL_BASE_RING_SIMPLE_S + (n - nodes) * NCCL_NVLINK_RING_SIMPLE_S + nodes * NCCL_NET_RING_SIMPLE_S
            + size * (n - 1) / n / bw)


def ring_rows() -> list[dict]:
    """Per FULL_SHARD row (mbs 2, >= 64 GPUs): the published and modelled steps and the per-layer all-gather's
    seconds (unsized, sized, NCCL's tuning model, the published bound) and its bandwidth term (module docstring)."""
    out = []
    for row in tt.ROWS:
        line, params, gpus, sps, mbs, gbs, seq, shard, gpu, _ = row
        if shard != "FULL" or gpus < 64 or mbs != 2:
            continue
        system = S56 / tt.SYSTEMS[gpu][0]
        fabric = Cluster.resolve(str(system)).fabric
        layers, hidden, _ = tt.SHAPE[params]
        size = 12.0 * hidden**2 * 2.0
        r = estimate_training(tt.model_file(params, seq), str(system), gpus, tp=1, pp=1, dp=gpus, micro_batch=mbs,
                              global_batch=gbs, seq_len=seq, zero=3, recompute="none", dtype="bf16",
                              attention="flash", stack=FSDP)
        bw = float(group_link(fabric, np.array([float(gpus)]), np.array([1.0]))[0][0])
        out.append(dict(line=line, gpu=gpu, gpus=gpus, seq=seq, published=gbs / sps, model=r.step_time_s,
                        exposed=r.breakdown_s.dp_comm_exposed, bandwidth=size * (gpus - 1) / gpus / bw,
                        unsized=float(cf.all_gather_time(fabric, size, float(gpus), 1.0, sized=False)),
                        sized=float(cf.all_gather_time(fabric, size, float(gpus), 1.0, sized=True)),
                        nccl=nccl_tuning_ring(fabric, size, gpus, 4),
                        # the step holds its 3 L collectives on one stream
                        bound=(gbs / sps - r.breakdown_s.optimizer) / (3 * layers)))
    return out


def per_layer_table() -> None:
    print(f"{'row':>4s} {'GPU':4s} {'n':>5s} {'T':>5s} {'pub s':>6s} {'model':>6s} {'DP exp':>6s} | all-gather ms:"
          f" {'unsized':>7s} {'sized':>6s} {'NCCL':>6s} {'pub <=':>6s} | a ring step us: {'sized':>5s}"
          f" {'NCCL':>5s} {'pub <=':>6s}")
    for r in ring_rows():
        steps = "".join(f" {(r[k] - r['bandwidth']) / (r['gpus'] - 1) * 1e6:{w}.1f}"
                        for k, w in (("sized", 21), ("nccl", 5), ("bound", 6)))
        print(f"{r['line']:4d} {r['gpu']:4s} {r['gpus']:5d} {r['seq']:5d} {r['published']:6.3f} {r['model']:6.3f}"
              f" {r['exposed']:6.3f} | {'':>13s}{r['unsized'] * 1e3:7.2f} {r['sized'] * 1e3:6.2f}"
              f" {r['nccl'] * 1e3:6.2f} {r['bound'] * 1e3:6.2f} |{steps}")


def sweep_one(k: float) -> None:
    """One K in its own process: the collective prices are kept per process (`KeepLast`, lru caches)."""
    from infraplan.validation import runner, sets

    base = ce.table_busbw
    ce.table_busbw = lambda fabric: base(fabric) * k  # the per-step shortfall's seconds x 1 / k
    cases = runner.load_cases()
    rows = [runner.run_case(c) for c in cases]
    gated, _ = sets.training_case_set(rows, cases)
    errors = {(row[0], row[8]): tt.run(row, tt.SYSTEMS[row[8]][0], FSDP)["error"] for row in tt.ROWS}
    mean = {g: statistics.fmean(abs(e) for (_, gg), e in errors.items() if gg == g) for g in ("H100", "A100")}
    big = " ".join(f"{line}:{e * 100:+.1f}" for (line, _), e in errors.items() if line in (338, 340, 370, 372, 373))
    print(f"K {k:4.2f}: gated {gated.mean_abs_error * 100:.3f} % | modalities H100 {mean['H100'] * 100:.2f} %"
          f" A100 {mean['A100'] * 100:.2f} % all 40 {statistics.fmean(abs(e) for e in errors.values()) * 100:.2f}"
          f" % | {big}", flush=True)


if __name__ == "__main__":
    if "--sweep" in sys.argv:
        import subprocess

        for k in sys.argv[sys.argv.index("--sweep") + 1:]:
            subprocess.run([sys.executable, __file__, "--one", k], check=True)
    elif "--one" in sys.argv:
        sweep_one(float(sys.argv[sys.argv.index("--one") + 1]))
    else:
        per_layer_table()
