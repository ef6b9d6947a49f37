"""The fabric a collective group spans: the bus bandwidth, step latency and bottleneck of its links.

A communication group is `n` ranks spaced `stride` apart in the rank order (TP innermost, so a TP
group has stride 1; a DP group has stride TP*CP*PP). Ranks are packed onto nodes in order, so the group
spans `n * stride` consecutive ranks. From that placement:

* inside one scale-up domain (NVLink/NVSwitch) the bus bandwidth is the scale-up link at its measured
  collective efficiency;
* across domains, a ring with `k` members per domain drives `k` NICs in parallel (NCCL runs one ring
  channel per NIC), so bus bandwidth = min(scale-up * k / (k - 1), k * NIC); this is how 8 HDR NICs give the
  192 GB/s DGX A100 all-reduce busbw (NCCL developer AddyLaddy, NVIDIA/nccl #812). Each channel's ring enters and
  leaves a domain once, through one NIC, so of a member's bytes 1/k go over its NIC and (k-1)/k over scale-up
  (`ring_scale_up_limit`): the k * NIC term and the scale-up term count the same channels (NCCL src/graph/search.cc,
  ncclTopoCompute / ncclTopoSearchRecNet: with NICs in the node a ring channel's intra-node path runs from the NIC
  it receives on to the NIC it sends on -- recalled from the NCCL source: ASSUMPTION, not re-read; the flow simulation
  routes the ring so and reaches the same rate, Gaudi 2: 237 vs 237 GB/s, DGX H100: 372 vs 372 GB/s at 1 GiB);
* at every crossed tier with bandwidth oversubscription `o` (its domain's NIC bandwidth over its uplinks' as the
  fabric is built, `network.tier_bandwidth`: the configured port ratio with NICs at the port speed, less with
  slower NICs), a domain of that tier holds `k_t` members of each
  group; a tier is priced by the share of its uplinks the groups that run at once occupy (issue 12 item 6,
  as the flow simulation shares them): with `g` groups of this shape interleaved in the domain, the busy
  GPUs are `occ = min(g * k_t, domain) / domain` of it and the domain's uplinks (domain * NIC / o) are
  shared by `g` ring flows: bus bandwidth <= k_t * NIC / (o * occ). For all-to-all a fraction (n - k_t) / (n - k)
  of the bytes on each rank's NIC leave: NIC rate <= NIC / (o * occ * (n - k_t) / (n - k)). Tier 0's domain is
  the GPUs under one leaf switch (`tier_bandwidth.leaf_switch_gpus`: a leaf domain whose leaves build no rails
  sends its traffic between leaves over the tier above, hF65). `Fabric.concurrent_groups` is `g`:
  None (the default) means every group of the shape runs at once (g = stride: a training job fills its
  domains, so occ = 1 and the full ratio applies); 1 means one group alone on an idle fabric (`collective`).
* latency per algorithm step is the hop latency up to the highest tier crossed and back; a ring's step pays the
  mean of its hops' latencies instead (`network.ring_latency`: NCCL's ring is a pipeline).

`group_link` prices a group's links once per (fabric, group shapes); `network.collectives` builds the
collective times on it, `network.collective_efficiency` the message-size efficiency; the flow simulation
(`network.flow_sim`) shares the uplinks the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan.catalog.schemas import Accelerator, System
from infraplan.network import ecmp_tiers, tier_bandwidth
from infraplan.network.clos_topology import nic_link_rate

SCALE_UP_LATENCY_S = 3.0e-6  # NVLink/NVSwitch step latency, nccl-tests small-message all-reduce on 8 GPUs
# ranks of the published NVLS all-reduce busbw figures (one 8-GPU HGX/DGX board: GTC 2024 S62129, nccl-tests #272);
# an NVLS all-reduce moves (1 + 1/n) x the buffer through each rank's links per direction (`network.nvlink_all_reduce`),
# so the figure gives the per-rank rate NVLS reaches: algbw x (1 + 1/n) = busbw x n / (2 (n - 1)) x (1 + 1/n) at n = 8
NVLS_MEASURED_RANKS = 8


@dataclass(frozen=True)
class Fabric:
    """The scalars of a system that collective costs need (one system per evaluation)."""

    scale_up_domain: int
    scale_up_bytes_per_s: float  # achievable collective bandwidth per GPU, per direction
    nic_bytes_per_s: float  # achievable scale-out bandwidth per GPU, per direction (NIC links held to the leaf port)
    tier_names: tuple[str, ...]
    tier_sizes: tuple[int, ...]
    tier_oversubscription: tuple[float, ...]  # bandwidth ratio per tier (`network.tier_bandwidth`), < 1 never binds
    tier_round_trip_latency_s: tuple[float, ...]  # to cross tier i: up through tiers 0..i and back
    host_kernel_dispatch_s: float = 0.0  # host time to issue one kernel (eager frameworks), see schemas.Node
    concurrent_groups: int | None = None  # groups of one shape running at once; None: all `stride` of them
    nvls_bytes_per_s: float = 0.0  # per-rank link rate of NVLS all-reduce in the domain (`network.collectives`); 0: off
    accelerator: str = ""  # catalog accelerator name: picks its measured all-reduce table (`network.nvlink_all_reduce`)
    nic_line_bytes_per_s: float = 0.0  # scale-out line rate per GPU, per direction (NICs x rate / GPUs); 0: unknown
    # consecutive ranks known to share one scale-up domain in the job priced (`network.placement`); 0: every group
    # is taken as aligned to the domains (a job inside one domain, or the fabric of no job)
    placement_unit: int = 0
    # rail-only fabric (Wang et al., arXiv:2307.12169): an all-to-all's bytes to another rail cross the scale-up
    # domain first, to the local GPU on the destination's rail (`_group_link`)
    rail_only: bool = False
    # IB SHARP in-network all-reduce enabled (NCCL CollNet, NCCL_COLLNET_ENABLE=1; off by default as in NCCL): the
    # training and serving all-reduce tables take the faster of their algorithms and `network.sharp.sharp_time`.
    # Set only by `network.sharp.collnet_fabric`, on a fabric whose every switch tier does SHARP
    sharp: bool = False
    # GPUs of one leaf domain where its leaves (tier 0's `tier_sizes[0]`, built unrailed) tile it; 0: tier 0's
    # domains tile the system (`tree_crossings.tier_blocks`)
    leaf_domain_gpus: int = 0
    # ranks between the first members of the concurrent groups (`uplink_occupancy`): 1, interleaved (a job's groups,
    # one collective); a spread send-recv's pairs start a placement stride apart (`collective_schedules`, hI56)
    concurrent_spacing: int = 1
    # the rail (leaf) each GPU index of a node sends on (each NIC's, GPU-major, where a GPU's `rail_nics_per_gpu` NICs
    # straddle leaves), and the tiers split by rail (`tier_bandwidth.rail_planes`); read where `concurrent_spacing` > 1
    rail_of_gpu: tuple[int, ...] = ()
    rail_tiers: int = 0
    rail_nics_per_gpu: int = 1
    paired_halves: bool = False  # `collective send-recv` packed: its pairs (i, i + g) (`uplink_occupancy`, hB57)
    # GPUs of one host (node.accelerators_per_node; `collective_algorithms.custom_all_reduce_runs`), and over its NICs
    host_accelerators: int = 0
    gpus_per_nic: float = 1.0  # (> 1: they share them, `PARTIAL_DOMAIN_NIC`)
    # `load_balancing: ecmp` (hE74): per tier, (bins, GPUs) of one equal-cost pool (`ecmp_tiers.pool_geometry`) and a
    # pair's hashed flows; () on adaptive fabrics, whose tiers keep the even spread
    ecmp_pools: tuple[tuple[int, float], ...] = ()
    ecmp_flows: int = 0
    ecmp_planed: tuple[bool, ...] = ()  # per built tier, split in planes: a descent's draws (`descent_redrawn`, hE76)

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
        tiers = system.network.tiers
        # a NIC faster than its leaf port runs its link at the port's speed (`clos_topology.nic_link_rate`, the flow
        # model's NIC links too)
        link = nic_link_rate(node.nic_bandwidth_bytes_per_s, tiers[0].port_bandwidth_bytes_per_s)
        nic = node.nics_per_node * link / node.accelerators_per_node
        names = tuple(t.name for t in tiers)
        sizes = tuple(t.group_size for t in tiers)
        # each tier's NIC bandwidth over its uplinks' as the fabric is built (the flow model's links), not its
        # configured port ratio: 400G NICs under 800G ports at 1:7 are 3.2:1 (`network.tier_bandwidth`)
        hops = [t.hop_latency_s for t in tiers]
        topo = tier_bandwidth.built_or_none(system)  # (built once: the tiers below and the rails read it)
        if system.network.rail_only:  # the tiers a rail takes (`topology.build_topology`), as the flow model
            from infraplan.network.topology import build_topology

            topo = build_topology(system) if topo is None else topo  # (its InputError, as before)
            built = topo.tiers
            names, sizes = tuple(t.name for t in built), tuple(t.domain_gpus for t in built)
            over = tier_bandwidth.built_ratios(topo)
            hops = [t.hop_latency_s for t in built]
        else:  # tier 0 as the GPUs under one leaf switch (`tier_bandwidth.leaf_switch_gpus`, hF65)
            sizes, over = tier_bandwidth.analytical_tiers(system, topo)
        hop = np.cumsum(hops) * 2.0
        leaf_domain = min(system.total_accelerators, tiers[0].group_size) if not system.network.rail_only else 0
        return cls(
            scale_up_domain=node.scale_up_domain,
            scale_up_bytes_per_s=accelerator.scale_up_bandwidth_bytes_per_s
            * accelerator.efficiency.scale_up_collective_efficiency
            * scale_up_factor,
            nic_bytes_per_s=nic * system.network.collective_efficiency * scale_out_factor,
            tier_names=names,
            tier_sizes=sizes,
            tier_oversubscription=over,
            tier_round_trip_latency_s=tuple(float(x) for x in hop),
            host_kernel_dispatch_s=node.host_kernel_dispatch_s,
            nvls_bytes_per_s=(accelerator.efficiency.nvls_all_reduce_bus_bytes_per_s or 0.0)
            * (NVLS_MEASURED_RANKS + 1.0) / (2.0 * (NVLS_MEASURED_RANKS - 1)) * scale_up_factor
            if accelerator.efficiency.nvls_all_reduce_enabled else 0.0,
            accelerator=accelerator.catalog_name,  # a what-if file's `extends` preset: its measured tables
            nic_line_bytes_per_s=nic * scale_out_factor,
            rail_only=system.network.rail_only,
            leaf_domain_gpus=leaf_domain if leaf_domain > sizes[0] else 0, host_accelerators=node.accelerators_per_node,
            gpus_per_nic=node.accelerators_per_node / node.nics_per_node,
            **tier_bandwidth.rail_planes(system, topo), **ecmp_tiers.fabric_fields(system, topo),
        )


def placed_domain(unit: int, block: Any, domain: Any) -> Any:
    """The scale-up domain D_g a block of `block` consecutive ranks (a group of n ranks s apart: n s) reads in a job
    placed in units of `unit` ranks (`Cluster.placed`; 0: inside one domain of `domain`): gcd(U, n s), whole in every
    group where the block divides U (D_g = n s: inside), else the smaller side of the domain edge some group crosses
    (`network.placement`, module docstring); a group crosses where n s > D_g, floor(D_g / s) of its members a domain.
    The one rule `group_domain` prices by and `training.plan_notes.tp_crossing_notes` says (an int block: an int)."""
    if unit == 0:
        return domain
    if type(block) is int:
        return math.gcd(unit, block)
    return np.gcd(np.asarray(block).astype(np.int64), unit)  # whole numbers of ranks (floats or ints): exact in int64


def group_domain(fabric: Fabric, n: Any, stride: Any) -> Any:
    """The scale-up domain D_g the pricing's tests read for a group of `n` ranks `stride` apart (`n s <= D_g`:
    inside one domain; else floor(D_g / s) members in each): `fabric.scale_up_domain`, or in a placed job
    (`placement_unit` U > 0) `placed_domain`'s gcd(U, n s)."""
    unit = fabric.placement_unit
    if unit == 0:
        return fabric.scale_up_domain
    if ((type(n) is float or isinstance(n, (int, float)))  # (a one-plan float or int first: no isinstance call)
            and (type(stride) is float or type(stride) is int or isinstance(stride, (int, float)))):
        return float(placed_domain(unit, int(round(n * stride)), fabric.scale_up_domain))
    return placed_domain(unit, np.multiply(n, stride), fabric.scale_up_domain)


SPACED_GROUP_SHARE = True
"""hI56: groups that start `Fabric.concurrent_spacing` ranks apart (a spread send-recv's n/2 pairs) occupy a domain by
the ones whose first member falls in it, on the rail leaves those members use (`uplink_occupancy`); False: all g
interleaved in one domain (hH56: a DGX H100 SuperPOD at 4:1 leaves, 256 GPUs spread, 11.4 ms priced where the flow
model finds 5.7 ms)."""


RAIL_ALONE = True
"""hN70: one group alone (`collective`, `Fabric.concurrent_groups` = 1) on a tier split by rail (`Fabric.rail_tiers`:
rail-optimised leaves and the planes above them) loads the planes of the rails its members' bytes leave on (PXN: the
destination's rail; a group's destinations sit on its members' rails), so its busiest rail's share of that rail's
GPUs (`tier_bandwidth.busiest_rail_share`) is its occupancy, not its share of the whole domain: a spread group of
one GPU a node sits on one rail and climbs through 1 / 8 of a pod's uplinks. False: k / domain (a user's 3-tier
rail-optimised 24,576-H100 Clos at 6.4:1 above its 2,048-GPU pods, an all-to-all of 256 MiB over 3,072 GPUs spread,
one a node: 6.85 ms NIC-bound where the flow model finds 36.1 ms on the spine)."""


def uplink_occupancy(fabric: Fabric, k_tier: npt.ArrayLike, stride: npt.ArrayLike, domain: int,
                     tier: int = -1) -> np.ndarray:
    """Fraction of a tier domain's uplinks that groups of this shape use: min(g * k_t, domain) / domain, where
    g = `fabric.concurrent_groups` (default: `stride`, every rank in some group), the groups interleaved.

    Groups whose first members sit `fabric.concurrent_spacing` = p > 1 ranks apart (`SPACED_GROUP_SHARE`): only the
    min(g, ceil(domain / p)) whose first member falls in one domain load it (hH56's stride cap), and where tier
    `tier` is split by rail (`Fabric.rail_tiers`: the leaves, and tiers above built in rail planes) each group's
    bytes climb in the plane of its destination's rail only (PXN: a byte leaves through the NIC on the
    destination's rail, `routing.route`; the destination `stride` ranks on, a send-recv pair's; a pair whose two
    members sit in the domain loads each member's rail once, `tier_bandwidth.member_rail_shares`): the busiest
    rail's share of its own GPUs (`tier_bandwidth.busiest_rail_share`), whose uplinks are 1 / rails of the domain's;
    `Fabric.paired_halves`: the pairs leaving the domain (`tier_bandwidth.paired_halves_busy`)."""
    groups = np.asarray(stride if fabric.concurrent_groups is None else fabric.concurrent_groups, dtype=np.float64)
    k = np.asarray(k_tier, dtype=np.float64)
    spacing = fabric.concurrent_spacing
    if RAIL_ALONE and fabric.concurrent_groups == 1 and spacing == 1 and 0 <= tier < fabric.rail_tiers:
        share = tier_bandwidth.busiest_rail_shares(fabric.rail_of_gpu, k, stride, 0.0, domain,  # array-first (hN2)
                                                   fabric.rail_nics_per_gpu)
        return np.asarray(np.minimum(np.maximum(share, k / float(domain)), 1.0), dtype=np.float64)
    if spacing > 1 and SPACED_GROUP_SHARE:
        busy = np.minimum(groups, float(math.ceil(domain / spacing)))
        if 0 <= tier < fabric.rail_tiers:  # (each member once, on its destination's rail: hC71)
            share = tier_bandwidth.member_rail_shares(fabric.rail_of_gpu, busy, float(spacing), stride, k, domain,
                                                      fabric.rail_nics_per_gpu)
            return np.asarray(np.minimum(share, 1.0), dtype=np.float64)
        return np.asarray(np.minimum(busy * k, float(domain)) / float(domain), dtype=np.float64)
    busy = np.minimum(groups * k, float(domain))
    if fabric.paired_halves and tier_bandwidth.PAIRED_HALVES:  # a packed send-recv's pairs (i, i + g), g groups
        busy = tier_bandwidth.paired_halves_busy(groups, domain)
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


def ring_scale_up_limit(fabric: Fabric, k_domain: npt.ArrayLike) -> np.ndarray:
    """Bus bandwidth the scale-up link allows a ring that crosses domains with `k_domain` members in each: a
    member sends (k-1)/k of its bytes over scale-up and 1/k over its NIC (one ring channel per NIC, each leaving
    the domain through a different member), so scale-up bounds it at scale_up * k / (k - 1); infinite at k = 1."""
    k = np.asarray(k_domain, dtype=np.float64)
    limit: np.ndarray = fabric.scale_up_bytes_per_s * k / np.maximum(k - 1.0, 1e-12)
    return limit


def _group_link(fabric: Fabric, n: np.ndarray, stride: np.ndarray,
                all_to_all: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    extent = n * stride
    domain = group_domain(fabric, n, stride)
    inside = extent <= domain
    k_domain = np.clip(np.floor(domain / stride), 1.0, n)
    if all_to_all:
        nic_rate = np.full_like(n, fabric.nic_bytes_per_s, dtype=np.float64)
    else:
        cross_bw = np.minimum(ring_scale_up_limit(fabric, k_domain), k_domain * fabric.nic_bytes_per_s)
    bottleneck = np.where(inside, -1, 0)
    latency = np.full_like(n, fabric.tier_round_trip_latency_s[0], dtype=np.float64)
    known, hashed = (nic_rate if all_to_all else cross_bw), []  # (ECMP: the unhashed links' rate, the hashed tiers)
    for i, (size, over) in enumerate(zip(fabric.tier_sizes, fabric.tier_oversubscription, strict=True)):
        crossed = extent > size
        next_lat = fabric.tier_round_trip_latency_s[min(i + 1, len(fabric.tier_sizes) - 1)]
        latency = np.where(crossed, next_lat, latency)
        bottleneck = np.where(crossed & ~inside, i + 1, bottleneck)
        if over <= 1.0 and not fabric.ecmp_pools:
            continue
        k_tier = np.clip(np.floor(size / stride), 1.0, n)
        shared = over * uplink_occupancy(fabric, k_tier, stride, size, i)
        throws = None
        if fabric.ecmp_pools:  # the expected busiest of its pools' hashed uplinks, all groups at once (hE74)
            redrawn = ecmp_tiers.descent_redrawn(fabric.ecmp_planed, i, stride, fabric.tier_sizes)  # (hE76)
            throws = ecmp_tiers.tier_throws(fabric.ecmp_pools[i], fabric.ecmp_flows, size, n, stride, k_tier,
                                            k_domain, shared / over, fabric.concurrent_groups == 1, all_to_all, redrawn)
            shared = shared if throws is None else shared * throws[0]
        if all_to_all:
            # of the (n - k_domain) / n of a rank's bytes on its NIC, (n - k_t) / (n - k_domain) leave the tier's
            # domain (hF65: 1 - k_t / n counted the scale-up share twice, 6 % short on 16 nodes)
            leaving = np.maximum((n - k_tier) / np.maximum(n - k_domain, 1.0), 1e-12)
            limit = fabric.nic_bytes_per_s / (shared * leaving)
            nic_rate = np.where(crossed, np.minimum(nic_rate, limit), nic_rate)
        else:
            limit = k_tier * fabric.nic_bytes_per_s / shared
            cross_bw = np.where(crossed, np.minimum(cross_bw, limit), cross_bw)
        if throws is not None:
            hashed.append((crossed, limit, *throws, fabric.ecmp_pools[i][0]))
        elif fabric.ecmp_pools:
            known = np.where(crossed, np.minimum(known, limit), known)
    if len(hashed) > 1:  # hashed tiers crossed at once: the expected slowest of all, not the slower expectation (hE75)
        if all_to_all:
            nic_rate = ecmp_tiers.slowest_rate(nic_rate, known, hashed)
        else:
            cross_bw = ecmp_tiers.slowest_rate(cross_bw, known, hashed)
    bottleneck = np.minimum(bottleneck, len(fabric.tier_sizes) - 1)
    if all_to_all:
        # of a rank's bytes, 1/n stay local, (k-1)/n go over the scale-up link and (n-k)/n over the NIC, in
        # parallel; expressed as the bandwidth that moves the (n-1)/n share all_to_all_time charges
        peers = np.maximum(n - 1.0, 1.0)
        # rail-only: the k members of a domain sit on k different rails, so (k-1)/k of the (n-k)/n leaving also
        # cross the scale-up link first to the member on the destination's rail (Wang et al., arXiv:2307.12169:
        # all-to-all forwarded over the HB domain, cited from memory); NCCL's PXN pipelines the two hops
        forwarded = (n - k_domain) * (k_domain - 1.0) / k_domain if fabric.rail_only else 0.0
        nic_time, g = (n - k_domain) / nic_rate, fabric.gpus_per_nic
        if PARTIAL_DOMAIN_NIC and g > 1.0:  # k < g members of a host share its NICs: k / g of a full host's load
            nic_time = np.maximum(np.minimum(k_domain, g) / g * (n - k_domain) / fabric.nic_bytes_per_s,
                                  np.where(nic_rate < fabric.nic_bytes_per_s, nic_time, 0.0))
        time_per_byte = np.maximum((k_domain - 1.0 + forwarded) / fabric.scale_up_bytes_per_s, nic_time) / peers
        if PARTIAL_DOMAIN_NIC:  # the domain holding the fewest members: its ranks send the most over their NICs
            fewest = np.clip(n - np.ceil(np.floor((n - 1.0) * stride / domain) * domain / stride), 1.0, k_domain)
            share = np.minimum(fewest, g) / g if g > 1.0 else 1.0
            time_per_byte = np.maximum(time_per_byte, share * (n - fewest) / fabric.nic_bytes_per_s / peers)
        bandwidth = 1.0 / np.maximum(time_per_byte, 1e-30)
    else:
        bandwidth = cross_bw
    bandwidth = np.where(inside, fabric.scale_up_bytes_per_s, bandwidth)
    latency = np.where(inside, SCALE_UP_LATENCY_S, latency)
    return bandwidth, latency, bottleneck


# hF74: an all-to-all ends with its last rank (one NCCL group call); a rank whose domain holds r members sends (n - r)
# / n of its bytes on its NIC, so the fewest bind (512 on NVL72 racks, 7 x 72 + 8: 504 / 440 = 1.145x, flow 1.146x);
# m < g members of a host sharing g GPUs a NIC take m / g of it (MTIA v1 64 spread, 4 a host: the line was 3.05x).
PARTIAL_DOMAIN_NIC = True


# NCCL's ring is a pipeline, not a lockstep: a chunk's k-th step at a rank waits for its (k-1)-th step at the
# previous rank only, so the latency of 2(n - 1) ring steps is the sum of the hop latencies along the ring, each
# hop at its own link, not 2(n - 1) times the slowest hop. NCCL's own tuning model prices it so (src/graph/
# tuning.cc, ncclTopoTuneModel, recalled: ASSUMPTION: ring latency = baseLat + (nsteps - nInterSteps) x intraLat +
# nInterSteps x interLat, inter-node steps at hwLat[NET], the others at hwLat[NVLINK]). The slowest-hop rule priced
# a 24,576-GPU ring all-reduce on the Llama 3 fabric at 2 x 24,575 steps x 34 us = 1.67 s of latency, though 7 of
# its 8 hops per node are NVLink. False: every step at the slowest hop (for measuring the change toggled).
PIPELINED_RING_LATENCY = True


# NCCL's tree is a pipeline too: a chunk goes up the chain through a node's members, then up the double binary tree
# over the nodes, each hop as soon as the previous one delivered it, so one pass (reduce up, or broadcast down) pays
# the sum of the hop latencies along its longest leaf-to-root path, each hop at its own link (the leg inside a
# node as the model's in-domain tree, `nccl_trees.tree_latency_one`). NCCL's tuning model
# prices it so (src/graph/tuning.cc, ncclTopoTuneModel, recalled: ASSUMPTION: tree latency = baseLat + 2 x ((nRanks /
# nNodes - 1) x intraLat + log2i(nNodes) x interLat)); here each inter-node level pays the round trip of the tier
# its hop crosses, not one network figure. The slowest-hop rule priced a tree all-reduce over 24,576 GPUs on the
# Llama 3 fabric at 2 x 15 x 34 us = 1.02 ms though only the top levels cross pods. False: 2 ceil(log2 n) steps at
# the slowest hop (for measuring the change toggled). A tree inside one scale-up domain keeps 2 ceil(log2 n) steps.
PIPELINED_TREE_LATENCY = True


@lru_cache(maxsize=4096)
def group_link_one(fabric: Fabric, n: float, stride: float, all_to_all: bool) -> tuple[float, float]:
    """`group_link`'s bandwidth and latency of one group shape, as floats (element-wise, so the same values).

    `n` and `stride` are taken as floats, as `group_link` takes them: the cache holds 64 and 64.0 as one key, and
    `_group_link` on integer arrays started its latency as an integer array (`np.full_like`), so a call with ints
    (`collective --algorithm sharp`) kept a latency of 0 for a group crossing domains but no tier, which a later
    float call read back (the tree's 2 ceil(log2 n) steps with `PIPELINED_TREE_LATENCY` off; hX, session 36)."""
    bw, lat, _ = _group_link(fabric, np.array(float(n)), np.array(float(stride)), all_to_all)
    return float(bw), float(lat)
