"""The `collective` command's algorithms (which one runs, its analytical time, bus bandwidth), and serving's
custom all-reduce.

Algorithms by collective (`ALLOWED`): all-reduce as a ring, NCCL's double binary tree, the hierarchical two-level
schedule (`hierarchical_time`: in-domain reduce-scatter, k rail all-reduces, in-domain all-gather, as NCCL's
NVLS / CollNet tree and the hierarchical algorithms of Horovod / BytePS), NVLS inside one NVSwitch domain
(`network.nvlink_all_reduce`) or IB SHARP across domains (`network.sharp`, with --sharp only: NCCL_COLLNET_ENABLE is 0
by default); reduce-scatter and all-gather as a ring or hierarchical; all-to-all and send-recv pairwise. `auto` takes
the fastest by the analytical times, SHARP by its sized time against the sized all-reduce as training and serving
compare them (`collectives.collective_seconds`). Bus bandwidth: nccl-tests PERFORMANCE.md. The command itself
(placement, the flow simulation, the result): `network.collective_schedules`.

Serving stacks' small-message all-reduce (`custom_all_reduce_time`, `custom_all_reduce_runs`): the one-shot /
two-shot custom kernels over NVLink peer memory (vLLM csrc/custom_all_reduce.cuh, TensorRT-LLM
customAllReduceKernels.cu), NCCL's sized time where that is faster, the group leaves the domain, the message passes
the 8 MiB buffer or the engine does not run them at the group's size or across hosts (moved from
`network.collectives`, hE62).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from infraplan.errors import InputError
from infraplan.network import nvlink_all_reduce as _nvlink
from infraplan.network.collective_formulas import peer_steps
from infraplan.network.collectives import (
    SCALE_UP_LATENCY_S,
    Fabric,
    all_gather_time,
    all_reduce_time,
    all_to_all_time,
    group_domain,
    group_link,
    reduce_scatter_time,
    send_recv_time,
)
from infraplan.network.nvlink_all_reduce import nvls_available
from infraplan.network.pair_loads import send_recv_seconds_alone
from infraplan.network.ring_latency import ring_latency
from infraplan.network.sharp import sharp_time
from infraplan.scalar_path import NUMPY_OPS

# the command's own algorithm and conventions (issue 4): hierarchical two-level collectives, bus bandwidth
BUS_FACTORS: dict[str, Callable[[int], float]] = {
    "all-reduce": lambda n: 2.0 * (n - 1) / n, "reduce-scatter": lambda n: (n - 1) / n,
    "all-gather": lambda n: (n - 1) / n, "all-to-all": lambda n: (n - 1) / n, "send-recv": lambda n: 1.0}


def bus_bandwidth(op: str, algbw_bytes_per_s: float, n: int) -> float:
    """nccl-tests PERFORMANCE.md: busbw = algbw * 2(n-1)/n (all-reduce), (n-1)/n (RS, AG, all-to-all), 1 (p2p)."""
    return algbw_bytes_per_s * BUS_FACTORS[op](max(n, 1))


def hierarchical_time(fabric: Fabric, op: str, size_bytes: float, n: int, stride: int) -> float:
    """Two-level collective: inside each scale-up domain first, then k rail rings across domains in parallel.

    All-reduce = reduce-scatter in the domain (k members), all-reduce of size/k on each of the k rails
    (one member per domain, own NIC), all-gather in the domain (as NCCL's NVLS/CollNet tree and the
    hierarchical algorithms of Horovod/BytePS). Reduce-scatter and all-gather run one of the two halves.
    """
    k = int(min(max(fabric.scale_up_domain // max(stride, 1), 1), n))
    m = -(-n // k)
    if k == 1 or m == 1:
        flat: dict[str, Callable[..., np.ndarray]] = {
            "all-reduce": all_reduce_time, "reduce-scatter": reduce_scatter_time, "all-gather": all_gather_time}
        return float(flat[op](fabric, size_bytes, n, stride, **(
                          {"algorithm": "ring"} if op == "all-reduce" else {})))
    (intra_bw, intra_lat), (rail_bw, rail_lat) = hierarchical_parts(fabric, size_bytes, n, stride)
    intra = intra_bw + intra_lat
    rail = rail_bw + rail_lat
    if op == "all-reduce":
        return 2.0 * intra + 2.0 * rail
    return intra + rail


def hierarchical_parts(fabric: Fabric, size_bytes: float, n: int,
                       stride: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """(bandwidth, latency) seconds of one half (reduce-scatter or all-gather) of `hierarchical_time`'s two
    levels: inside each scale-up domain, then the rail rings between domains."""
    k = int(min(max(fabric.scale_up_domain // max(stride, 1), 1), n))
    m = -(-n // k)
    intra = ((k - 1) / k * size_bytes / fabric.scale_up_bytes_per_s, (k - 1) * SCALE_UP_LATENCY_S)
    bw, _, _ = group_link(fabric, np.array([float(m)]), np.array([float(stride * k)]))
    lat = ring_latency(fabric, float(m), float(stride * k))  # the rail ring's mean hop latency
    return intra, ((m - 1) / m * (size_bytes / k) / float(bw[0]), (m - 1) * float(lat))


ALGORITHMS = ("ring", "tree", "hierarchical", "nvls", "nvls_tree", "sharp", "auto")
ALLOWED = {"all-reduce": ("ring", "tree", "hierarchical", "nvls", "nvls_tree", "sharp"),
           "reduce-scatter": ("ring", "hierarchical"), "all-gather": ("ring", "hierarchical"),
           "all-to-all": ("direct",), "send-recv": ("direct",)}


def analytical_time(fabric: Fabric, op: str, algorithm: str, size: float, n: int, stride: int) -> float:
    """The alpha-beta seconds of `op` by `algorithm` over `n` GPUs `stride` apart (`network.collectives`' formulas,
    `network.sharp`, `hierarchical_time`)."""
    if algorithm == "sharp":
        return sharp_time(fabric, size, n, stride)
    if algorithm == "hierarchical":
        return hierarchical_time(fabric, op, size, n, stride)
    if op == "all-reduce":
        return float(all_reduce_time(fabric, size, n, stride, algorithm=algorithm))
    if op in ("reduce-scatter", "all-gather"):
        return float((reduce_scatter_time if op == "reduce-scatter" else all_gather_time)(fabric, size, n, stride))
    if op == "all-to-all":
        return float(all_to_all_time(fabric, size, n, stride))
    counted = send_recv_seconds_alone(fabric, size, n, stride)  # the pairs on each link (hF72)
    return counted[0] if counted is not None else float(send_recv_time(fabric, size, stride * (n // 2)))


def sharp_assumptions(algo: str, algorithm: str, sharp: bool, crosses: bool, sim: str = "analytical") -> list[str]:
    """What a `--sharp` answer assumes (`network.sharp`'s module docstring; the flow model's, `network.sharp_flows`'),
    or why SHARP did not run."""
    if algo == "sharp" and sim == "flow":
        return ["IB SHARP as flows: one aggregation tree per shard group (member c of every scale-up domain), each "
                "one stream at one rate over its NIC and switch links, up to its root and back down; its parents "
                "one seeded ECMP draw per tier, failed links avoided; in-domain reduce-scatter and all-gather "
                "pipelined with the trees (NVLink ring flows, or NVLS by its formula where faster: the flow "
                "simulator does not reduce in the NVSwitch) (`network.sharp_flows`)"]
    if algo == "sharp":
        return ["IB SHARP: the switches' aggregation tree serves this group alone (an oversubscribed tier does not "
                "slow the reduced stream); message-size efficiency of a two-domain ring (no published per-size SHARP "
                "curve found; `network.sharp`)"]
    if not sharp:
        return []
    why = ("the group stays inside one scale-up domain, where the switches reduce nothing" if not crosses
           else f"--algorithm {algorithm} asked for it" if algorithm != "auto" else "it is faster than SHARP here")
    return [f"--sharp: NCCL CollNet on, but this all-reduce runs {algo}: {why}"]


def choose_algorithm(op: str, algorithm: str, sim: str, fabric: Fabric, size: float, n: int, stride: int,
                     sharp: bool = False) -> str:
    """The algorithm `infraplan collective` runs: the one asked for (refused where it cannot run here), else
    NCCL's choice by the analytical times, SHARP where on and faster (module docstring)."""
    allowed = ALLOWED[op]
    if algorithm != "auto":
        if algorithm not in ALGORITHMS:
            raise InputError(f"--algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
        if allowed == ("direct",):
            raise InputError(f"{op} runs pairwise (direct); --algorithm applies to all-reduce, reduce-scatter, "
                             "all-gather")
        if algorithm not in allowed:
            raise InputError(f"{op} has no {algorithm} algorithm here; choose from {', '.join(allowed)}")
        if algorithm == "sharp" and not sharp:
            raise InputError("--algorithm sharp needs --sharp (NCCL_COLLNET_ENABLE=1; NCCL leaves it off)")
        if algorithm == "sharp" and not n * stride > fabric.scale_up_domain:
            raise InputError(f"--algorithm sharp reduces in the network switches; {n} GPUs {stride} apart stay "
                             f"inside one {fabric.scale_up_domain}-GPU scale-up domain")
        if algorithm == "nvls" and not fabric.nvls_bytes_per_s > 0.0:
            raise InputError("--algorithm nvls needs an accelerator with an enabled NVLS all-reduce figure "
                             "(nvls_all_reduce_bus_bytes_per_s); this system's has none")
        if algorithm == "nvls" and not nvls_available(fabric, n, stride):
            raise InputError(f"--algorithm nvls runs inside one NVSwitch domain ({fabric.scale_up_domain} GPUs); "
                             f"{n} GPUs {stride} apart span {n * stride}")
        if algorithm == "nvls_tree" and not math.isfinite(analytical_time(fabric, op, algorithm, size, n, stride)):
            raise InputError("--algorithm nvls_tree (NCCL's NVLSTree) runs a tree across NVSwitch domains with NVLS "
                             "inside each: it needs an accelerator with an enabled NVLS figure and at least 2 GPUs "
                             f"in each of several domains; {n} GPUs {stride} apart on {fabric.scale_up_domain}-GPU "
                             "domains do not run it")
        return algorithm
    if op == "all-reduce" and not nvls_available(fabric, n, stride):
        allowed = tuple(a for a in allowed if a != "nvls")  # as `collectives.all_reduce_time`'s auto
    # the alpha-beta line of NVLS_TREE is the tree's: named where its sized time is the priced one (`headline`)
    allowed = tuple(a for a in allowed if a != "nvls_tree")
    # SHARP or not as training and serving choose it (`collectives.collective_seconds`): its sized time against the
    # sized ring / tree / NVLS (message-size efficiency on both sides); this command's ring and tree are the
    # alpha-beta line its flow model shares, so comparing that with SHARP's sized time flipped the choice with the
    # message size (256 H100: SHARP at 4 MiB and 256 MiB, tree at 16-64 MiB; hQ2, session 36)
    if ("sharp" in allowed and sharp and n * stride > fabric.scale_up_domain
            and sharp_time(fabric, size, n, stride) < float(all_reduce_time(fabric, size, n, stride, sized=True))):
        return "sharp"
    allowed = tuple(a for a in allowed if a != "sharp")  # NCCL_COLLNET_ENABLE is 0 by default
    return min(allowed, key=lambda a: analytical_time(fabric, op, a, size, n, stride))


# --- Small-message all-reduce of serving stacks (issue 12 item 3): one-shot / two-shot over NVLink P2P ---

CUSTOM_ALL_REDUCE_MAX_BYTES = 8 * 2**20  # vLLM custom all-reduce buffer (csrc/custom_all_reduce.cuh): NCCL above
# an engine's custom all-reduce runs only at the TP sizes its stack lists (`custom_all_reduce_world_sizes`: vLLM /
# SGLang 2, 4, 6, 8; NCCL at others); off: at any size inside one domain, as before hI58
CUSTOM_ALL_REDUCE_WORLD_SIZES = True
# an engine whose custom all-reduce needs every rank on one host (`custom_all_reduce_one_host`: vLLM / SGLang) runs
# NCCL for a TP group spanning hosts inside a domain (GB200 NVL72: hosts of 4 GPUs); off: the domain stands for the
# host, as before hI59
CUSTOM_ALL_REDUCE_ONE_HOST = True


def custom_all_reduce_runs(world_sizes: tuple[int, ...], n: float, host: int = 0) -> bool:
    """Whether an engine whose custom all-reduce runs at `world_sizes` ((): any) runs it over `n` ranks (vllm
    0.12.0 distributed/device_communicators/custom_all_reduce.py:52, :105-113: NCCL at another size) and, where
    it needs every rank on one host of `host` GPUs (> 0; 0: no such rule), whether the group's n consecutive ranks
    (TP is the innermost axis) fit one (:90-95: `in_the_same_node_as`, a shared-memory test, else disabled)."""
    sized = not world_sizes or not CUSTOM_ALL_REDUCE_WORLD_SIZES or n in world_sizes
    return sized and (host <= 0 or not CUSTOM_ALL_REDUCE_ONE_HOST or n <= host)


def custom_all_reduce_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                           stride: npt.ArrayLike = 1, table: str | None = None) -> np.ndarray:
    """Seconds of a custom (one-shot / two-shot) all-reduce inside one scale-up domain, as serving stacks run
    the TP all-reduce of small decode messages; NCCL's sized time where that is faster or the group leaves it.

    The kernels map every peer's buffer into each rank (CUDA IPC over NVLink/NVSwitch) and synchronise with
    flag writes instead of NCCL's step-by-step ring/tree protocol (vLLM csrc/custom_all_reduce.cuh, PR #2192;
    TensorRT-LLM customAllReduceKernels.cu, ONESHOT / TWOSHOT; NVIDIA "3x faster AllReduce with NVSwitch and
    TensorRT-LLM MultiShot", 2024). Priced per algorithm with the scale-up step latency and bandwidth:
    * one-shot: one barrier, then each rank reads the whole message from the n - 1 peers and reduces locally:
      `L + (n - 1) S / B`;
    * two-shot: a reduce-scatter (each rank reduces its 1/n slice read from the peers) and an all-gather, each
      behind a barrier: `2 L + 2 (n - 1) S / (n B)`.
    The faster of the two, bounded from below by TensorRT-LLM's measured custom all-reduce curve
    (`network.nvlink_all_reduce`, its "custom" column: the kernels reach ~250 GB/s of NVLink, not the ring's
    rate) and from above by NCCL (`all_reduce_time`, sized), used up to the 8 MiB IPC buffer. `table`: a release's own
    measured table to bound by instead (`network.nvlink_all_reduce.in_domain_bound_xp`).
    """
    n_arr = np.asarray(n, dtype=np.float64)
    size = np.asarray(size_bytes, dtype=np.float64)
    nccl = all_reduce_time(fabric, size, n_arr, stride, sized=True)
    bw = fabric.scale_up_bytes_per_s
    one_shot = SCALE_UP_LATENCY_S + peer_steps(n_arr) * size / bw
    two_shot = 2.0 * SCALE_UP_LATENCY_S + 2.0 * peer_steps(n_arr) * size / (np.maximum(n_arr, 1.0) * bw)
    ring_bw = 2.0 * peer_steps(n_arr) / np.maximum(n_arr, 1.0) * size / bw
    measured = _nvlink.in_domain_bound_xp(NUMPY_OPS, fabric, size, n_arr, stride, ring_bw, kind="custom", table=table)
    custom = np.maximum(np.minimum(one_shot, two_shot), measured)
    inside = n_arr * np.asarray(stride, dtype=np.float64) <= group_domain(fabric, n_arr, stride)
    usable = inside & (size <= CUSTOM_ALL_REDUCE_MAX_BYTES) & (n_arr > 1)
    seconds: np.ndarray = np.where(usable, np.minimum(nccl, custom), nccl)
    return seconds
