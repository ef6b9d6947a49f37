"""The latency of an NCCL ring over a group of ranks: the sum of its hops' latencies, each at its own link.

NCCL's ring is a pipeline, not a lockstep (`fabric.PIPELINED_RING_LATENCY` says why, from NCCL's tuning model in
src/graph/tuning.cc, and switches it off for measuring): a ring's 2(n - 1) steps pay the mean of its n hops'
latencies, NVLink hops at `fabric.SCALE_UP_LATENCY_S` and a hop that leaves a tier's domain that tier's round trip
(`Fabric.tier_round_trip_latency_s`). Split from network/fabric.py (hE74 grew it past 400 lines).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from infraplan.network import fabric as _fabric
from infraplan.network.fabric import SCALE_UP_LATENCY_S, Fabric, group_domain, group_link


def ring_latency(fabric: Fabric, n: npt.ArrayLike, stride: npt.ArrayLike,
                 network_floor_s: float = 0.0) -> np.ndarray:
    """Mean latency per step of a ring over groups of `n` ranks `stride` apart: the sum of its n hop latencies over n.

    Members are ordered domain by domain (NCCL orders a ring's nodes so; ring c enters a domain at member c and
    leaves from member c - 1), so as many hops leave a tier's domains as the group's n x stride ranks touch of them
    (at most n): n s / D_g leave the scale-up domain (`group_domain`), the others stay on NVLink
    (`fabric.SCALE_UP_LATENCY_S`); a hop that leaves tier t - 1's domain but not tier t's pays tier t's round trip
    (`tier_round_trip_latency_s`, as `group_link` prices a group whose highest crossed tier it is).
    `network_floor_s` floors each network hop (NCCL's network step latency in the sized models). A ring of two, or
    one whose every hop crosses the same tier, keeps `group_link`'s latency; a ring inside one domain
    `SCALE_UP_LATENCY_S`."""
    return _ring_latency(fabric, n, stride, network_floor_s, _fabric.PIPELINED_RING_LATENCY)


def _ring_latency(fabric: Fabric, n: npt.ArrayLike, stride: npt.ArrayLike, network_floor_s: float,
                  pipelined: bool) -> np.ndarray:
    """`ring_latency` with `PIPELINED_RING_LATENCY` at `pipelined`."""
    n = np.asarray(n, dtype=np.float64)
    stride = np.asarray(stride, dtype=np.float64)
    extent = n * stride
    domain = group_domain(fabric, n, stride)
    inside = extent <= domain
    members = np.maximum(n, 1.0)
    trips = fabric.tier_round_trip_latency_s
    if not pipelined:
        _, lat, _ = group_link(fabric, n, stride, False)
        floored = np.maximum(lat, network_floor_s)
        return np.asarray(np.where(inside, SCALE_UP_LATENCY_S, floored), dtype=np.float64)
    crossing = np.where(inside, 0.0, np.minimum(np.ceil(extent / domain), members))
    total = (members - crossing) * SCALE_UP_LATENCY_S
    for size, trip in zip(fabric.tier_sizes, trips, strict=True):
        leaving = np.where(extent > size, np.minimum(np.ceil(extent / size), crossing), 0.0)
        total = total + (crossing - leaving) * max(trip, network_floor_s)
        crossing = leaving
    total = total + crossing * max(trips[-1], network_floor_s)  # past the top tier (a fabric too small for n)
    return np.asarray(np.where(inside, SCALE_UP_LATENCY_S, total / members), dtype=np.float64)


@lru_cache(maxsize=4096)
def ring_latency_one(fabric: Fabric, n: float, stride: float, network_floor_s: float, pipelined: bool) -> float:
    """`ring_latency` of one group shape, as a float (the same element-wise operations, so the same value), with
    `PIPELINED_RING_LATENCY` at `pipelined`: callers pass the switch's current value, so the cache keys on it (a
    value kept with the switch on was read back with it off; hX, session 36)."""
    return float(_ring_latency(fabric, np.array(float(n)), np.array(float(stride)), network_floor_s, pipelined))
