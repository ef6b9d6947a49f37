"""The expected cost of ECMP hash collisions, for the analytical model of a fabric that hashes each flow (hE73).

On a fabric with `load_balancing: ecmp` (`catalog.schemas.Network.balancing`) a switch hashes each flow (each QP)
onto one of its equal-cost uplinks and keeps it there; the few large flows of a collective collide (Gangidi et al.,
"RDMA over Ethernet for Distributed AI Training at Meta Scale", SIGCOMM 2024 (recalled): low-entropy training traffic
under ECMP; hence E-ECMP hashing the destination QP and NCCL opening several QPs a connection, the Llama 3 paper
Sec. 3.3.1's 16 flows a GPU pair). The flow model draws the hashes (`routing.route`); the analytical model spreads
every flow evenly (adaptive routing's fluid limit, `network.adaptive_routing`). This module prices the difference
as an expectation, with no draw:

* each flow of a step crosses, at every tier it climbs, one of the uplinks of its equal-cost set, the pool
  `adaptive_routing.pool_of` names, each with probability 1 / (the pool's links), independently of the other
  flows: B flows on a pool of n links is B balls into n bins, whose largest bin has the exact distribution
  P(max <= m) = B! / n^B [x^B] (sum_{j <= m} x^j / j!)^n (the multinomial as n Poisson(B / n) counts conditioned on
  their sum; Johnson & Kotz, "Urn Models and Their Application", 1977, recalled);
* equal flows sharing links max-min fairly, the step's last flow ends at max over links of (flows x flow bytes /
  link rate) (the busiest link's flows are the first bottleneck level and keep its fair share to the end); links
  outside a pool (NICs, scale-up) carry a known load;
* a descent at the tier its flows turn at takes the switch the climb hashed to, so a down pool carrying exactly one
  up pool's flows repeats its draws: counted once (`_mirrored`; counting both overstated mi355x's 512-GPU packed
  send-recv at 3.57x the line where the flow model's seeds give 2.99-3.49x);
* the pools taken as independent, the step's expected time is the integral of P(T > t): its ratio to the even
  spread's time (every pool's bytes over its summed rate) is the step's collision factor.

The largest bin's law (`max_load_cdf`, `expected_slowest`) lives in `network.ecmp_tiers` since hE74, which prices the
same law per tier, all of a step's concurrent groups at once, for what train and serve charge (`priced_time_s`).
"""

from __future__ import annotations

import numpy as np

from infraplan.network.adaptive_routing import pool_of
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.ecmp_tiers import EXACT_BALLS_MAX as EXACT_BALLS_MAX
from infraplan.network.ecmp_tiers import expected_slowest as expected_slowest
from infraplan.network.ecmp_tiers import max_load_cdf as max_load_cdf
from infraplan.network.flow_sim import FlowSet
from infraplan.network.routing import LinkTable, route


def collision_factor(topo: ClosTopology, links: LinkTable, flows: FlowSet, flows_per_pair: int) -> float:
    """Expected slowest transfer of one step with each pair's flows hashed (ECMP) over its even-spread time, >= 1
    (module docstring). `links`: the built links (not pooled); `flows_per_pair`: the QPs a pair hashes, rounded up
    to whole stripes over a GPU's NICs as `flow_sim.simulate` does."""
    rep = pool_of(topo, links)
    pooled = LinkTable(**{**links.__dict__, "capacity": np.bincount(rep, weights=links.capacity,
                                                                    minlength=rep.size)[rep], "pooled": True})
    sud = topo.scale_up_domain_gpus
    per_gpu = max(1, topo.nics_per_node // topo.gpus_per_node)
    k = -(-max(1, flows_per_pair) // per_gpu) * per_gpu
    inter = flows.src // sud != flows.dst // sud
    copies = np.where(inter, per_gpu, 1)
    paths, reached, owner = route(topo, pooled, flows.src, flows.dst, copies, np.random.default_rng(0))
    weight = flows.size_bytes[owner] / copies[owner]  # bytes each routed copy carries
    balls = np.where(inter[owner], k // per_gpu, 0)  # hashed flows each routed copy stands for
    hops = paths >= 0
    ids = paths[hops]
    load = np.bincount(ids, weights=np.broadcast_to(weight[:, None], paths.shape)[hops], minlength=rep.size)
    thrown = np.bincount(ids, weights=np.broadcast_to(balls[:, None], paths.shape)[hops], minlength=rep.size)
    members = np.bincount(rep, minlength=rep.size)
    used = load > 0
    even = float(np.max(load[used] / pooled.capacity[used]))
    single = used & (members[rep] == 1)
    known = float(np.max(load[single] / links.capacity[single])) if single.any() else 0.0
    hashed = np.flatnonzero(used & (members[rep] > 1) & ~_mirrored(topo, paths, hops, reached, links, rep.size))
    n = members[hashed]
    b = np.rint(thrown[hashed]).astype(np.int64)
    per = load[hashed] / np.maximum(b, 1) / (pooled.capacity[hashed] / n)  # seconds a flow on one member
    keys, count = np.unique(np.stack([b, n, np.round(per / even, 12)]), axis=1, return_counts=True)
    groups = [(int(bb), int(nn), float(pp) * even, int(c)) for (bb, nn, pp), c in zip(keys.T, count, strict=True)]
    return max(expected_slowest(groups, known) / even, 1.0)


def _mirrored(topo: ClosTopology, paths: np.ndarray, hops: np.ndarray, reached: np.ndarray, links: LinkTable,
              size: int) -> np.ndarray:
    """Links whose load repeats another's draw for draw: at the tier a flow turns at, its descent takes the switch
    its climb hashed to, and below it too where every tier from there up to the turn is split in planes (the descent
    stays in the climb's plane: `routing.route`'s `forced`), so a down pool carrying exactly the flows of one up pool
    holds the same counts (a packed send-recv's leaf and its partner leaf; hE75: the leaves of two pods joined over
    a planed core, which hE73 counted twice). True on the down one of each such pair: counted once."""
    keys = np.asarray(np.random.default_rng(73).integers(0, 2**63, size=paths.shape[0], dtype=np.int64),
                      dtype=np.uint64)
    ids = paths[hops]
    sig = np.zeros(size, dtype=np.uint64)
    np.add.at(sig, ids, np.broadcast_to(keys[:, None], paths.shape)[hops])  # the set of copies on a link (wraps)
    tier = np.broadcast_to(np.asarray(reached)[:, None], paths.shape)[hops]
    low = np.full(size, 99, dtype=np.int64)
    high = np.full(size, -99, dtype=np.int64)
    np.minimum.at(low, ids, tier)
    np.maximum.at(high, ids, tier)
    # a bundle (class t + 1, between tiers t - 1 and t) whose flows all turn at one tier T where the descent's lower
    # switch is forced: the leaf (t = 1) where every tier 2..T is in planes, a switch of tier t - 1 >= 1 where every
    # tier t..T is (hE76: a planeless fabric's descent from its turn at the cluster tier draws the pod's spine again,
    # `routing.route`; hE75 counted it as the climb's)
    planes = np.asarray([tier.planes > 1 for tier in topo.tiers] + [False])
    level = links.link_class.astype(np.int64) - 1
    forced = np.ones((planes.size, planes.size), dtype=bool)  # forced[t, T]
    for t in range(planes.size):
        forced[t] = [t <= turn and bool(planes[max(t, 2):turn + 1].all()) for turn in range(planes.size)]
    fits = (low == high) & (level >= 1) & (level < planes.size) & (low >= 0) & (low < planes.size)
    top = fits & forced[np.clip(level, 0, planes.size - 1), np.clip(low, 0, planes.size - 1)]
    down = np.zeros(size, dtype=bool)
    for t in range(1, len(links.bundle_up)):
        start, stop = links.bundle_down[t], links.bundle_down[t] + (links.bundle_down[t] - links.bundle_up[t])
        ups = np.flatnonzero(top[links.bundle_up[t]:links.bundle_down[t]]) + links.bundle_up[t]
        seen = set(sig[ups].tolist())
        dn = np.flatnonzero(top[start:stop]) + start
        down[dn] = np.isin(sig[dn], np.fromiter(seen, dtype=np.uint64, count=len(seen)))
    return down


def hashed_line_s(topo: ClosTopology, links: LinkTable, phases: list[tuple[FlowSet, int]],
                  parts: list[tuple[float, float]], flows_per_pair: int) -> tuple[float, list[float]]:
    """The alpha-beta line with each phase's bandwidth seconds (`parts`: (bandwidth, latency) seconds per phase, as
    `collective_schedules` splits it) times its expected collision factor, and the factors."""
    factors = [collision_factor(topo, links, step, flows_per_pair) for step, _ in phases]
    return sum(bw * f + lat for (bw, lat), f in zip(parts, factors, strict=True)), factors
