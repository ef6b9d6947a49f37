"""Collectives end to end: placement of a group on a system, analytical (alpha-beta) or flow-level timing.

Placement: `packed` takes GPUs 0..n-1 (whole nodes, racks, pods in order); `spread` spaces the n GPUs evenly
over the whole system (stride = total / n), so a group of 1,024 on the 24,576-GPU cluster has one GPU on every
third node and 128 in each pod.

Schedules for the flow simulator (one `FlowSet` per step; identical steps are simulated once):
* ring (NCCL rings): with k group members per node the data is split over k rings (NCCL channels); ring c
  enters every node at member c and leaves it at member c - 1 towards member c of the next node, so the k rings
  cross between nodes on k different NICs. All-reduce = 2(n-1) steps of size/(n k) per flow, reduce-scatter and
  all-gather n-1 steps;
* hierarchical: ring reduce-scatter inside each node (k-1 steps of size/k), then k rail rings of one member per
  node on size/k, then all-gather inside each node;
* all-to-all: every ordered pair at once, size/n each (NCCL's pairwise send/recv);
* send-recv: rank i sends `size` to rank i + n/2 (all pairs at once).
The double binary tree is modelled analytically only.

Conventions (nccl-tests PERFORMANCE.md): algbw = size / time; busbw from collectives.bus_bandwidth.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.network.collectives import (
    SCALE_UP_LATENCY_S,
    Fabric,
    all_gather_time,
    all_reduce_time,
    all_to_all_time,
    bottleneck_tier,
    bus_bandwidth,
    hierarchical_time,
    reduce_scatter_time,
    send_recv_time,
)
from infraplan.network.flow_sim import FlowSet, simulate
from infraplan.network.results import CollectiveResult
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology

OPS = ("all-reduce", "reduce-scatter", "all-gather", "all-to-all", "send-recv")
ALGORITHMS = ("ring", "tree", "hierarchical", "auto")
_ALLOWED = {"all-reduce": ("ring", "tree", "hierarchical"), "reduce-scatter": ("ring", "hierarchical"),
            "all-gather": ("ring", "hierarchical"), "all-to-all": ("direct",), "send-recv": ("direct",)}


def place(total: int, n: int, placement: str) -> tuple[np.ndarray, int]:
    """GPU indices of the group and their stride."""
    if placement not in ("packed", "spread"):
        raise InputError(f"--placement must be packed or spread, got {placement!r}")
    if n < 2:
        raise InputError(f"a collective needs at least 2 GPUs, got {n}")
    if n > total:
        raise InputError(f"{n:,} GPUs requested but the system has {total:,}")
    stride = 1 if placement == "packed" else total // n
    return np.arange(n, dtype=np.int64) * stride, stride


def analytical_time(fabric: Fabric, op: str, algorithm: str, size: float, n: int, stride: int) -> float:
    if algorithm == "hierarchical":
        return hierarchical_time(fabric, op, size, n, stride)
    if op == "all-reduce":
        return float(all_reduce_time(fabric, size, n, stride, algorithm=algorithm))
    if op in ("reduce-scatter", "all-gather"):
        return float((reduce_scatter_time if op == "reduce-scatter" else all_gather_time)(fabric, size, n, stride))
    if op == "all-to-all":
        return float(all_to_all_time(fabric, size, n, stride))
    return float(send_recv_time(fabric, size, stride * (n // 2)))


def _choose(op: str, algorithm: str, sim: str, fabric: Fabric, size: float, n: int, stride: int) -> str:
    allowed = _ALLOWED[op]
    if algorithm != "auto":
        if algorithm not in ALGORITHMS:
            raise InputError(f"--algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
        if allowed == ("direct",):
            raise InputError(f"{op} runs pairwise (direct); --algorithm applies to all-reduce, reduce-scatter, "
                             "all-gather")
        if algorithm not in allowed:
            raise InputError(f"{op} has no {algorithm} algorithm here; choose from {', '.join(allowed)}")
        if sim == "flow" and algorithm == "tree":
            raise InputError("--sim flow simulates ring and hierarchical schedules; the tree is analytical only")
        return algorithm
    candidates = [a for a in allowed if not (sim == "flow" and a == "tree")]
    return min(candidates, key=lambda a: analytical_time(fabric, op, a, size, n, stride))


def _rings(gpus: np.ndarray, gpn: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(src, dst) of one step of k node-crossing rings over the group, and k."""
    nodes = gpus // gpn
    order = np.unique(nodes)
    k = gpus.size // order.size
    grid = gpus.reshape(order.size, k)  # placement is uniform: k members on every node, in order
    if order.size == 1:
        return grid[0], np.roll(grid[0], -1), 1
    src, dst = [], []
    for c in range(k):
        seq = grid[:, (c + np.arange(k)) % k].reshape(-1)  # ring c: node by node, entering at member c
        src.append(seq)
        dst.append(np.roll(seq, -1))
    return np.concatenate(src), np.concatenate(dst), k


def _steps(op: str, n: int) -> int:
    return 2 * (n - 1) if op == "all-reduce" else n - 1


def flow_phases(op: str, algorithm: str, gpus: np.ndarray, gpn: int, size: float) -> list[tuple[FlowSet, int]]:
    """The distinct steps of the schedule with how often each repeats."""
    n = gpus.size
    if op == "all-to-all":
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        off = i != j
        return [(FlowSet.of(gpus[i[off]], gpus[j[off]], size / n), 1)]
    if op == "send-recv":
        if n % 2:
            raise InputError(f"send-recv pairs rank i with rank i + n/2: --gpus must be even, got {n}")
        return [(FlowSet.of(gpus, np.roll(gpus, -(n // 2)), size), 1)]
    if algorithm == "ring":
        src, dst, k = _rings(gpus, gpn)
        return [(FlowSet.of(src, dst, size / (n * k)), _steps(op, n))]
    grid = gpus.reshape(-1, n // np.unique(gpus // gpn).size)
    m, k = grid.shape
    intra = FlowSet.of(grid.reshape(-1), np.roll(grid, -1, axis=1).reshape(-1), size / k)
    rails = FlowSet.of(grid.reshape(-1), np.roll(grid, -1, axis=0).reshape(-1), size / (k * m))
    halves = 2 if op == "all-reduce" else 1
    phases = []
    if k > 1:
        phases.append((intra, halves * (k - 1)))
    if m > 1:
        phases.append((rails, _steps(op, m)))
    return phases


class SystemWithFabric(Protocol):
    """A system with its derived Fabric (an `infraplan.cluster.Cluster`, resolved at the edge above)."""

    @property
    def system(self) -> System: ...

    @property
    def fabric(self) -> Fabric: ...


def estimate_collective(op: str, cluster: SystemWithFabric, gpus: int, size_bytes: float, placement: str = "packed",
                        algorithm: str = "auto", sim: str = "analytical", flows_per_pair: int | None = None,
                        seed: int = 0) -> CollectiveResult:
    """Time, algbw, busbw and bottleneck tier of one collective on `gpus` GPUs of a system."""
    if op not in OPS:
        raise InputError(f"unknown collective {op!r}; choose from {', '.join(OPS)}")
    if sim not in ("analytical", "flow"):
        raise InputError(f"--sim must be analytical or flow, got {sim!r}")
    if not size_bytes > 0:
        raise InputError(f"--bytes must be positive, got {size_bytes}")
    spec, fabric = cluster.system, cluster.fabric
    members, stride = place(spec.total_accelerators, gpus, placement)
    algo = _choose(op, algorithm, sim, fabric, size_bytes, gpus, stride)
    analytical = analytical_time(fabric, op, algo, size_bytes, gpus, stride)
    a2a = op == "all-to-all"
    out: dict[str, Any] = {
        "op": op, "system": spec.name, "gpus": gpus, "placement": placement, "stride": stride,
        "algorithm": algo, "sim": sim, "size_bytes": size_bytes,
    }
    if sim == "analytical":
        time_s = analytical
        tier = bottleneck_tier(fabric, gpus, stride if op != "send-recv" else stride * (gpus // 2), a2a)
        assumptions = ["every group of this shape runs at once (oversubscribed tiers shared by all of them)",
                       "perfect ECMP load balance (no hash collisions)", "alpha-beta: fixed latency per step"]
    else:
        fpp = spec.network.ecmp_flows_per_pair if flows_per_pair is None else flows_per_pair
        if fpp < 1:
            raise InputError(f"--flows-per-pair must be >= 1, got {fpp}")
        topo = build_topology(spec)
        links = build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)
        time_s, worst, tier, flows = 0.0, -1.0, "none", 0
        for i, (step, repeat) in enumerate(flow_phases(op, algo, members, spec.node.accelerators_per_node,
                                                       size_bytes)):
            result = simulate(topo, links, step, fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S,
                              flows_per_pair=fpp, seed=seed + i)
            phase = result.job_finish_s[0] * repeat
            time_s += phase
            flows = max(flows, result.flows)
            if phase > worst:
                worst, tier = phase, result.bottleneck_class
        out.update({"analytical_time_s": analytical, "flows_per_pair": fpp, "seed": seed, "flows": flows})
        assumptions = ["only this group runs on the fabric", f"ECMP: {fpp} hashed flow(s) per GPU pair",
                       "max-min fair fluid sharing; identical steps simulated once"]
    algbw = size_bytes / time_s
    out.update({"time_s": time_s, "algbw_bytes_per_s": algbw, "busbw_bytes_per_s": bus_bandwidth(op, algbw, gpus),
                "bottleneck_tier": tier, "assumptions": assumptions})
    return CollectiveResult.model_validate(out)
