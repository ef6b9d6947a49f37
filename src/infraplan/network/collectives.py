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
  group; a tier is priced by the share of its uplinks the groups that run at once occupy (issue 12 item 6,
  as the flow simulation shares them): with `g` groups of this shape interleaved in the domain, the busy
  GPUs are `occ = min(g * k_t, domain) / domain` of it and the domain's uplinks (domain * NIC / o) are
  shared by `g` ring flows: bus bandwidth <= k_t * NIC / (o * occ). For all-to-all a fraction 1 - k_t/n of
  each rank's bytes leave: NIC rate <= NIC / (o * occ * (1 - k_t/n)). `Fabric.concurrent_groups` is `g`:
  None (the default) means every group of the shape runs at once (g = stride: a training job fills its
  domains, so occ = 1 and the full ratio applies); 1 means one group alone on an idle fabric (`collective`).
* latency per algorithm step is the hop latency up to the highest tier crossed and back.

Ring and tree (double binary tree, 2 log2 n latency steps) all-reduce; `auto` takes the faster, as NCCL's
tuner does. Conventions follow nccl-tests: busbw = algbw * 2(n-1)/n (all-reduce), (n-1)/n (others).

Speed (issue 18): the sized collective times and the message efficiency run on Python floats when every input
holds one element (a single estimate), with the same IEEE operations in the same order (`_FLOATS` beside
`_NUMPY`), so they equal the array path bit for bit (tests/network/test_collective_fast_path.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan import scalar_path
from infraplan.catalog.schemas import Accelerator, System

SCALE_UP_LATENCY_S = 3.0e-6  # NVLink/NVSwitch step latency, nccl-tests small-message all-reduce on 8 GPUs


_Ops = scalar_path.MathOps
_NUMPY = scalar_path.NUMPY_OPS
_FLOATS = scalar_path.FLOAT_OPS
_one_element = scalar_path.one_element
_shaped = scalar_path.as_array


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
    concurrent_groups: int | None = None  # groups of one shape running at once; None: all `stride` of them

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


def uplink_occupancy(fabric: Fabric, k_tier: npt.ArrayLike, stride: npt.ArrayLike, domain: int) -> np.ndarray:
    """Fraction of a tier domain's GPUs busy with groups of this shape: min(g * k_t, domain) / domain, where
    g = `fabric.concurrent_groups` (default: `stride`, every rank in some group)."""
    groups = np.asarray(stride if fabric.concurrent_groups is None else fabric.concurrent_groups, dtype=np.float64)
    busy = np.minimum(groups * np.asarray(k_tier, dtype=np.float64), float(domain))
    occupancy: np.ndarray = busy / float(domain)
    return occupancy


_LINK_CACHE: dict[tuple[object, ...], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
_LINK_CACHE_MAX_ENTRIES = 4096
_LINK_CACHE_MAX_GROUPS = 64  # only small arrays (single estimates) are memoised; the searches' columns are not


def group_link(fabric: Fabric, n: npt.ArrayLike, stride: npt.ArrayLike,
               all_to_all: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bus bandwidth per rank (bytes/s), step latency (s) and bottleneck tier index for groups.

    Tier index -1 means the group stays inside one scale-up domain. Small queries are memoised per (fabric,
    group shapes): the arrays returned are read-only.
    """
    n = np.asarray(n, dtype=np.float64)
    stride = np.asarray(stride, dtype=np.float64)
    if n.size > _LINK_CACHE_MAX_GROUPS or stride.size > _LINK_CACHE_MAX_GROUPS:
        return _group_link(fabric, n, stride, all_to_all)
    key = (fabric, all_to_all, n.shape, n.tobytes(), stride.shape, stride.tobytes())
    link = _LINK_CACHE.get(key)
    if link is None:
        if len(_LINK_CACHE) >= _LINK_CACHE_MAX_ENTRIES:
            _LINK_CACHE.clear()
        link = _group_link(fabric, n, stride, all_to_all)
        for array in link:
            if isinstance(array, np.ndarray):  # numpy scalars are immutable already
                array.flags.writeable = False
        _LINK_CACHE[key] = link
    return link


def _group_link(fabric: Fabric, n: np.ndarray, stride: np.ndarray,
                all_to_all: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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
        shared = over * uplink_occupancy(fabric, k_tier, stride, size)
        if all_to_all:
            leaving = np.maximum(1.0 - k_tier / n, 1e-12)
            limit = fabric.nic_bytes_per_s / (shared * leaving)
            nic_rate = np.where(crossed, np.minimum(nic_rate, limit), nic_rate)
        else:
            cross_bw = np.where(crossed, np.minimum(cross_bw, k_tier * fabric.nic_bytes_per_s / shared), cross_bw)
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


@lru_cache(maxsize=4096)
def _link_one(fabric: Fabric, n: float, stride: float, all_to_all: bool) -> tuple[float, float]:
    """`group_link`'s bandwidth and latency of one group shape, as floats (element-wise, so the same values)."""
    bw, lat, _ = _group_link(fabric, np.array(n), np.array(stride), all_to_all)
    return float(bw), float(lat)


def _link(xp: _Ops, fabric: Fabric, n: Any, stride: Any, all_to_all: bool = False) -> tuple[Any, Any]:
    if xp is _FLOATS:
        return _link_one(fabric, n, stride, all_to_all)
    bw, lat, _ = group_link(fabric, n, stride, all_to_all)
    return bw, lat


def _evaluate(formula: Callable[..., Any], fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
              stride: npt.ArrayLike, *options: Any) -> np.ndarray:
    """A collective's cost `formula(xp, fabric, size, n, stride, *options)` on Python floats when the group holds
    one plan (`scalar_path`), else on numpy arrays; the same result either way."""
    one = _one_element(size_bytes, n, stride)
    if one is not None:
        (f_size, f_n, f_stride), ndim = one
        return _shaped(formula(_FLOATS, fabric, f_size, f_n, f_stride, *options), ndim)
    return np.asarray(formula(_NUMPY, fabric, np.asarray(size_bytes, dtype=np.float64),
                              np.asarray(n, dtype=np.float64), stride, *options))


def all_reduce_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                    algorithm: str = "auto", sized: bool = False) -> np.ndarray:
    """Seconds to all-reduce `size_bytes` per rank over groups of `n` ranks spaced `stride` apart.

    `sized`: apply the message-size efficiency and NCCL's network step latency (`sized_time`), as the
    training and serving models do; the `collective` command prices the alpha-beta line its flow model shares.
    """
    return _evaluate(_all_reduce, fabric, size_bytes, n, stride, algorithm, sized)


def _all_reduce(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, algorithm: str, sized: bool) -> Any:
    bw, lat = _link(xp, fabric, n, stride)
    lat = _step_latency(xp, fabric, lat, n, stride) if sized else lat
    steps = xp.maximum(n - 1.0, 0.0)
    ring_bw = 2.0 * steps / xp.maximum(n, 1.0) * size / bw
    ring = _sized_time(xp, fabric, ring_bw + 2.0 * steps * lat, ring_bw, size, n, stride, False, sized)
    tree = _sized_time(xp, fabric, 2.0 * size / bw + 2.0 * xp.ceil(xp.log2(xp.maximum(n, 1.0))) * lat,
                       2.0 * size / bw, size, n, stride, False, sized)
    t = {"ring": ring, "tree": tree, "auto": xp.minimum(ring, tree)}[algorithm]
    return xp.where(n > 1, t, 0.0)


def reduce_scatter_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                        stride: npt.ArrayLike, sized: bool = False) -> np.ndarray:
    """Seconds to reduce-scatter a `size_bytes` buffer (full, unsharded size) over the group (ring)."""
    return _evaluate(_reduce_scatter, fabric, size_bytes, n, stride, sized)


def _reduce_scatter(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    bw, lat = _link(xp, fabric, n, stride)
    lat = _step_latency(xp, fabric, lat, n, stride) if sized else lat
    steps = xp.maximum(n - 1.0, 0.0)
    bandwidth = steps / xp.maximum(n, 1.0) * size / bw
    t = _sized_time(xp, fabric, bandwidth + steps * lat, bandwidth, size, n, stride, False, sized)
    return xp.where(n > 1, t, 0.0)


def all_gather_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                    sized: bool = False) -> np.ndarray:
    """Seconds to all-gather into a `size_bytes` buffer (the gathered size); same cost as reduce-scatter."""
    return reduce_scatter_time(fabric, size_bytes, n, stride, sized)


# peers an all-to-all has in flight at once: NCCL groups the n-1 sends/receives and runs them over its p2p
# channels, NCCL_MAX_P2P_NCHANNELS = MAXCHANNELS = 32 by default (NCCL environment-variable docs), so the
# latency is paid once per round of 32 peers, not once per peer
A2A_PEERS_IN_FLIGHT = 32


def all_to_all_rounds(n: npt.ArrayLike) -> np.ndarray:
    """Rounds of concurrent peers of an all-to-all over `n` ranks: ceil((n - 1) / A2A_PEERS_IN_FLIGHT)."""
    rounds: np.ndarray = np.ceil(_steps(np.asarray(n, dtype=np.float64)) / A2A_PEERS_IN_FLIGHT)
    return rounds


def all_to_all_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                    sized: bool = False) -> np.ndarray:
    """Seconds for an all-to-all where each rank holds `size_bytes` spread evenly over the group."""
    return _evaluate(_all_to_all, fabric, size_bytes, n, stride, sized)


def _all_to_all(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    bw, lat = _link(xp, fabric, n, stride, all_to_all=True)
    steps = xp.maximum(n - 1.0, 0.0)
    bandwidth = steps / xp.maximum(n, 1.0) * size / bw
    lat = _step_latency(xp, fabric, lat, n, stride) if sized else lat
    rounds = xp.ceil(steps / A2A_PEERS_IN_FLIGHT)  # `all_to_all_rounds`
    t = _sized_time(xp, fabric, bandwidth + rounds * lat, bandwidth, size, n, stride, True, sized)
    return xp.where(n > 1, t, 0.0)


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
    return COLLECTIVE_TIMES[kind](fabric, size_bytes, n, stride, sized=True)


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
        flat: dict[str, Callable[..., np.ndarray]] = {
            "all-reduce": all_reduce_time, "reduce-scatter": reduce_scatter_time, "all-gather": all_gather_time}
        return float(flat[op](fabric, size_bytes, n, stride, **(
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
        shared = over * float(uplink_occupancy(fabric, k_tier, stride, size))
        limit = fabric.nic_bytes_per_s / (shared * max(1.0 - k_tier / n, 1e-12)) if all_to_all \
            else k_tier * fabric.nic_bytes_per_s / shared
        if limit < rate:
            name, rate = tier, limit
    if all_to_all:
        share_local = k_domain / n
        if share_local / fabric.scale_up_bytes_per_s > (1.0 - share_local) / rate:
            return "scale-up"
    return name


# --- Message-size efficiency (issue 12 item 3): small messages reach a fraction of the large-message busbw ---

NCCL_NET_STEP_LATENCY_S = 4.0e-6  # NCCL tuning model hwLat[NET][Ring][LL128] per ring step (src/graph/tuning.cc)
_NODE_COLUMNS = (1, 2, 4, 8, 16, 32, 64, 128)  # the SimAI tables' node-count columns
_LOG2_LAST_COLUMN = float(np.log2(_NODE_COLUMNS[-1]))


@lru_cache(maxsize=4)
def _efficiency_table(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(log2 message sizes, efficiency[size, node column] normalised to the largest message) of a SimAI table."""
    text = (resources.files("infraplan.catalog") / "nccl" / f"simai_{kind}_ratio.csv").read_text()
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")][1:]
    sizes = np.log2([float(r[0]) for r in rows])
    table = np.array([[float(x) if x else np.nan for x in r[1:1 + len(_NODE_COLUMNS)]] for r in rows])
    for j in range(table.shape[1]):  # node counts the table lacks: the largest one it has
        if np.isnan(table[:, j]).all():
            table[:, j] = table[:, j - 1]
    # time must not fall as the message grows: between rows (sizes double) the efficiency may rise by at most
    # a factor 1 + ln 2, which keeps size / efficiency increasing under log-linear interpolation
    for i in range(1, table.shape[0]):
        table[i] = np.minimum(table[i], (1.0 + np.log(2.0)) * table[i - 1])
    return sizes, np.minimum(table / table[-1:, :], 1.0)


@lru_cache(maxsize=4)
def _efficiency_lists(kind: str) -> tuple[list[float], tuple[list[float], ...]]:
    """`_efficiency_table(kind)` as Python lists (log2 sizes, then each node-count column) for the float path."""
    sizes, table = _efficiency_table(kind)
    return sizes.tolist(), tuple(table[:, j].tolist() for j in range(table.shape[1]))


def message_efficiency(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                       all_to_all: bool = False) -> np.ndarray:
    """Bus-bandwidth efficiency of one collective at its message size, relative to its large-message busbw.

    From the SimAI NCCL tables (catalog/nccl, measured busbw / peak by message size and node count):
    inside one scale-up domain the NVLink column, across domains the NIC table at the node count the group
    spans, all-to-all the ATA table; each normalised by its largest-message value (the catalog's collective
    efficiencies are large-message figures), interpolated in log2(size) and log2(nodes). Below the smallest
    tabulated size (16 MiB) the smallest size's value holds and the alpha-beta latency term takes over.
    """
    one = _one_element(size_bytes, n, stride)
    if one is not None:
        (f_size, f_n, f_stride), ndim = one
        return _shaped(_message_efficiency_one(fabric, f_size, f_n, f_stride, all_to_all), ndim)
    size = np.maximum(np.asarray(size_bytes, dtype=np.float64), 1.0)
    n, stride = np.asarray(n, dtype=np.float64), np.asarray(stride, dtype=np.float64)
    inside = n * stride <= fabric.scale_up_domain
    # nodes holding members of the group (the tables' column), however far apart they are
    nodes = np.maximum(n / np.minimum(np.maximum(np.floor(fabric.scale_up_domain / stride), 1.0), np.maximum(n, 1.0)),
                       1.0)
    sizes, nvlink = _efficiency_table("ata" if all_to_all else "nvlink")
    _, nic = _efficiency_table("ata" if all_to_all else "nic")
    log_size = np.minimum(np.maximum(np.log2(size), sizes[0]), sizes[-1])  # np.clip, without its wrapper's cost
    log_nodes = np.minimum(np.maximum(np.log2(nodes), 0.0), _LOG2_LAST_COLUMN)
    # linear interpolation between the columns (knots at log2 nodes = 0, 1, ..., 7): hat-function weights; only
    # the columns next to some group's log2 nodes have a non-zero weight (the others would add exact zeros)
    across = np.zeros(np.shape(log_nodes))
    if not inside.all():
        low = np.floor(log_nodes[~inside]) if np.ndim(log_nodes) else np.floor(log_nodes)
        for j in range(int(low.min()), min(int(low.max()) + 2, len(_NODE_COLUMNS))):
            across = across + np.maximum(1.0 - np.abs(log_nodes - j), 0.0) * np.interp(log_size, sizes, nic[:, j])
    local = np.interp(log_size, sizes, nvlink[:, 0]) if inside.any() else across
    return np.asarray(np.minimum(np.maximum(np.where(inside, local, across), 1e-3), 1.0), dtype=np.float64)


def _message_efficiency_one(fabric: Fabric, size_bytes: float, n: float, stride: float, all_to_all: bool) -> float:
    """`message_efficiency` of one group, in floats: the same operations in the same order."""
    size = max(size_bytes, 1.0)
    inside = n * stride <= fabric.scale_up_domain
    nodes = max(n / min(max(float(math.floor(fabric.scale_up_domain / stride)), 1.0), max(n, 1.0)), 1.0)
    sizes, nvlink = _efficiency_lists("ata" if all_to_all else "nvlink")
    _, nic = _efficiency_lists("ata" if all_to_all else "nic")
    log_size = min(max(float(np.log2(size)), sizes[0]), sizes[-1])
    log_nodes = min(max(float(np.log2(nodes)), 0.0), _LOG2_LAST_COLUMN)
    if inside:
        efficiency = scalar_path.interp(log_size, sizes, nvlink[0])
    else:
        efficiency, low = 0.0, math.floor(log_nodes)
        for j in range(low, min(low + 2, len(_NODE_COLUMNS))):
            efficiency = efficiency + max(1.0 - abs(log_nodes - j), 0.0) * scalar_path.interp(log_size, sizes, nic[j])
    return min(max(efficiency, 1e-3), 1.0)


def sized_time(fabric: Fabric, alpha_beta_s: npt.ArrayLike, bandwidth_s: npt.ArrayLike, size_bytes: npt.ArrayLike,
               n: npt.ArrayLike, stride: npt.ArrayLike, all_to_all: bool = False, sized: bool = True) -> np.ndarray:
    """A collective's seconds with its message-size efficiency: max(alpha-beta time, bandwidth term / efficiency).

    The table's efficiency already contains the latency of the measured collective, so it bounds the time
    from below instead of adding to the alpha-beta latency; tiny messages stay latency-bound.
    """
    if not sized:
        return np.asarray(alpha_beta_s, dtype=np.float64)
    eff = message_efficiency(fabric, size_bytes, n, stride, all_to_all)
    seconds: np.ndarray = np.maximum(np.asarray(alpha_beta_s, dtype=np.float64),
                                     np.asarray(bandwidth_s, dtype=np.float64) / eff)
    return seconds


def _sized_time(xp: _Ops, fabric: Fabric, alpha_beta_s: Any, bandwidth_s: Any, size_bytes: Any, n: Any, stride: Any,
                all_to_all: bool, sized: bool) -> Any:
    """`sized_time` in the namespace `xp`."""
    if xp is _NUMPY:
        return sized_time(fabric, alpha_beta_s, bandwidth_s, size_bytes, n, stride, all_to_all, sized)
    if not sized:
        return alpha_beta_s
    return max(alpha_beta_s, bandwidth_s / _message_efficiency_one(fabric, size_bytes, n, stride, all_to_all))


def step_latency(fabric: Fabric, latency_s: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """Per-step latency of a ring: a group that leaves its scale-up domain pays NCCL's network step latency
    (proxy thread, NIC, protocol: `NCCL_NET_STEP_LATENCY_S`), not just the switch hops."""
    return np.asarray(_step_latency(_NUMPY, fabric, latency_s, np.asarray(n, dtype=np.float64),
                                    np.asarray(stride, dtype=np.float64)))


def _step_latency(xp: _Ops, fabric: Fabric, latency_s: Any, n: Any, stride: Any) -> Any:
    crosses = n * stride > fabric.scale_up_domain
    return xp.where(crosses, xp.maximum(latency_s, NCCL_NET_STEP_LATENCY_S), latency_s)


# --- Small-message all-reduce of serving stacks (issue 12 item 3): one-shot / two-shot over NVLink P2P ---

CUSTOM_ALL_REDUCE_MAX_BYTES = 8 * 2**20  # vLLM custom all-reduce buffer (csrc/custom_all_reduce.cuh): NCCL above


def custom_all_reduce_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                           stride: npt.ArrayLike = 1) -> np.ndarray:
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
    The faster of the two, bounded by NCCL (`all_reduce_time`, sized) and used up to the 8 MiB IPC buffer.
    """
    n_arr = np.asarray(n, dtype=np.float64)
    size = np.asarray(size_bytes, dtype=np.float64)
    nccl = all_reduce_time(fabric, size, n_arr, stride, sized=True)
    bw = fabric.scale_up_bytes_per_s
    one_shot = SCALE_UP_LATENCY_S + _steps(n_arr) * size / bw
    two_shot = 2.0 * SCALE_UP_LATENCY_S + 2.0 * _steps(n_arr) * size / (np.maximum(n_arr, 1.0) * bw)
    inside = n_arr * np.asarray(stride, dtype=np.float64) <= fabric.scale_up_domain
    usable = inside & (size <= CUSTOM_ALL_REDUCE_MAX_BYTES) & (n_arr > 1)
    seconds: np.ndarray = np.where(usable, np.minimum(nccl, np.minimum(one_shot, two_shot)), nccl)
    return seconds
