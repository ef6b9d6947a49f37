"""Alpha-beta collective costs, priced by the tier of the fabric a group spans.

A communication group is `n` ranks spaced `stride` apart in the rank order (TP innermost, so a TP
group has stride 1; a DP group has stride TP*CP*PP). Ranks are packed onto nodes in order, so the group
spans `n * stride` consecutive ranks. From that placement:

* inside one scale-up domain (NVLink/NVSwitch) the bus bandwidth is the scale-up link at its measured
  collective efficiency;
* across domains, a ring with `k` members per domain drives `k` NICs in parallel (NCCL runs one ring
  channel per NIC), so bus bandwidth = min(scale-up, k * NIC); this is how 8 HDR NICs give the 192 GB/s
  DGX A100 all-reduce busbw in network.md;
* at every crossed tier with oversubscription `o`, a domain of that tier holds `k_t` members of each
  group and all groups run at once, so a ring's traffic out of the domain is one flow per group:
  bus bandwidth <= k_t * NIC / o. For all-to-all a fraction 1 - k_t/n of each rank's bytes leave:
  NIC rate <= NIC / (o * (1 - k_t/n)).
* latency per algorithm step is the hop latency up to the highest tier crossed and back.

Ring and tree (double binary tree, 2 log2 n latency steps) all-reduce; `auto` takes the faster, as NCCL's
tuner does. Conventions follow nccl-tests: busbw = algbw * 2(n-1)/n (all-reduce), (n-1)/n (others).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from infraplan.catalog.schemas import Accelerator, System

SCALE_UP_LATENCY_S = 3.0e-6  # NVLink/NVSwitch step latency, nccl-tests small-message all-reduce on 8 GPUs


@dataclass(frozen=True)
class Fabric:
    """The scalars of a system that collective costs need (one system per evaluation)."""

    scale_up_domain: int
    scale_up_bytes_per_s: float  # achievable collective bandwidth per GPU, per direction
    nic_bytes_per_s: float  # achievable scale-out bandwidth per GPU, per direction
    tier_names: tuple[str, ...]
    tier_sizes: tuple[int, ...]
    tier_oversubscription: tuple[float, ...]
    tier_round_trip_latency_s: tuple[float, ...]  # to cross tier i: up through tiers 0..i and back
    host_kernel_dispatch_s: float = 0.0  # host time to issue one kernel (eager frameworks), see schemas.Node

    @classmethod
    def from_system(
        cls,
        system: System,
        accelerator: Accelerator,
        scale_up_factor: float = 1.0,
        scale_out_factor: float = 1.0,
    ) -> Fabric:
        """Build from catalog data; the factors scale link bandwidths for what-if studies."""
        node = system.node
        nic = node.nics_per_node * node.nic_bandwidth_bytes_per_s / node.accelerators_per_node
        tiers = system.network.tiers
        hop = np.cumsum([t.hop_latency_s for t in tiers]) * 2.0
        return cls(
            scale_up_domain=node.scale_up_domain,
            scale_up_bytes_per_s=accelerator.scale_up_bandwidth_bytes_per_s
            * accelerator.efficiency.scale_up_collective_efficiency
            * scale_up_factor,
            nic_bytes_per_s=nic * system.network.collective_efficiency * scale_out_factor,
            tier_names=tuple(t.name for t in tiers),
            tier_sizes=tuple(t.group_size for t in tiers),
            tier_oversubscription=tuple(t.oversubscription for t in tiers),
            tier_round_trip_latency_s=tuple(float(x) for x in hop),
            host_kernel_dispatch_s=node.host_kernel_dispatch_s,
        )


def group_link(fabric: Fabric, n: npt.ArrayLike, stride: npt.ArrayLike,
               all_to_all: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bus bandwidth per rank (bytes/s), step latency (s) and bottleneck tier index for groups.

    Tier index -1 means the group stays inside one scale-up domain.
    """
    n = np.asarray(n, dtype=np.float64)
    stride = np.asarray(stride, dtype=np.float64)
    extent = n * stride
    inside = extent <= fabric.scale_up_domain
    k_domain = np.clip(np.floor(fabric.scale_up_domain / stride), 1.0, n)
    if all_to_all:
        nic_rate = np.full_like(n, fabric.nic_bytes_per_s)
    else:
        cross_bw = np.minimum(fabric.scale_up_bytes_per_s, k_domain * fabric.nic_bytes_per_s)
    bottleneck = np.where(inside, -1, 0)
    latency = np.full_like(n, fabric.tier_round_trip_latency_s[0])
    for i, (size, over) in enumerate(zip(fabric.tier_sizes, fabric.tier_oversubscription, strict=True)):
        crossed = extent > size
        next_lat = fabric.tier_round_trip_latency_s[min(i + 1, len(fabric.tier_sizes) - 1)]
        latency = np.where(crossed, next_lat, latency)
        bottleneck = np.where(crossed & ~inside, i + 1, bottleneck)
        if over <= 1.0:
            continue
        k_tier = np.clip(np.floor(size / stride), 1.0, n)
        if all_to_all:
            leaving = np.maximum(1.0 - k_tier / n, 1e-12)
            limit = fabric.nic_bytes_per_s / (over * leaving)
            nic_rate = np.where(crossed, np.minimum(nic_rate, limit), nic_rate)
        else:
            cross_bw = np.where(crossed, np.minimum(cross_bw, k_tier * fabric.nic_bytes_per_s / over), cross_bw)
    bottleneck = np.minimum(bottleneck, len(fabric.tier_sizes) - 1)
    if all_to_all:
        # of a rank's bytes, 1/n stay local, (k-1)/n go over the scale-up link and (n-k)/n over the NIC, in
        # parallel; expressed as the bandwidth that moves the (n-1)/n share all_to_all_time charges
        peers = np.maximum(n - 1.0, 1.0)
        time_per_byte = np.maximum((k_domain - 1.0) / fabric.scale_up_bytes_per_s, (n - k_domain) / nic_rate) / peers
        bandwidth = 1.0 / np.maximum(time_per_byte, 1e-30)
    else:
        bandwidth = cross_bw
    bandwidth = np.where(inside, fabric.scale_up_bytes_per_s, bandwidth)
    latency = np.where(inside, SCALE_UP_LATENCY_S, latency)
    return bandwidth, latency, bottleneck


def _steps(n: np.ndarray) -> np.ndarray:
    return np.maximum(np.asarray(n, dtype=np.float64) - 1.0, 0.0)


def all_reduce_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                    algorithm: str = "auto") -> np.ndarray:
    """Seconds to all-reduce `size_bytes` per rank over groups of `n` ranks spaced `stride` apart."""
    n = np.asarray(n, dtype=np.float64)
    bw, lat, _ = group_link(fabric, n, stride)
    size = np.asarray(size_bytes, dtype=np.float64)
    ring = 2.0 * _steps(n) / np.maximum(n, 1.0) * size / bw + 2.0 * _steps(n) * lat
    tree = 2.0 * size / bw + 2.0 * np.ceil(np.log2(np.maximum(n, 1.0))) * lat
    t = {"ring": ring, "tree": tree, "auto": np.minimum(ring, tree)}[algorithm]
    return np.where(n > 1, t, 0.0)


def reduce_scatter_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                        stride: npt.ArrayLike) -> np.ndarray:
    """Seconds to reduce-scatter a `size_bytes` buffer (full, unsharded size) over the group (ring)."""
    n = np.asarray(n, dtype=np.float64)
    bw, lat, _ = group_link(fabric, n, stride)
    t = _steps(n) / np.maximum(n, 1.0) * np.asarray(size_bytes, dtype=np.float64) / bw + _steps(n) * lat
    return np.where(n > 1, t, 0.0)


def all_gather_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """Seconds to all-gather into a `size_bytes` buffer (the gathered size); same cost as reduce-scatter."""
    return reduce_scatter_time(fabric, size_bytes, n, stride)


def all_to_all_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """Seconds for an all-to-all where each rank holds `size_bytes` spread evenly over the group."""
    n = np.asarray(n, dtype=np.float64)
    bw, lat, _ = group_link(fabric, n, stride, all_to_all=True)
    t = _steps(n) / np.maximum(n, 1.0) * np.asarray(size_bytes, dtype=np.float64) / bw + _steps(n) * lat
    return np.where(n > 1, t, 0.0)


def send_recv_time(fabric: Fabric, size_bytes: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """Seconds to send `size_bytes` to the rank `stride` ranks away (pipeline neighbour)."""
    two = np.full(np.shape(stride), 2.0) if np.ndim(stride) else 2.0
    bw, lat, _ = group_link(fabric, two, stride)
    # a single point-to-point transfer drives one NIC, never k of them
    single = np.where(np.asarray(stride) * 2 <= fabric.scale_up_domain, bw, np.minimum(bw, fabric.nic_bytes_per_s))
    seconds: np.ndarray = np.asarray(size_bytes, dtype=np.float64) / single + lat
    return seconds



def collective_time(fabric: Fabric, kind: str, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                    stride: npt.ArrayLike) -> np.ndarray:
    """Seconds of one collective named by kind ('all_gather', 'reduce_scatter', 'all_reduce', 'all_to_all'),
    the names `ops.layer.Collective` records use, so training and serving price them through one table."""
    return COLLECTIVE_TIMES[kind](fabric, size_bytes, n, stride)


COLLECTIVE_TIMES: dict[str, Callable[..., np.ndarray]] = {
    "all_gather": all_gather_time, "reduce_scatter": reduce_scatter_time,
    "all_reduce": all_reduce_time, "all_to_all": all_to_all_time,
}

# --- Extensions for the `collective` command (issue 4): hierarchical algorithm, bus bandwidth, bottleneck ---

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
        return float({"all-reduce": all_reduce_time, "reduce-scatter": reduce_scatter_time,
                      "all-gather": all_gather_time}[op](fabric, size_bytes, n, stride, **(
                          {"algorithm": "ring"} if op == "all-reduce" else {})))
    intra = (k - 1) / k * size_bytes / fabric.scale_up_bytes_per_s + (k - 1) * SCALE_UP_LATENCY_S
    bw, lat, _ = group_link(fabric, np.array([float(m)]), np.array([float(stride * k)]))
    rail = (m - 1) / m * (size_bytes / k) / float(bw[0]) + (m - 1) * float(lat[0])
    if op == "all-reduce":
        return 2.0 * intra + 2.0 * rail
    return intra + rail


def bottleneck_tier(fabric: Fabric, n: int, stride: int, all_to_all: bool = False) -> str:
    """Which limit sets the analytical bandwidth: 'scale-up', 'nic', or the oversubscribed tier's name."""
    if n * stride <= fabric.scale_up_domain:
        return "scale-up"
    k_domain = min(max(fabric.scale_up_domain // stride, 1), n)
    name, rate = "nic", fabric.nic_bytes_per_s
    if not all_to_all:
        name, rate = ("scale-up", fabric.scale_up_bytes_per_s) if fabric.scale_up_bytes_per_s < k_domain * rate \
            else ("nic", k_domain * rate)
    for size, over, tier in zip(fabric.tier_sizes, fabric.tier_oversubscription, fabric.tier_names, strict=True):
        if n * stride <= size or over <= 1.0:
            continue
        k_tier = min(max(size // stride, 1), n)
        limit = fabric.nic_bytes_per_s / (over * max(1.0 - k_tier / n, 1e-12)) if all_to_all \
            else k_tier * fabric.nic_bytes_per_s / over
        if limit < rate:
            name, rate = tier, limit
    if all_to_all:
        share_local = k_domain / n
        if share_local / fabric.scale_up_bytes_per_s > (1.0 - share_local) / rate:
            return "scale-up"
    return name
