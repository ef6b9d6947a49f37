"""`collective send-recv` on the analytical fabric: its pairs counted on each link class, not by a group's share (hF72).

The command pairs rank i with rank i + n/2 (both directions, `flow_schedules.flow_phases`), so its ranks send a
permutation, all at once. Where the fabric is rail-optimised (`Fabric.rail_of_gpu`), a byte leaves its node through
the NIC on its destination's rail (NCCL's PXN, on by default for point-to-point since NCCL 2.12: NCCL_PXN_DISABLE
0, NCCL_P2P_PXN_LEVEL 2 "always use PXN", NCCL's environment-variable documentation, recalled, not re-read here;
`routing.route` sends it so)
and stays in that rail's leaves and planes up to where it turns. So each link class carries a count of the pairs:

* a NIC: the senders of its node whose partner sits on its rail (two GPUs of one node with partners on one rail
  share that NIC), and its one receiver;
* a tier with bandwidth oversubscription o > 1, one rail of one domain (`Fabric.rail_tiers`; the whole domain above
  them): the pairs leaving the domain on that rail, over that rail's uplinks (its GPUs x NIC / o), and those arriving.

The time is the busiest link's bytes over its rate (the even spread of adaptive routing; the flow model at many
flows a pair reaches it; `collective` adds ECMP's expected collisions, `network.ecmp_collisions`) plus the hop
latency `collectives.send_recv_time` prices. Before,
`fabric.uplink_occupancy` priced the pairs by a share of the tier (hI56, hB57, hC71): a 512-GPU DGX H100 copy at
4:1 leaves, 192 GPUs spread, 4.29 ms where 16 of each rail leaf's 32 GPUs leave it (2.86 ms; flow 3.00 ms at 64
flows a pair), and 260 GPUs packed, 1.43 ms where the node holding ranks 128-135 sends two partners' bytes through
each of NICs 2 and 3 (2.86 ms; flow 2.86 ms). Fabrics without rail planes (unrailed leaves, rail-only) keep the
shares (`send_recv_seconds_alone` returns None there).
"""

from __future__ import annotations

import numpy as np

from infraplan.network.collectives import Fabric, send_recv_time
from infraplan.network.ecmp_tiers import expected_slowest, hashed_over_even, slowest_of_tiers

PAIR_LOADS = True
"""hF72: `collective send-recv` counts its pairs on each NIC and rail uplink (`send_recv_seconds_alone`); False: the
group-share rules of `fabric.uplink_occupancy` (for measuring the change toggled)."""


def send_recv_pairs(n: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """(senders, receivers) of `collective send-recv` over `n` GPUs `stride` apart: rank i with rank i + n/2, both
    ways (`flow_schedules.flow_phases`)."""
    members = np.arange(n, dtype=np.int64) * stride
    return members, np.roll(members, -(n // 2))


def busiest_pair_link(fabric: Fabric, src: np.ndarray, dst: np.ndarray) -> tuple[float, str]:
    """Seconds per byte of the busiest link the pairs src[i] -> dst[i] load at once (each pair one stream, perfect
    ECMP balance), and which: 'scale-up', 'nic' or the tier's name. The fabric must have rail planes."""
    per = fabric.rail_nics_per_gpu
    rails = np.asarray(fabric.rail_of_gpu, dtype=np.int64).reshape(-1, per)  # each GPU index's NICs' rails
    gpn, count = rails.shape[0], int(rails.max()) + 1
    domain = fabric.scale_up_domain
    worst, name = 0.0, "scale-up"
    hashed: list[tuple[tuple[int, int, float, int], ...]] = []  # each hashed tier's (balls, bins, s a ball, pools)
    inside = src // domain == dst // domain
    if inside.any():
        worst = 1.0 / fabric.scale_up_bytes_per_s
    s, d = src[~inside], dst[~inside]
    if s.size == 0:
        return worst, name
    # a sender's bytes leave through the NICs of its partner's GPU index on its own node (PXN); a receiver takes one
    nic_load = max(int(np.bincount((s // gpn) * gpn + d % gpn).max()), 1)
    if nic_load / fabric.nic_bytes_per_s > worst:
        worst, name = nic_load / fabric.nic_bytes_per_s, "nic"
    known = worst  # seconds a byte of the links no hash touches
    entries = np.bincount(rails.ravel(), minlength=count).astype(np.float64)  # NICs of a node on each rail
    for i, (size, over, tier) in enumerate(zip(fabric.tier_sizes, fabric.tier_oversubscription, fabric.tier_names,
                                               strict=True)):
        leave = s // size != d // size
        if (over <= 1.0 and not fabric.ecmp_pools) or not leave.any():
            continue
        if i < fabric.rail_tiers:  # each rail of a domain climbs through its own uplinks, its NICs' share of them
            hit = rails[d[leave] % gpn].ravel()  # the rails a leaving pair's bytes ride, 1 / per of them on each
            room = entries * (size // gpn)  # a domain's NICs on each rail
            loads = [np.bincount(np.repeat(blocks, per) * count + hit, minlength=(int(blocks.max()) + 1) * count)
                     .reshape(-1, count) for blocks in (s[leave] // size, d[leave] // size)]  # leaving, arriving
            ratio = max(float(np.max(load / room)) for load in loads)
            pools = rail_pools(fabric, i, loads[0], room) if fabric.ecmp_pools else None  # the climbs hash
        else:
            ratio = float(max(np.bincount(s[leave] // size).max(), np.bincount(d[leave] // size).max())) / size
            pools = None
        seconds = ratio * over / fabric.nic_bytes_per_s
        if pools is None and fabric.ecmp_pools:
            throw = pairs_thrown(fabric, i, ratio, np.unique(s[leave] // size).size)
            pools = ((throw[0], throw[1], seconds * throw[1] / throw[0], throw[2]),) if throw[1] > 1 else None
        if pools:  # hashed (ECMP): the expected busiest uplink of its pools (hE74), each pool its own flows (hE2 75)
            hashed.append(pools)
            one = len(pools) == 1  # every pool alike: hE74's factor on the even line, bit for bit
            seconds = seconds * hashed_over_even(*pools[0][:2], pools[0][3]) if one else max(
                seconds, expected_slowest(list(pools), 0.0))
        else:
            known = max(known, seconds)
        if seconds > worst:
            worst, name = seconds, tier
    # tiers hashed at once: the expected slowest of all their busiest uplinks, not the slower expectation (hE75)
    slowest = slowest_of_tiers(tuple(hashed), known) if hashed else None
    return (worst, name) if slowest is None else (slowest, name)


def pairs_thrown(fabric: Fabric, tier: int, busy: float, domains: int) -> tuple[int, int, int]:
    """(balls, bins, pools) of pairs that leave `domains` domains of tier `tier` with `busy` of the busiest pool's
    GPUs sending out (`busy` x its GPUs x a pair's flows thrown on its bins, each domain's pools drawing): their
    factor is `ecmp_tiers.hashed_over_even` of it."""
    bins, gpus = fabric.ecmp_pools[tier]
    size = fabric.tier_sizes[tier]
    return max(round(gpus * busy * fabric.ecmp_flows), 1), bins, max(round(domains * size / gpus), 1)


def rail_pools(fabric: Fabric, tier: int, climb: np.ndarray, room: np.ndarray) -> tuple[tuple[int, int, float, int],
                                                                                          ...] | None:
    """(balls, bins, seconds a ball, pools) of the pools of rail tier `tier` the pairs climb through, each pool with
    its own flows (hE2 75): `climb[domain, rail]` the NIC entries of the pairs leaving each domain on each rail (a
    pair's `rail_nics_per_gpu` entries, `ecmp_flows` / entries flows on each), `room` each rail's NICs in a domain.
    A rail's NICs in a domain fill whole pools of the tier (`ecmp_tiers.pool_geometry`: bins fed by `gpus` x NICs a
    GPU), its flows spread over them; a spread send-recv loads only its members' rails, so the idle rails' pools
    throw nothing (hI75's L04: gaudi2-cluster 64 GPUs spread priced 1.477x the even line over 96 pools, where its
    12 flows climb 16 rail-0 leaves: 1.254x; the flow model's mean 1.259x). None where a rail's NICs do not fill
    whole pools (`pairs_thrown` prices it)."""
    bins, gpus = fabric.ecmp_pools[tier]
    if bins < 2:
        return None
    per = fabric.rail_nics_per_gpu
    whole = room / (gpus * per)  # pools on each rail of a domain
    if np.any(np.abs(whole - np.rint(whole)) > 1e-9) or np.any(whole < 1.0):
        return None
    balls = np.rint(climb * (fabric.ecmp_flows / per) / np.rint(whole)).astype(np.int64)  # each pool's flows
    counts = np.bincount(balls.ravel(), weights=np.broadcast_to(np.rint(whole), balls.shape).ravel())
    ball_s = fabric.tier_oversubscription[tier] * bins / (fabric.ecmp_flows * gpus * fabric.nic_bytes_per_s)
    return tuple((b, bins, ball_s, int(c)) for b, c in enumerate(counts.astype(np.int64)) if b > 0 and c > 0)


def send_recv_seconds_alone(fabric: Fabric, size_bytes: float, n: int, stride: int) -> tuple[float, str] | None:
    """Seconds of `collective send-recv` (its n/2 pairs at once, alone on the fabric) and its binding link, counted
    pair by pair (`busiest_pair_link`) plus `send_recv_time`'s hop latency; None where the fabric has no rail planes
    (`Fabric.rail_of_gpu` empty, or rail-only) or `PAIR_LOADS` is off: `send_recv_time`'s shares price it there."""
    if not PAIR_LOADS or fabric.rail_only or not fabric.rail_of_gpu or n < 2:
        return None
    src, dst = send_recv_pairs(n, stride)
    per_byte, name = busiest_pair_link(fabric, src, dst)
    latency = float(send_recv_time(fabric, 0.0, float(stride * (n // 2))))
    return size_bytes * per_byte + latency, name
