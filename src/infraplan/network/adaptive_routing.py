"""Adaptive routing in the flow model: each flow spread over every equal-cost uplink, as one pooled link (hF73).

A fabric's `load_balancing` (`catalog.schemas.Network.balancing`) says how its switches spread flows:

* `ecmp`: a hash per flow (per QP) picks one path and keeps it (`routing.route`'s seeded draws): collisions are
  real where few flows a pair hash onto many uplinks (Gangidi et al., "RDMA over Ethernet for Distributed AI
  Training at Meta Scale", SIGCOMM 2024: low-entropy collective traffic under ECMP, hence E-ECMP hashing the QP
  and more QPs a connection; Llama 3 paper Sec. 3.3.1: 16 flows a GPU pair);
* `adaptive`: the switch sends each packet out of the least loaded of its equal-cost ports (InfiniBand adaptive
  routing, NVIDIA Quantum / Quantum-2; NCCL marks its IB traffic for it, NCCL_IB_ADAPTIVE_ROUTING, default 1 on
  InfiniBand and 0 on RoCE since NCCL 2.16, NCCL's environment-variable documentation, recalled, not re-read here).
  In the fluid limit a flow splits evenly over the uplinks it may take, which is what the analytical model assumes
  (a tier priced by its uplinks' total, `network.tier_bandwidth`).

`pooled_links` builds that limit on the flow model's links. At tier t a flow is spread over a set S of the tier
below's switches (S_0: its leaf; S_t: the switches of every plane S_{t-1} climbs into), and so evenly over all the
uplinks of S. Those uplinks (and, down, the links into the destination's set) form a pool: every flow that loads
one member loads all of them alike, so max-min fair sharing over the pool as one link of their summed capacity is
exact for the even split. `routing.route` sends every flow of a pooled table over its pools' representatives (the
first switch of each plane); the other members carry their pool's capacity too (`flow_explain.path_share` reads the
class's slowest link) but no flow. Failed links (`routing.fail_links`) leave their pool its healthy capacity:
adaptive routing steers round them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from infraplan.errors import InputError
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.routing import LinkTable


def _spray_sets(topo: ClosTopology) -> list[list[frozenset[int]]]:
    """Per tier t below the top, the distinct sets S_t (switch indices within a domain) a flow from a leaf is spread
    over: S_0 = its leaf, S_t the switches of every plane of tier t that S_{t-1} climbs into."""
    tiers = topo.tiers
    current = [frozenset({leaf}) for leaf in range(tiers[0].switches_per_domain)]
    sets = [current]
    for t in range(1, len(tiers) - 1):
        tier = tiers[t]
        per = tier.switches_per_plane
        nxt = []
        for s in current:
            planes = {int(p) for p in tier.plane_of(np.asarray(sorted(s)))}
            nxt.append(frozenset(u for p in planes for u in range(p * per, (p + 1) * per)))
        current = nxt
        sets.append(current)
    return [list(dict.fromkeys(level)) for level in sets]


def _tier_members(topo: ClosTopology, links: LinkTable, t: int, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(member, representative) positions of every bundle of tier t (between tier t - 1 and t), within the tier's
    bundle block: a bundle from lower switch l joins the pool of l's spread set (`owner[l]`, its least switch), whose
    representative climbs to the first switch of that switch's plane."""
    tier, below = topo.tiers[t], topo.tiers[t - 1]
    per, fan, sub = tier.switches_per_plane, links.fan_down[t], tier.domain_gpus // below.domain_gpus
    low = np.arange(below.switches_per_domain)
    ups = (tier.plane_of(low)[:, None] * per + np.arange(per)[None, :])[None]  # (1, lower, per): switches it reaches
    grid = np.meshgrid(np.arange(tier.domains), np.arange(sub), indexing="ij")
    d_up, j = grid[0].reshape(-1, 1, 1), grid[1].reshape(-1, 1, 1)  # upper domain, lower domain within it
    lows = np.broadcast_to(low[:, None], ups.shape[1:])[None]
    rep_low = owner[lows]
    rep_up = tier.plane_of(rep_low) * per

    def position(up: np.ndarray, lo: np.ndarray) -> np.ndarray:
        glob = d_up * tier.switches_per_domain + up
        return np.asarray(glob * fan + tier.bundle_position(j, lo, below.switches_per_domain)).ravel()

    return position(ups, lows), position(rep_up, rep_low)


def pool_of(topo: ClosTopology, links: LinkTable) -> np.ndarray:
    """For every link of `links`, the representative link of the pool it joins under adaptive routing (module
    docstring); a link outside any pool (scale-up, NIC, the top's) is its own. The ECMP collision model
    (`network.ecmp_collisions`) reads it as the uplinks one flow's hash picks among."""
    rep_of = np.arange(links.capacity.size, dtype=np.int64)
    for t, sets in zip(range(1, len(topo.tiers)), _spray_sets(topo), strict=False):
        owner = np.full(topo.tiers[t - 1].switches_per_domain, -1, dtype=np.int64)
        for s in sets:
            members = np.asarray(sorted(s), dtype=np.int64)
            if (owner[members] >= 0).any():  # overlapping spreads: no exact pool (no built fabric has them)
                raise InputError(f"{topo.system}: adaptive routing's equal-cost sets overlap at the "
                                 f"{topo.tiers[t].name} tier; use load_balancing: ecmp")
            owner[members] = members.min()
        owner = np.where(owner < 0, np.arange(owner.size), owner)  # a switch no leaf's spread reaches: its own pool
        member, rep = _tier_members(topo, links, t, owner)
        for offset in (links.bundle_up[t], links.bundle_down[t]):
            rep_of[offset + member] = offset + rep
    return rep_of


def pooled_links(topo: ClosTopology, links: LinkTable) -> LinkTable:
    """`links` with the uplinks a flow is spread over at each tier pooled (module docstring): every member of a
    pool carries the pool's summed capacity and `pooled` tells `routing.route` to send flows over representatives."""
    rep = pool_of(topo, links)
    pool = np.bincount(rep, weights=links.capacity, minlength=rep.size)
    return replace(links, capacity=pool[rep], pooled=True)
