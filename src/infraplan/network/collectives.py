"""Alpha-beta collective costs, priced by the tier of the fabric a group spans: the public entry points.

Ring and tree all-reduce (`auto` the faster, NVLS inside an NVSwitch domain where it runs), ring reduce-scatter,
all-gather and all-to-all, send/receive, on arrays over groups: `network.collective_formulas` (importable from
here, as are the public names of `network.fabric`, the links a group spans, and `network.collective_efficiency`,
the message-size efficiency and NCCL's network step latency). The `collective` command adds the two-level
(hierarchical) algorithm (`collective_schedules`) and serving stacks the one-shot / two-shot custom all-reduce over
NVLink (`collective_algorithms.custom_all_reduce_time`).

Speed (issue 18): the float entries of the one-plan path (`collective_seconds`, `send_recv_seconds`) spell the ring
formulas out on floats (`_reduce_scatter_seconds`, `_all_reduce_seconds`: `_FLOATS`'s max and min inline) and keep
group links and each ring group's terms (its link, steps and message-efficiency columns) by the fabric's identity
(`_link_one`, `_ring_group`), and the time of each priced message until the one-plan memo forgets its rows
(`collective_seconds`); tests/training/test_single_estimate_fast_paths.py and test_single_estimate_twins.py hold
them to the array bits.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from infraplan import scalar_path
from infraplan.identity_memo import IdentityMemo
from infraplan.network import collective_efficiency as _efficiency
from infraplan.network import collective_formulas as _formulas
from infraplan.network import fabric as _fabric
from infraplan.network import nvlink_all_reduce as _nvlink
from infraplan.network import nvlink_latency as _latency
from infraplan.network import sharp as _sharp
from infraplan.network import simai_nccl_tables as _links
from infraplan.network.collective_efficiency import NCCL_NET_STEP_LATENCY_S as NCCL_NET_STEP_LATENCY_S
from infraplan.network.collective_efficiency import message_efficiency as message_efficiency
from infraplan.network.collective_efficiency import sized_time as sized_time
from infraplan.network.collective_efficiency import step_latency as step_latency
from infraplan.network.collective_formulas import A2A_PEERS_IN_FLIGHT as A2A_PEERS_IN_FLIGHT
from infraplan.network.collective_formulas import COLLECTIVE_TIMES as COLLECTIVE_TIMES
from infraplan.network.collective_formulas import all_gather_time as all_gather_time
from infraplan.network.collective_formulas import all_reduce_time as all_reduce_time
from infraplan.network.collective_formulas import all_to_all_formula
from infraplan.network.collective_formulas import all_to_all_rounds as all_to_all_rounds
from infraplan.network.collective_formulas import all_to_all_time as all_to_all_time
from infraplan.network.collective_formulas import collective_time as collective_time
from infraplan.network.collective_formulas import reduce_scatter_time as reduce_scatter_time
from infraplan.network.collective_formulas import send_recv_time as send_recv_time
from infraplan.network.fabric import SCALE_UP_LATENCY_S as SCALE_UP_LATENCY_S
from infraplan.network.fabric import Fabric as Fabric
from infraplan.network.fabric import group_domain as group_domain
from infraplan.network.fabric import group_link as group_link
from infraplan.network.fabric import group_link_one
from infraplan.network.fabric import uplink_occupancy as uplink_occupancy
from infraplan.network.nccl_trees import forget_tree_latencies, tree_latency_one
from infraplan.network.nvlink_all_reduce import NVLS_LATENCY_S as NVLS_LATENCY_S
from infraplan.network.placement import spanning_bound, spanning_members
from infraplan.network.ring_latency import ring_latency_one
from infraplan.network.sharp import sharp_time
from infraplan.network.tree_crossings import bottleneck_tier as bottleneck_tier
from infraplan.network.tree_crossings import forget_tree_links, tree_link_kept

__all__ = [
    "A2A_PEERS_IN_FLIGHT", "COLLECTIVE_TIMES", "NVLS_LATENCY_S",
    "NCCL_NET_STEP_LATENCY_S", "SCALE_UP_LATENCY_S", "Fabric", "all_gather_time", "all_reduce_time",
    "all_to_all_rounds", "all_to_all_time", "bottleneck_tier", "collective_seconds", "collective_time",
    "group_link", "message_efficiency", "reduce_scatter_time",
    "send_recv_seconds", "send_recv_time", "sized_time", "step_latency", "uplink_occupancy",
]


_NUMPY = scalar_path.NUMPY_OPS
_FLOATS = scalar_path.FLOAT_OPS


def _link_one(fabric: Fabric, n: float, stride: float) -> tuple[float, float]:
    """`group_link_one(fabric, n, stride, False)`, kept by the fabric's identity (its lru_cache hashes the whole
    frozen fabric on every call; this is what a single estimate's few group shapes need)."""
    kept = _LINKS.get(fabric, (n, stride))
    if kept is not None:
        return kept
    return _LINKS.put(fabric, (n, stride), group_link_one(fabric, n, stride, False))


_LINKS_KEPT = 4096
_LINKS: IdentityMemo[tuple[float, float]] = IdentityMemo(_LINKS_KEPT)  # (bandwidth, latency) by fabric, n, stride


def _kept_latency(memo: IdentityMemo[float], latency: Callable[[Fabric, float, float, float], float],
                  fabric: Fabric, n: float, stride: float) -> float:
    """`latency(fabric, n, stride, floor)` at NCCL's current network step latency `floor`, kept in `memo` by the
    fabric's identity as `_link_one` keeps links (the lru_cache behind `latency` hashes the whole fabric)."""
    floor = _efficiency.NCCL_NET_STEP_LATENCY_S
    kept = memo.get(fabric, (n, stride, floor))
    if kept is not None:
        return kept
    return memo.put(fabric, (n, stride, floor), latency(fabric, n, stride, floor))


def _ring_latency_one(fabric: Fabric, n: float, stride: float) -> float:
    """`collective_formulas._ring_latency(_FLOATS, ..., sized=True)`: `ring_latency_one`, kept with the network
    step latency and `fabric.PIPELINED_RING_LATENCY` it read."""
    floor, pipelined = _efficiency.NCCL_NET_STEP_LATENCY_S, _fabric.PIPELINED_RING_LATENCY
    kept = _RING_LATENCIES.get(fabric, (n, stride, floor, pipelined))
    if kept is not None:
        return kept
    return _RING_LATENCIES.put(fabric, (n, stride, floor, pipelined),
                               ring_latency_one(fabric, n, stride, floor, pipelined))


def _tree_latency_one(fabric: Fabric, n: float, stride: float) -> float:
    """`collective_formulas._tree_latency(_FLOATS, ..., sized=True)` of a group spanning scale-up domains:
    `tree_latency_one`, kept."""
    return _kept_latency(_TREE_LATENCIES, tree_latency_one, fabric, n, stride)


_RING_LATENCIES: IdentityMemo[float] = IdentityMemo(_LINKS_KEPT)
_TREE_LATENCIES: IdentityMemo[float] = IdentityMemo(_LINKS_KEPT)


def forget_float_values() -> None:
    """Forget the float path's kept group links, ring groups, collective times, tables and last message efficiency
    (`_link_one` and `fabric.group_link_one`, `_ring_group`, `collective_seconds`,
    `collective_efficiency.forget_float_values`): for tests that
    patch the fabric physics."""
    _LINKS.clear()
    _RING_LATENCIES.clear()
    _TREE_LATENCIES.clear()
    group_link_one.cache_clear()
    ring_latency_one.cache_clear()
    forget_tree_latencies()
    forget_tree_links()
    _GROUPS.clear()
    _SECONDS.clear()
    _efficiency.forget_float_values()


# a ring group's float terms: (bandwidth, link latency, it leaves the scale-up domain, ring steps n - 1 (at least
# 0), members max(n, 1), 2 ceil(log2 members) tree latency steps, its `group_efficiency`, the tree's bandwidth:
# the ring's, or where it spans domains its own through oversubscribed tiers, `tree_crossings.tree_link_kept`)
_Group = tuple[float, float, bool, float, float, float, _efficiency.GroupEfficiency, float]
_GROUPS: IdentityMemo[_Group] = IdentityMemo(_LINKS_KEPT)


def _ring_group(fabric: Fabric, n: float, stride: float) -> _Group:
    """The terms of a ring collective over `n` ranks `stride` apart that depend on the group alone, kept by the
    fabric's identity and the group's numbers (a single estimate prices a few messages on each of a few groups;
    the entry holds the fabric, so its id is not reused while it is kept). The network step latency is not kept:
    each formula floors the link latency at its current value on every call (`step_latency_xp`)."""
    key = (n, stride, _efficiency.RING_TABLE_PER_STEP, _links.RING_TABLE_STEP_LINKS)
    kept = _GROUPS.get(fabric, key)
    if kept is not None:
        return kept
    bw, lat = _link_one(fabric, n, stride)
    steps = n - 1.0
    members = 1.0 if n < 1.0 else n
    tree_steps = 2.0 * float(math.ceil(float(np.log2(members))))
    crosses = n * stride > group_domain(fabric, n, stride)
    group = (bw, lat, crosses, 0.0 if steps < 0.0 else steps, members, tree_steps,
             _efficiency.group_efficiency(fabric, n, stride, False),
             tree_link_kept(fabric, n, stride, bw) if crosses else bw)
    return _GROUPS.put(fabric, key, group)


def _spanned_seconds(one: Callable[[Fabric, float, float, float], float], fabric: Fabric, size: float, n: float,
                     stride: float) -> float:
    """`one(fabric, size, n, stride)`, bounded below where the group spans scale-up domains
    (`placement.spanning_bound`, whose `in_domain` prices the members' exchange with `one` too)."""
    t = one(fabric, size, n, stride)
    if not n * stride > group_domain(fabric, n, stride):
        return t
    return float(spanning_bound(_FLOATS, fabric, t, size, n, stride, True,
                                lambda part, k: one(fabric, part, k, stride)))


def _reduce_scatter_seconds(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """`_reduce_scatter(_FLOATS, ..., sized=True)`: `_one_reduce_scatter_seconds`, spanning-bounded."""
    return _spanned_seconds(_one_reduce_scatter_seconds, fabric, size, n, stride)


def _one_reduce_scatter_seconds(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """`_one_reduce_scatter(_FLOATS, ..., sized=True)` spelled out on floats: the same operations in the same order,
    `_FLOATS`'s max and min written inline (`max(a, b)` is `b if b > a else a`), the group's terms kept
    (`_ring_group`); a group of one rank costs nothing (the formula's `where(n > 1, t, 0)`)."""
    if not n > 1:
        return 0.0
    bw, _, crosses, steps, members, _, group, _ = _ring_group(fabric, n, stride)
    # `_ring_latency`: the ring's mean hop latency, network hops floored at NCCL's step latency
    lat = _ring_latency_one(fabric, n, stride)
    bandwidth = steps / members * size / bw
    alpha_beta = bandwidth + steps * lat  # across domains; inside one, NCCL's LL line may be faster (`nvlink_latency`)
    if not crosses:
        alpha_beta = _latency.alpha_beta(_FLOATS, fabric, n, stride, steps, bandwidth, steps * lat, known_inside=True)
    bound = bandwidth / _efficiency.efficiency_at(group, size)  # `sized_time_xp`
    return bound if bound > alpha_beta else alpha_beta


def _all_reduce_seconds(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """`_all_reduce(_FLOATS, ..., "auto", sized=True)`: `_one_all_reduce_seconds`, its ring and tree each
    spanning-bounded by its own rule where the group spans scale-up domains, then the faster."""
    if not (n > 1 and n * stride > group_domain(fabric, n, stride)):
        return _one_all_reduce_seconds(fabric, size, n, stride)
    ring, tree, _, _ = _ring_and_tree_seconds(fabric, size, n, stride)
    if _formulas.AUTO_NAMED_LEGS:  # each bounded by its own algorithm's leg (`collective_formulas.auto_legs`, hF66)
        local, spans = spanning_members(_FLOATS, fabric, n, stride)
        if not spans:
            return tree if tree < ring else ring
        ring_leg, tree_leg = _formulas.auto_legs(_FLOATS, fabric, size, n, local, stride, True)
        bound = (n - 1.0) / local * ring_leg
        ring = bound if bound > ring else ring
        tree = tree_leg if tree_leg > tree else tree
        return tree if tree < ring else ring

    def inside(part: float, k: float) -> float:
        return _one_all_reduce_seconds(fabric, part, k, stride)

    # a bound only raises its candidate: bound the faster first; the other's bound matters only if it is faster
    # still than the bounded one (the same min as the array path's, one in-domain price fewer most of the time)
    if tree < ring:
        tree = float(spanning_bound(_FLOATS, fabric, tree, size, n, stride, True, inside, whole_buffer=True))
        if not ring < tree:
            return tree
        ring = float(spanning_bound(_FLOATS, fabric, ring, size, n, stride, True, inside))
    else:
        ring = float(spanning_bound(_FLOATS, fabric, ring, size, n, stride, True, inside))
        if not tree < ring:
            return ring
        tree = float(spanning_bound(_FLOATS, fabric, tree, size, n, stride, True, inside, whole_buffer=True))
    return tree if tree < ring else ring


def _one_all_reduce_seconds(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """`_one_all_reduce(_FLOATS, ..., "auto", sized=True)` spelled out on floats, as `_one_reduce_scatter_seconds`
    (the ring, the tree and NVLS share the message's efficiency)."""
    if not n > 1:
        return 0.0
    bw, lat, crosses, steps, members, tree_steps, _, _ = _ring_group(fabric, n, stride)
    nvls_bw = fabric.nvls_bytes_per_s
    if not crosses and _nvlink.MEASURED_NVLINK_ALL_REDUCE:
        # inside the domain (`_all_reduce`): the alpha-beta candidates, bounded by the measured curve
        ring_bw = 2.0 * steps / members * size / bw
        tree_bw = 2.0 * size / bw
        plain = ring_bw + 2.0 * steps * lat
        alpha_beta = tree_bw + tree_steps * lat
        plain = alpha_beta if alpha_beta < plain else plain
        if nvls_bw > 0.0:
            alpha_beta = (1.0 + 1.0 / n) * size / nvls_bw + NVLS_LATENCY_S
            plain = alpha_beta if alpha_beta < plain else plain
        # (n > 1 and the group inside one domain: both in-domain tests' True)
        plain = float(_latency.all_reduce_plain(_FLOATS, fabric, n, stride, ring_bw, plain, known_inside=True))
        measured = _nvlink.in_domain_bound_xp(_FLOATS, fabric, size, n, stride, ring_bw, known_inside=True)
        return measured if measured > plain else plain
    ring, tree, lat, efficiency = _ring_and_tree_seconds(fabric, size, n, stride)
    ring = tree if tree < ring else ring
    if nvls_bw > 0.0 and not crosses:  # `nvls_time_xp`
        bandwidth = (1.0 + 1.0 / n) * size / nvls_bw
        alpha_beta = bandwidth + NVLS_LATENCY_S
        bound = bandwidth / efficiency
        nvls = bound if bound > alpha_beta else alpha_beta
        return nvls if nvls < ring else ring
    return ring


def _ring_and_tree_seconds(fabric: Fabric, size: float, n: float, stride: float) -> tuple[float, float, float, float]:
    """(ring, tree, step latency, message efficiency) of `_all_reduce_parts(_FLOATS, ..., sized=True)` outside the
    measured in-domain curve, spelled out on floats as `_one_all_reduce_seconds` (n > 1)."""
    bw, lat, crosses, steps, members, tree_steps, group, tree_link = _ring_group(fabric, n, stride)
    if crosses:
        step_s = _efficiency.NCCL_NET_STEP_LATENCY_S
        lat = step_s if lat < step_s else lat
    ring_bw = 2.0 * steps / members * size / bw
    # the tree's own crossings of an oversubscribed tier (`collective_formulas._all_reduce_parts`, hN70)
    tree_bw = 2.0 * size / tree_link
    efficiency = _efficiency.efficiency_at(group, size)
    alpha_beta = ring_bw + 2.0 * steps * _ring_latency_one(fabric, n, stride)
    bound = ring_bw / efficiency
    ring = bound if bound > alpha_beta else alpha_beta
    # `collective_formulas._tree_latency`: NCCL's pipelined tree for a group spanning domains
    tree_lat = _tree_latency_one(fabric, n, stride) if crosses and _fabric.PIPELINED_TREE_LATENCY \
        else tree_steps * lat
    alpha_beta = tree_bw + tree_lat
    if crosses and _efficiency.RING_TABLE_RING_ONLY:  # the NIC table is a ring's: the tree keeps its alpha-beta
        return ring, alpha_beta, lat, efficiency
    bound = tree_bw / efficiency
    tree = bound if bound > alpha_beta else alpha_beta
    return ring, tree, lat, efficiency


def _all_to_all_seconds(fabric: Fabric, size: float, n: float, stride: float) -> float:
    """`all_to_all_formula(_FLOATS, ..., sized=True)`."""
    return float(all_to_all_formula(_FLOATS, fabric, size, n, stride, True))


# `COLLECTIVE_TIMES` on one group's floats: the sized times, all-reduce by the "auto" algorithm
_FLOAT_FORMULAS: dict[str, Callable[[Fabric, float, float, float], float]] = {
    "all_gather": _reduce_scatter_seconds, "reduce_scatter": _reduce_scatter_seconds,
    "all_reduce": _all_reduce_seconds, "all_to_all": _all_to_all_seconds,
}


def collective_seconds(fabric: Fabric, kind: str, size_bytes: float, n: float, stride: float) -> float:
    """`collective_time` of one group given as plain Python numbers, as a float: the same formula on floats,
    without `_evaluate`'s element checks and array wrapping (a single estimate's plan, issue 18).

    The value of a formula's (size, group, stride) is kept with the network step latency and the switches it read
    (`_SECONDS`, by the fabric's identity; `fabric.PIPELINED_RING_LATENCY` / `PIPELINED_TREE_LATENCY` among them,
    hX session 36): a single estimate prices one message several times (a sequence-parallel layer's
    all-gather and reduce-scatter of one activation, and the LM head's and embedding's of the same activation
    share the ring formula and its inputs)."""
    formula = _FLOAT_FORMULAS[kind]
    size, members, spacing = float(size_bytes), float(n), float(stride)
    key = (formula, size, members, spacing, collective_switches())  # (the switches nested: no list built)
    kept = _SECONDS.get(fabric, key)
    if kept is not None:
        return kept
    seconds = formula(fabric, size, members, spacing)
    if fabric.sharp and kind == "all_reduce":  # NCCL CollNet enabled on SHARP switches (`network.sharp`)
        sharp = sharp_time(fabric, size, members, spacing)
        seconds = sharp if sharp < seconds else seconds
    return _SECONDS.put(fabric, key, seconds)


_SECONDS_KEPT = 256
_SECONDS: IdentityMemo[float] = IdentityMemo(_SECONDS_KEPT)


def collective_switches() -> tuple[object, ...]:
    """The module switches the float collective formulas read on each call, as `collective_seconds` keys its kept
    values on them (the network step latency, the measured NVLink curve, the pipelined ring and tree latencies): a
    value kept by a caller of `collective_seconds` with these in its key is never served across a patched switch."""
    return (_efficiency.NCCL_NET_STEP_LATENCY_S, _nvlink.MEASURED_NVLINK_ALL_REDUCE, _nvlink.STREAMED_TAIL,
            _fabric.PIPELINED_RING_LATENCY,
            _fabric.PIPELINED_TREE_LATENCY, _efficiency.RING_TABLE_RING_ONLY, _efficiency.RING_TABLE_PER_STEP,
            _links.RING_TABLE_STEP_LINKS, _sharp.SHARP_TABLE_PER_STEP, _latency.IN_DOMAIN_LL_LATENCY,
            _latency.ALL_TO_ALL_LINE)


def forget_collective_seconds() -> None:
    """Forget the kept collective times (`collective_seconds`): values of messages, not of the fabric, so the
    one-plan memo forgets them with its rows (`training.one_plan_memo.clear_one_plan_memo`)."""
    _SECONDS.clear()


def send_recv_seconds(fabric: Fabric, size_bytes: float, stride: float) -> float:
    """`send_recv_time` of plain Python numbers, as a float: the same operations on the group's float link."""
    bw, lat = _link_one(fabric, 2.0, float(stride))
    single = bw if stride * 2 <= group_domain(fabric, 2.0, stride) else min(bw, fabric.nic_bytes_per_s)
    return float(size_bytes) / single + lat
