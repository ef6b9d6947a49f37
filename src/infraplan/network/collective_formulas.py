"""Alpha-beta collective formulas, priced by the tier of the fabric a group spans, on arrays over groups.

Ring and tree (double binary tree: 2 log2 n latency steps in a domain, NCCL's pipelined tree across domains,
`nccl_trees.tree_latency`) all-reduce; `auto` takes the faster, as NCCL's
tuner does, and inside one NVSwitch domain also NVLS (NVLink SHARP, `network.nvlink_all_reduce`, at its tuner's
latency) where the accelerator has a measured NVLS figure it enables. Conventions follow nccl-tests:
busbw = algbw * 2(n-1)/n (all-reduce), (n-1)/n (others).
Reduce-scatter, all-gather and all-to-all run as rings (all-to-all in rounds of NCCL's p2p channels), a
pipeline send/receive drives one NIC. A sized all-reduce inside one scale-up domain is bounded from below by the
measured curve instead (`network.nvlink_all_reduce`, AIConfigurator's H100 tables: the alpha-beta line was ~2x too
fast at 0.25-8 MiB). The links a group spans are priced in `network.fabric`, the message-size efficiency and NCCL's
network step latency in `network.collective_efficiency`. A sized collective spanning scale-up domains (and an
all-to-all at any size) is bounded below by the in-domain collective of its local members at the same per-peer
chunk (`spanning_bound`, `network.placement`'s): it moves that chunk over the same NVLink path.

Each formula is written once on an ops table `xp` (`scalar_path.MathOps`): the sized collective times run on
Python floats when every input holds one element (a single estimate), with the same IEEE operations in the same
order (`_FLOATS` beside `_NUMPY`), so they equal the array path bit for bit (tests/network/
test_collective_fast_path.py). On long 1-D arrays a collective is priced once per run of equal consecutive (size,
group, stride) (`scalar_path.price_runs`), with the bits of the whole arrays (tests/hardware/test_kernel_runs.py).
`network.collectives` re-exports these names beside the one-plan float entries and the custom all-reduce.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan import scalar_path
from infraplan.network import collective_efficiency as _efficiency
from infraplan.network import fabric as _fabric
from infraplan.network import nvlink_all_reduce as _nvlink
from infraplan.network import nvlink_latency as _latency
from infraplan.network.collective_efficiency import sized_time_xp, step_latency_xp
from infraplan.network.fabric import (
    Fabric,
    group_domain,
    group_link,
    group_link_one,
)
from infraplan.network.nccl_trees import tree_latency, tree_latency_kept
from infraplan.network.nvlink_all_reduce import nvls_time_xp
from infraplan.network.placement import in_one_pass as _joined
from infraplan.network.placement import spanning_bound
from infraplan.network.placement import spanning_bounded as _bounded
from infraplan.network.placement import spanning_members as _spanning_members
from infraplan.network.ring_latency import ring_latency, ring_latency_one
from infraplan.network.sharp import sharp_times
from infraplan.network.tree_crossings import tree_link, tree_link_kept

__all__ = ["A2A_PEERS_IN_FLIGHT", "COLLECTIVE_TIMES", "all_gather_time", "all_reduce_time", "all_to_all_rounds",
           "all_to_all_time", "collective_time", "reduce_scatter_time", "send_recv_time"]

_Ops = scalar_path.MathOps
_NUMPY = scalar_path.NUMPY_OPS
_FLOATS = scalar_path.FLOAT_OPS
_one_element = scalar_path.one_element
_shaped = scalar_path.as_array


def peer_steps(n: np.ndarray) -> np.ndarray:
    """Steps of a ring over `n` ranks, or peers each rank of an all-to-all exchanges with: max(n - 1, 0)."""
    return np.maximum(np.asarray(n, dtype=np.float64) - 1.0, 0.0)


def _link(xp: _Ops, fabric: Fabric, n: Any, stride: Any, all_to_all: bool = False) -> tuple[Any, Any]:
    if xp is _FLOATS:
        return group_link_one(fabric, n, stride, all_to_all)
    bw, lat, _ = group_link(fabric, n, stride, all_to_all)
    return bw, lat


def _ring_latency(xp: _Ops, fabric: Fabric, n: Any, stride: Any, sized: bool) -> Any:
    """Mean step latency of a ring over the group (`network.ring_latency`: the sum of its hops' latencies, NCCL's
    pipelined ring); sized, each network hop floored at NCCL's network step latency, as `step_latency_xp` floors
    the group's link."""
    floor = _efficiency.NCCL_NET_STEP_LATENCY_S if sized else 0.0
    if xp is _FLOATS:
        return ring_latency_one(fabric, n, stride, floor, _fabric.PIPELINED_RING_LATENCY)
    return ring_latency(fabric, n, stride, floor)


def _tree_latency(xp: _Ops, fabric: Fabric, n: Any, stride: Any, lat: Any, sized: bool) -> Any:
    """Latency of a tree all-reduce over the group: inside one scale-up domain 2 ceil(log2 n) steps at `lat`;
    spanning domains NCCL's pipelined tree (`nccl_trees.tree_latency`: the chain through a domain, then each level of
    the double binary tree at the tier its hop crosses), network hops floored at NCCL's network step latency when
    sized; 2 ceil(log2 n) steps at `lat` everywhere with `fabric.PIPELINED_TREE_LATENCY` off."""
    steps = 2.0 * xp.ceil(xp.log2(xp.maximum(n, 1.0))) * lat
    if not _fabric.PIPELINED_TREE_LATENCY:
        return steps
    floor = _efficiency.NCCL_NET_STEP_LATENCY_S if sized else 0.0
    if xp is _FLOATS:
        if not n * stride > group_domain(fabric, n, stride):
            return steps
        return tree_latency_kept(fabric, n, stride, floor)
    spans = n * stride > group_domain(fabric, n, stride)
    if not scalar_path.anywhere(spans):
        return steps
    return xp.where(spans, tree_latency(fabric, n, stride, floor), steps)


def _evaluate(formula: Callable[..., Any], fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
              stride: npt.ArrayLike, *options: Any) -> np.ndarray:
    """A collective's cost `formula(xp, fabric, size, n, stride, *options)` on Python floats when the group holds
    one plan (`scalar_path`), else on numpy arrays; the same result either way."""
    one = _one_element(size_bytes, n, stride)
    if one is not None:
        (f_size, f_n, f_stride), ndim = one
        return _shaped(formula(_FLOATS, fabric, f_size, f_n, f_stride, *options), ndim)
    return np.asarray(scalar_path.price_runs(lambda *v: formula(_NUMPY, fabric, *v, *options),
                                             np.asarray(size_bytes, dtype=np.float64),
                                             np.asarray(n, dtype=np.float64), stride))


def all_reduce_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                    algorithm: str = "auto", sized: bool = False) -> np.ndarray:
    """Seconds to all-reduce `size_bytes` per rank over groups of `n` ranks spaced `stride` apart.

    `sized`: apply the message-size efficiency and NCCL's network step latency (`sized_time`), as the
    training and serving models do; the `collective` command prices the alpha-beta line its flow model shares.
    `algorithm`: "auto" (the fastest of ring, tree and NVLS where it runs), "ring", "tree", "nvls" (infinite
    where NVLS cannot run the group, `network.nvlink_all_reduce.nvls_available`) or "nvls_tree" (the tree across
    domains with NVLS inside each, `_nvls_tree`; infinite where the group stays in one domain).
    """
    return _evaluate(_all_reduce, fabric, size_bytes, n, stride, algorithm, sized)


def _all_reduce(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, algorithm: str, sized: bool) -> Any:
    """`_one_all_reduce`, with a sized ring and tree spanning scale-up domains each bounded below by its own NVLink
    legs at the in-domain rate (`spanning_bound`), then the faster taken (`auto`; NVLS cannot span domains): the
    ring by (n - 1) / k x the in-domain all-reduce of its chunk, the tree by the in-domain all-reduce of the whole
    buffer over the k local members (`whole_buffer`). Bounding the faster of the two by the ring's rule priced
    an 8 B all-reduce over 24,576 GPUs at 55.3 ms against the tree's own 0.63 ms (hN2, session 34). The
    alpha-beta line (`sized` False, the `collective` command beside its flow model) keeps its own: there the
    in-domain step latency times the ring's steps would stand for pipelined large-message steps."""
    if algorithm == "nvls_tree":
        return _nvls_tree(xp, fabric, size, n, stride, sized)
    if algorithm == "nvls" or not sized:
        return _one_all_reduce(xp, fabric, size, n, stride, algorithm, sized)
    if xp is _NUMPY and _nvlink.MEASURED_NVLINK_ALL_REDUCE and np.all(n * stride <= group_domain(fabric, n, stride)):
        return _one_all_reduce(xp, fabric, size, n, stride, algorithm, sized)  # (no group spans domains)
    t, ring, tree = _all_reduce_parts(xp, fabric, size, n, stride, algorithm, sized)
    local, spans = _spanning_members(xp, fabric, n, stride)
    if not (spans if xp is _FLOATS else scalar_path.anywhere(spans)):
        return t

    def inside(part: Any, k: Any) -> Any:
        return _one_all_reduce(xp, fabric, part, k, stride, algorithm, sized)

    if algorithm == "auto" and AUTO_NAMED_LEGS:  # each candidate bounded by its own algorithm's leg (`auto_legs`)
        ring_leg, tree_leg = auto_legs(xp, fabric, size, n, local, stride, sized)
        ring = xp.maximum(ring, (n - 1.0) / local * ring_leg)
        return xp.where(spans, xp.minimum(ring, xp.maximum(tree, tree_leg)), t)
    if xp is _NUMPY and algorithm == "auto":  # the ring's and the tree's bounds in one pass (`_both_bounds`)
        return xp.where(spans, xp.minimum(*_both_bounds(fabric, ring, tree, size, n, stride, sized, local, spans)), t)
    if algorithm != "tree":
        ring = spanning_bound(xp, fabric, ring, size, n, stride, True, inside)
    if algorithm != "ring":
        tree = spanning_bound(xp, fabric, tree, size, n, stride, True, inside, whole_buffer=True)
    bounded = ring if algorithm == "ring" else tree if algorithm == "tree" else xp.minimum(ring, tree)
    return xp.where(spans, bounded, t)


# hF66: `auto` across scale-up domains is the fastest of the algorithms NCCL runs there, each bounded by its own leg
# inside the domain (`auto_legs`): the ring by its in-domain ring, the tree by its chain (NCCL's Tree) or by NVLS
# (NVLSTree). False: both bounded by the fastest in-domain all-reduce (`_both_bounds`), a tree with a ring leg that
# no NCCL algorithm runs, priced up to 12.5 % under `tree` (2 (k - 1) / k against 2 buffers over the link, k = 8) and
# labelled "tree" (MI300X, Gaudi 2, MTIA, B300 at 256 MiB - 8 GiB)
AUTO_NAMED_LEGS = True


def auto_legs(xp: _Ops, fabric: Fabric, size: Any, n: Any, local: Any, stride: Any, sized: bool) -> tuple[Any, Any]:
    """(the ring's leg, the tree's leg) of an `auto` all-reduce whose group spans domains, over its `local` members
    of one domain (`_spanning_members`): the in-domain ring of the ring's chunk (size x k / n, scaled by the caller
    to its n - 1 steps, `placement.spanning_bound`), and the faster of the in-domain tree (NCCL's chain) and NVLS
    of the whole buffer (`whole_buffer`; NVLS infinite where it cannot run the members). The same legs as the named
    `ring`, `tree` and `nvls_tree` answers, so `auto` is the fastest of those three (and `nvls` in one domain)."""
    ring_leg = _one_all_reduce(xp, fabric, size * local / xp.maximum(n, 1.0), local, stride, "ring", sized)
    tree_leg = xp.minimum(_one_all_reduce(xp, fabric, size, local, stride, "tree", sized),
                          _one_all_reduce(xp, fabric, size, local, stride, "nvls", sized))
    return ring_leg, tree_leg


def _nvls_tree(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    """NCCL's NVLS_TREE all-reduce (its algorithm name "NVLSTree", `NCCL_ALGO=NVLSTree`: the strings Tree, Ring,
    CollNetDirect, CollNetChain, NVLS, NVLSTree in nvidia-nccl-cu13 2.30.7's lib/libnccl.so.2, `strings -a`): the
    tree across scale-up domains with NVLS (in-switch reduction) as its leg inside each domain, so the tree's time
    bounded below by the NVLS all-reduce of the whole buffer over the k local members (`spanning_bound`'s
    `whole_buffer` rule with NVLS inside). What `auto`'s tree is where NVLS is the domain's fastest all-reduce
    (`_both_bounds`: its leg is the in-domain `auto`). The alpha-beta line (`sized` False) is the tree's.
    Infinite where the group stays in one domain or its local members cannot run NVLS (as "nvls" by name)."""
    local, spans = _spanning_members(xp, fabric, n, stride)
    tree = _one_all_reduce(xp, fabric, size, n, stride, "tree", False) if not sized else \
        _all_reduce_parts(xp, fabric, size, n, stride, "tree", sized)[2]
    inside = _one_all_reduce(xp, fabric, size, local, stride, "nvls", sized)
    runs = spans & (inside < math.inf)
    return xp.where(runs, xp.maximum(tree, inside) if sized else tree, math.inf)


def _both_bounds(fabric: Fabric, ring: np.ndarray, tree: np.ndarray, size: Any, n: Any, stride: Any,
                 sized: bool, local: np.ndarray, spans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`spanning_bound` of an auto all-reduce's ring and of its tree (`whole_buffer`) on arrays: their two in-domain
    all-reduces over the k `local` members of the groups that `spans` (`_spanning_members`) in one pass (`_joined`)."""
    ring_inside, tree_inside = _joined(lambda s, m, d: _one_all_reduce(_NUMPY, fabric, s, m, d, "auto", sized),
                                       (size * local / np.maximum(n, 1.0), local, stride), (size, local, stride))
    ring_bound = (n - 1.0) / local * ring_inside
    return (np.where(spans, np.maximum(ring, ring_bound), ring), np.where(spans, np.maximum(tree, tree_inside), tree))


def _one_all_reduce(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, algorithm: str, sized: bool) -> Any:
    if sized and xp is _NUMPY and _nvlink.MEASURED_NVLINK_ALL_REDUCE:
        in_domain = n * stride <= group_domain(fabric, n, stride)
        if np.all(in_domain):  # every group in one scale-up domain: the measured bound's time alone (below)
            return _in_domain_all_reduce(xp, fabric, size, n, stride, algorithm, in_domain)
    return _all_reduce_parts(xp, fabric, size, n, stride, algorithm, sized)[0]


def _in_domain_all_reduce(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, algorithm: str,
                          in_domain: Any) -> Any:
    """`_all_reduce_parts`' sized time of groups that each lie in one scale-up domain (`in_domain` True throughout):
    there its `where` takes the measured bound for every group, so the sized ring, tree and NVLS candidates it
    would price and drop are not priced; the same operations on the same values otherwise (its ring bandwidth
    term, the unsized all-reduce, the bound), so the same bits."""
    bw, _ = _link(xp, fabric, n, stride)
    steps = xp.maximum(n - 1.0, 0.0)
    ring_bw = 2.0 * steps / xp.maximum(n, 1.0) * size / bw
    plain = _one_all_reduce(xp, fabric, size, n, stride, algorithm, False)
    # NCCL's LL ring line inside a domain (`network.nvlink_latency`)
    plain = _latency.all_reduce_plain(xp, fabric, n, stride, ring_bw, plain, algorithm)
    measured = xp.maximum(plain, _nvlink.in_domain_bound_xp(xp, fabric, size, n, stride, ring_bw))
    return xp.where(n > 1, xp.where(in_domain, measured, measured), 0.0)


def _all_reduce_parts(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, algorithm: str,
                      sized: bool) -> tuple[Any, Any, Any]:
    """(the all-reduce's time, its ring candidate's, its tree candidate's): the two before the measured in-domain
    bound, for `_all_reduce` to bound each where the group spans domains."""
    bw, lat = _link(xp, fabric, n, stride)
    lat = step_latency_xp(xp, fabric, lat, n, stride) if sized else lat
    steps = xp.maximum(n - 1.0, 0.0)
    ring_bw = 2.0 * steps / xp.maximum(n, 1.0) * size / bw
    ring_lat = _ring_latency(xp, fabric, n, stride, sized)
    ring = sized_time_xp(xp, fabric, ring_bw + 2.0 * steps * ring_lat, ring_bw, size, n, stride, False, sized)
    # the tree's own crossings of an oversubscribed tier, not the ring's one per channel (`tree_crossings`, hN70)
    tree_bw = tree_link_kept(fabric, n, stride, bw) if xp is _FLOATS else tree_link(fabric, n, stride, bw)
    tree_ab = 2.0 * size / tree_bw + _tree_latency(xp, fabric, n, stride, lat, sized)
    tree = sized_time_xp(xp, fabric, tree_ab, 2.0 * size / tree_bw, size, n, stride, False, sized)
    if sized and _efficiency.RING_TABLE_RING_ONLY:  # across domains the NIC table is a ring's (`RING_TABLE_RING_ONLY`)
        tree = xp.where(n * stride > group_domain(fabric, n, stride), tree_ab, tree)
    if algorithm == "auto":
        t = xp.minimum(xp.minimum(ring, tree), nvls_time_xp(xp, fabric, size, n, stride, sized))
    elif algorithm == "nvls":  # asked for by name: infinite where NVLS cannot run the group
        t = nvls_time_xp(xp, fabric, size, n, stride, sized)
    else:
        t = {"ring": ring, "tree": tree}[algorithm]
    if sized and _nvlink.MEASURED_NVLINK_ALL_REDUCE:
        # inside one scale-up domain the measured curve (`network.nvlink_all_reduce`) bounds the alpha-beta
        # candidates instead of the SimAI tables' NVLink column
        in_domain = n * stride <= group_domain(fabric, n, stride)
        # (no group in one domain: `where` keeps t, the bound unpriced)
        if xp is _FLOATS or scalar_path.anywhere(in_domain):
            plain = _one_all_reduce(xp, fabric, size, n, stride, algorithm, False)
            plain = _latency.all_reduce_plain(xp, fabric, n, stride, ring_bw, plain, algorithm)
            measured = xp.maximum(plain, _nvlink.in_domain_bound_xp(xp, fabric, size, n, stride, ring_bw))
            t = xp.where(in_domain, measured, t)
    return xp.where(n > 1, t, 0.0), ring, tree


def reduce_scatter_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                        stride: npt.ArrayLike, sized: bool = False) -> np.ndarray:
    """Seconds to reduce-scatter a `size_bytes` buffer (full, unsharded size) over the group (ring)."""
    return _evaluate(_reduce_scatter, fabric, size_bytes, n, stride, sized)


def _reduce_scatter(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    """`_one_reduce_scatter`, with a sized ring spanning scale-up domains bounded below by its NVLink legs at the
    in-domain rate (`spanning_bound`; the alpha-beta line keeps its own, as `_all_reduce`)."""
    if sized and xp is _NUMPY:  # (the ring and its bound in one pass)
        return _bounded(lambda s, m, d: _one_reduce_scatter(xp, fabric, s, m, d, sized), fabric, size, n, stride, True)
    t = _one_reduce_scatter(xp, fabric, size, n, stride, sized)
    if not sized:
        return t
    return spanning_bound(xp, fabric, t, size, n, stride, True,
                          lambda part, k: _one_reduce_scatter(xp, fabric, part, k, stride, sized))


def _one_reduce_scatter(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    bw, _ = _link(xp, fabric, n, stride)
    lat = _ring_latency(xp, fabric, n, stride, sized)
    steps = xp.maximum(n - 1.0, 0.0)
    bandwidth = steps / xp.maximum(n, 1.0) * size / bw
    ab = (_latency.alpha_beta(xp, fabric, n, stride, steps, bandwidth, steps * lat) if sized
          else bandwidth + steps * lat)
    t = sized_time_xp(xp, fabric, ab, bandwidth, size, n, stride, False, sized)
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
    rounds: np.ndarray = np.ceil(peer_steps(np.asarray(n, dtype=np.float64)) / A2A_PEERS_IN_FLIGHT)
    return rounds


def all_to_all_time(fabric: Fabric, size_bytes: npt.ArrayLike, n: npt.ArrayLike, stride: npt.ArrayLike,
                    sized: bool = False) -> np.ndarray:
    """Seconds for an all-to-all where each rank holds `size_bytes` spread evenly over the group."""
    return _evaluate(all_to_all_formula, fabric, size_bytes, n, stride, sized)


def all_to_all_formula(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    """`_one_all_to_all`, with a group spanning scale-up domains bounded below by the in-domain exchange of its
    local members (`spanning_bound`: its n - 1 send / receive pairs, one NCCL group call, include every pair of
    the k members in one domain, the same per-peer chunk over the same NVLink path)."""
    if xp is _NUMPY:  # (the exchange and its bound in one pass)
        return _bounded(lambda s, m, d: _one_all_to_all(xp, fabric, s, m, d, sized), fabric, size, n, stride, False)
    t = _one_all_to_all(xp, fabric, size, n, stride, sized)
    return spanning_bound(xp, fabric, t, size, n, stride, False,
                          lambda part, k: _one_all_to_all(xp, fabric, part, k, stride, sized))


def _one_all_to_all(xp: _Ops, fabric: Fabric, size: Any, n: Any, stride: Any, sized: bool) -> Any:
    bw, lat = _link(xp, fabric, n, stride, all_to_all=True)
    steps = xp.maximum(n - 1.0, 0.0)
    bandwidth = steps / xp.maximum(n, 1.0) * size / bw
    lat = step_latency_xp(xp, fabric, lat, n, stride) if sized else lat
    rounds = xp.ceil(steps / A2A_PEERS_IN_FLIGHT)  # `all_to_all_rounds`
    ab = (_latency.alpha_beta(xp, fabric, n, stride, steps, bandwidth, rounds * lat, True) if sized
          else bandwidth + rounds * lat)
    t = sized_time_xp(xp, fabric, ab, bandwidth, size, n, stride, True, sized)
    return xp.where(n > 1, t, 0.0)


def send_recv_time(fabric: Fabric, size_bytes: npt.ArrayLike, stride: npt.ArrayLike) -> np.ndarray:
    """Seconds to send `size_bytes` to the rank `stride` ranks away (pipeline neighbour)."""
    two = np.full(np.shape(stride), 2.0) if np.ndim(stride) else 2.0
    bw, lat, _ = group_link(fabric, two, stride)
    # a single point-to-point transfer drives one NIC, never k of them
    single = np.where(np.asarray(stride) * 2 <= group_domain(fabric, two, stride), bw,
                      np.minimum(bw, fabric.nic_bytes_per_s))
    seconds: np.ndarray = np.asarray(size_bytes, dtype=np.float64) / single + lat
    return seconds



def collective_time(fabric: Fabric, kind: str, size_bytes: npt.ArrayLike, n: npt.ArrayLike,
                    stride: npt.ArrayLike) -> np.ndarray:
    """Seconds of one collective named by kind ('all_gather', 'reduce_scatter', 'all_reduce', 'all_to_all'),
    the names `ops.layer.Collective` records use, so training and serving price them through one table."""
    t = COLLECTIVE_TIMES[kind](fabric, size_bytes, n, stride, sized=True)
    if fabric.sharp and kind == "all_reduce":  # NCCL CollNet enabled on SHARP switches (`network.sharp`)
        return np.asarray(np.minimum(t, sharp_times(fabric, size_bytes, n, stride)), dtype=np.float64)
    return t


COLLECTIVE_TIMES: dict[str, Callable[..., np.ndarray]] = {
    "all_gather": all_gather_time, "reduce_scatter": reduce_scatter_time,
    "all_reduce": all_reduce_time, "all_to_all": all_to_all_time,
}
