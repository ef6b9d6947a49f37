"""ECMP's expected hash collisions on the tiers a priced collective crosses: all its concurrent groups at once (hE74).

On a fabric with `load_balancing: ecmp` (`catalog.schemas.Network.balancing`) each switch hashes each flow (each QP)
onto one of its equal-cost uplinks and keeps it there, so training's few large flows collide (Gangidi et al., "RDMA
over Ethernet for Distributed AI Training at Meta Scale", SIGCOMM 2024: low-entropy collective traffic under ECMP,
hence E-ECMP hashing the QP and NCCL's QP scaling; the Llama 3 paper, arXiv:2407.21783, Sec. 3.3.1: 16 flows a GPU
pair; both recalled, not re-read here). `train` and `serve` price a collective with every group of its shape running
at once (`Fabric.concurrent_groups` None: all DP rings of a step at once, all pipeline pairs at once), and the step
waits for the slowest: so the question a tier asks is the expected busiest uplink of all those groups' flows on it,
not one group's. Per tier t of the fabric (`Fabric.ecmp_pools`, read off the built Clos once, `pool_geometry`):

* a pool is the equal-cost uplinks one flow's hashes pick among on its way out of a tier-t domain
  (`adaptive_routing.pool_of`, the flow model's and `network.ecmp_collisions`' pools): `bins` members fed by the
  flows of `gpus` GPUs' NICs;
* a busy GPU whose group leaves the tier's domain sends `streams` streams out of it (a ring, `k_domain` channels over
  its `k_tier` members in the domain, NCCL one ring channel per NIC as `fabric` prices it: min(1, k_domain /
  k_tier); a send-recv pair, k_tier = k_domain = 1: 1; an all-to-all: n - k_tier, its peers outside), each of the
  fabric's flows a pair (`ecmp_flows_per_pair`, striped over a GPU's NICs as `flow_sim.simulate` does): a pool throws
  B = gpus x occupancy (the busy share `fabric.uplink_occupancy` prices) x streams x flows balls into `bins`;
* the pools the groups' ranks span (all stride groups interleaved over n x stride ranks; a group alone over its
  members' domains) draw independently; a ring's or a pair's descent into the next domain repeats its climb's
  draws (the turning switch is the one the climb hashed to, `routing.route`, counted once as `ecmp_collisions`
  does), except below a turn above planeless tiers, where the descent's switches are drawn again (hE76,
  `descent_redrawn`: the whole domains' down pools added); an all-to-all's arrivals draw again (twice the pools);
* the tier's even-spread load (`fabric._group_link`: k_t x NIC / (o x occupancy)) times the expected largest bin
  of all those pools over its mean B / bins (the largest bin's law below) is the hashed load; on a tier at or
  below 1:1 it binds where that exceeds the NIC;
* where a group crosses two hashed tiers whose busiest uplinks can each bind, the step waits for the busier: its
  expected time is E[max] of the NICs' time and every such tier's busiest uplink, not the worse tier's expectation
  (`slowest_of_hashed`, hE75; the flow model's mean over 600 seeds follows it).

A fabric whose file omits `load_balancing` takes its kind's default (ecmp off InfiniBand), here as in `collective`
and the flow model (hB74: one answer); a generic cluster states adaptive (`cluster.generic`). Adaptive fabrics
(InfiniBand, generic clusters) keep `ecmp_pools` empty: their pricing is bit for bit the even spread. Each factor is
kept by (balls, bins, pools), and a fabric's geometry by its built Clos, so a priced call stays a table read.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from infraplan.catalog.schemas import Network, System
from infraplan.network.clos_topology import ClosTopology

EXACT_BALLS_MAX = 1024
"""Above this many flows on one pool, the largest bin's law is taken from n independent Poisson(B / n) counts
(the unconditioned product, P(Poisson(B / n) <= m)^n), which is cheaper: its expected maximum is within 0.02 % of
the exact law's (measured: 256 flows on 16 links -0.015 %, 1,024 on 16 / 64 links -0.002 / -0.004 %, 2,048 on 16
and 4,096 on 16 / 64 links under 0.001 %)."""

TAIL = 1e-12  # the largest bin's law is cut where P(max > m) falls below this


@lru_cache(maxsize=512)
def max_load_cdf(balls: int, bins: int) -> tuple[int, np.ndarray]:
    """(m0, F): F[i] = P(the largest of `bins` bins holds <= m0 + i of `balls` balls thrown uniformly), from m0, the
    least possible maximum (ceil(balls / bins)), until P(max > m) < `TAIL` (module docstring)."""
    m0 = -(-balls // bins)
    if bins == 1 or balls == 0:
        return m0, np.ones(1)
    lam = balls / bins
    top = int(lam + 12.0 * math.sqrt(lam) + 12.0)  # past it P(max > m) < n e^-60ish: cut there or at B
    ms = np.arange(m0, min(balls, top) + 1)
    low = max(0, int(lam - 12.0 * math.sqrt(lam) - 12.0))  # below it Poisson(B / n) holds < e^-60ish of its mass
    product = np.cumsum(_poisson(int(ms[-1]), lam, low))[ms - low] ** bins  # n independent Poisson(B / n) counts
    if balls <= EXACT_BALLS_MAX:
        live = product > TAIL * 1e-3  # below it the exact law is negligible too (it is within a few x of it)
        product[live & (product < 1.0 - TAIL)] = [_conditioned(balls, bins, int(m)) for m in
                                                  ms[live & (product < 1.0 - TAIL)]]
    law = np.maximum.accumulate(np.clip(product, 0.0, 1.0))
    return m0, law[: int(np.searchsorted(law, 1.0 - TAIL)) + 1]  # through the first m with P(max > m) < TAIL


def _conditioned(balls: int, bins: int, m: int) -> float:
    """P(max <= m), exact: the n-fold convolution of Poisson(B / n) cut at m, at B, over P(Poisson(B) = B)."""
    power, base, k = np.ones(1), _poisson(m, balls / bins), bins
    while k:  # binary powers, each kept to degree B
        if k & 1:
            power = _convolve(power, base)[: balls + 1]
        k >>= 1
        if k:
            base = _convolve(base, base)[: balls + 1]
    at = math.exp(balls * math.log(balls) - balls - math.lgamma(balls + 1))  # P(Poisson(B) = B)
    return float(power[balls] / at) if power.size > balls else 0.0


def _poisson(m: int, lam: float, low: int = 0) -> np.ndarray:
    """P(Poisson(lam) = j) for j = low..m (log j! summed on from lgamma(low + 1): an all-to-all of 24,576 GPUs throws
    ~6 M flows a pool, whose window is ~20,000 wide, hE74)."""
    j = np.arange(low, m + 1, dtype=np.float64)
    log_factorial = math.lgamma(low + 1.0) + np.concatenate(([0.0], np.cumsum(np.log(j[1:]))))
    return np.asarray(np.exp(j * math.log(lam) - lam - log_factorial), dtype=np.float64)


DIRECT_PRODUCT_MAX = 1 << 17
"""Convolutions of at most this many products are summed directly (`np.convolve`), larger ones by FFT: numpy loads
its FFT module on first use (~12 ms of a `train` process), which a pool of up to ~360 flows never needs (hE74)."""


def _convolve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a * b (non-negative): directly where small (`DIRECT_PRODUCT_MAX`), else by FFT."""
    if a.size * b.size <= DIRECT_PRODUCT_MAX:
        return np.convolve(a, b)
    size = a.size + b.size - 1
    n = 1 << (size - 1).bit_length()
    out = np.fft.irfft(np.fft.rfft(a, n) * np.fft.rfft(b, n), n)[:size]
    return np.clip(out, 0.0, None)


def expected_slowest(groups: list[tuple[int, int, float, int]], known: float) -> float:
    """E[max(known, max over groups of the busiest bin's balls x seconds a ball)] for independent groups
    (balls, bins, seconds a ball, how many such groups)."""
    points: list[np.ndarray] = [np.asarray([known])]
    laws = []
    for balls, bins, per, count in groups:
        m0, cdf = max_load_cdf(balls, bins)
        xs = (m0 + np.arange(cdf.size)) * per
        laws.append((xs, cdf, count))
        points.append(xs)
    grid = np.sort(np.concatenate(points))
    grid = grid[np.concatenate(([True], np.diff(grid) > 0))]  # (np.unique's first call loads a module: ~10 ms)
    grid = grid[grid >= known]
    below = np.ones(grid.size)  # P(T <= grid[i])
    for xs, cdf, count in laws:
        i = np.searchsorted(xs, grid, side="right") - 1
        below *= np.where(i >= 0, cdf[np.clip(i, 0, None)], 0.0) ** count
    # T takes values on the grid: E[T] = grid[0] + sum over steps of P(T > grid[i]) x the step
    return float(grid[0] + np.sum((1.0 - below[:-1]) * np.diff(grid)))


@lru_cache(maxsize=64)
def pool_geometry(topo: ClosTopology) -> tuple[tuple[int, float], ...]:
    """Per tier of the built fabric (`Fabric.tier_names`' order): (bins, GPUs) of one equal-cost pool of the uplinks
    leaving a domain of that tier, (0, 0.0) at the top, which has none. The pools are `adaptive_routing.pool_of`'s,
    counted off the layout without building links: at tier t a flow climbs from a set S of the tier below's switches
    (S_0 its leaf; S_t the switches of every plane S_{t-1} climbs into) over their uplinks, one bundle to each switch
    of their plane (bins = |S| x the plane's switches); the fabric's NIC links over its distinct sets, in GPUs, feed
    one."""
    per_gpu = topo.nics_per_node / topo.gpus_per_node
    spread = [frozenset({leaf}) for leaf in range(topo.tiers[0].switches_per_domain)]
    out: list[tuple[int, float]] = []
    for t in range(1, len(topo.tiers)):
        tier, per = topo.tiers[t], topo.tiers[t].switches_per_plane
        pools = len(set(spread)) * topo.tiers[t - 1].domains
        out.append((max(len(s) for s in spread) * per, topo.endpoint_links / pools / per_gpu))
        spread = [frozenset(u for p in {int(x) for x in tier.plane_of(np.asarray(sorted(s)))}
                            for u in range(p * per, (p + 1) * per)) for s in spread]
    return (*out, (0, 0.0))


@lru_cache(maxsize=4096)
def hashed_over_even(balls: int, bins: int, pools: int) -> float:
    """E[the largest bin of `pools` independent throws of `balls` balls into `bins` bins] over the mean B / bins
    (>= 1): the factor ECMP's hashes put on a tier's even-spread load."""
    if bins < 2 or balls < 1:
        return 1.0
    return max(expected_slowest([(balls, bins, 1.0, pools)], 0.0) * bins / balls, 1.0)


def tier_throws(pools_of_tier: tuple[int, float], flows: int, size: int, n: np.ndarray, stride: np.ndarray,
                k_tier: np.ndarray, k_domain: np.ndarray, occupancy: npt.ArrayLike, alone: bool,
                all_to_all: bool, redrawn: npt.ArrayLike = False) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(factor, balls, pools) of one tier for groups of `n` ranks `stride` apart (module docstring): the hashed factor
    on its even-spread load, the flows a pool throws on its bins and the pools drawing; None where nothing is hashed
    (one uplink a pool, or no group leaves the tier's domains). `pools_of_tier` (bins, GPUs) of a pool of the tier
    (`pool_geometry`), `flows` a GPU pair's hashed flows, `size` the tier domain's GPUs, `occupancy` its busy share,
    `alone` one group on the fabric (`concurrent_groups` 1), `redrawn` where the groups' descents draw this tier's
    down pools again (`descent_redrawn`: the whole domains' down pools drawn too, as an all-to-all's arrivals)."""
    bins, gpus = pools_of_tier
    occupancy = np.asarray(occupancy, dtype=np.float64)
    shape = np.broadcast(n, stride, k_tier, k_domain, occupancy).shape
    if bins < 2 or not np.any(n * stride > size):  # no group leaves the tier's domains: nothing hashed here
        return None
    streams = n - k_tier if all_to_all else np.minimum(k_domain / k_tier, 1.0)
    balls = np.maximum(np.rint(gpus * occupancy * streams * flows), 1.0)
    domains = np.ceil(n * stride / size)
    domains = np.minimum(domains, np.ceil(n / k_tier)) if alone else domains
    pools = np.maximum(np.rint(domains * size / gpus), 1.0) * (2.0 if all_to_all else 1.0)
    if not all_to_all and np.any(redrawn):  # descents drawing again: the down pools of the whole domains reached
        whole = np.minimum(np.floor(n * stride / size), domains)  # (a part-filled one's lighter pool seldom binds)
        pools = pools + np.where(redrawn, np.maximum(np.rint(whole * size / gpus), 1.0), 0.0)
    b, p = np.broadcast_arrays(balls, pools)
    if b.size == 1:  # one group (a single estimate's): no sort
        return np.full(shape, hashed_over_even(int(b.flat[0]), bins, int(p.flat[0]))), b, p
    keys, back = np.unique(np.stack([b.ravel(), p.ravel()]), axis=1, return_inverse=True)
    factors = np.asarray([hashed_over_even(int(bb), bins, int(pp)) for bb, pp in keys.T])
    return np.asarray(factors[np.asarray(back).ravel()].reshape(shape), dtype=np.float64), b, p


def descent_redrawn(planed: tuple[bool, ...], tier: int, stride: np.ndarray, sizes: tuple[int, ...]) -> np.ndarray:
    """Where the descents of groups of ranks `stride` apart draw tier `tier`'s down pools again (hE76), as
    `routing.route` routes them: below the switch a flow turns at, the descent's switch of tier s is forced to the
    climb's only where every tier from s + 1 up to the turn is split in planes (`planed`, per built tier from the
    leaf), so the down bundle under tier t + 1 repeats its climb's draws where the switch below it is forced (the
    leaf always is), else it draws again. A flow leaving a tier-t domain turns above tier t, and every hop of a
    group (a ring's neighbours, a pipeline's pairs) turns at least above the highest tier whose domain its stride
    spans: True where each of its flows on the tier redraws so (a planeless 3-tier fabric, meta-genai-roce-24k: the
    pod tier under the cluster's turn always, the rack tier where the stride spans a pod); a 2-tier fabric, a tier
    planed up to the turn, or a hop that may turn just above (a ring's stride-1 neighbours at the rack): False."""
    redraw = _redrawing_turns(planed, tier, len(sizes))
    if not redraw:  # (planed up to every turn, or 2 tiers: no array work)
        return np.zeros((), dtype=bool)
    spans = sum(np.asarray(stride) >= size for size in sizes) - 1  # the highest tier's domain a hop leaves
    turns = np.maximum(spans, tier)  # the lowest tier (of `sizes`) its flows leaving this tier turn above
    return np.asarray(turns >= redraw[0]) if redraw == tuple(range(redraw[0], len(sizes))) else np.asarray(
        sum(turns == j for j in redraw) > 0)


@lru_cache(maxsize=64)
def _redrawing_turns(planed: tuple[bool, ...], tier: int, tiers: int) -> tuple[int, ...]:
    """The turns (tiers of `Fabric.tier_sizes` a flow leaves last) below which tier `tier`'s descent draws again."""
    return tuple(j for j in range(tier, tiers) if not all(planed[max(tier, 1) + 1:j + 2]))


def tier_factor(pools_of_tier: tuple[int, float], flows: int, size: int, n: np.ndarray, stride: np.ndarray,
                k_tier: np.ndarray, k_domain: np.ndarray, occupancy: npt.ArrayLike, alone: bool,
                all_to_all: bool) -> np.ndarray:
    """`tier_throws`' hashed factor on one tier's even-spread load (1 where nothing is hashed)."""
    throws = tier_throws(pools_of_tier, flows, size, n, stride, k_tier, k_domain, occupancy, alone, all_to_all)
    if throws is None:
        return np.ones(np.broadcast(n, stride, k_tier, k_domain, np.asarray(occupancy)).shape)
    return throws[0]


@lru_cache(maxsize=4096)
def slowest_of_hashed(groups: tuple[tuple[int, int, float, int], ...], known: float) -> float | None:
    """E[max(known, every tier's busiest hashed uplink)] for tiers crossed at once (hE75), each (balls, bins, seconds a
    ball, pools) drawing independently (`expected_slowest`); None where at most one tier's law reaches above every
    other's least and `known`: the caller keeps the per-tier factors there, bit for bit (hE74's max(known, E X): a
    ring whose NICs bind while one tier's busiest uplink overtakes them 1e-5 of the time keeps its NIC time).

    A flow crossing two hashed tiers waits for its busiest link of both, so a step's expected time is the expected
    largest of the two tiers' busiest uplinks, not the larger of their expectations (E[max(X, Y)] >= max(E X, E Y)):
    the route-based line (`ecmp_collisions.collision_factor`) takes every pool of the step so, and the flow model's
    mean over seeds follows it (a 4,096-GPU send-recv over two hashed tiers: validation/notes/network_flow_tried.md,
    Session 75 hE)."""
    return slowest_of_tiers(tuple((group,) for group in groups), known)


@lru_cache(maxsize=4096)
def slowest_of_tiers(tiers: tuple[tuple[tuple[int, int, float, int], ...], ...], known: float) -> float | None:
    """`slowest_of_hashed` where a tier's pools throw unequal flows (`pair_loads.rail_pools`: a spread send-recv
    loads only its members' rails, hE2 75): each tier several (balls, bins, seconds a ball, pools); None where at most
    one tier can reach above every other tier's least and `known`."""
    spans = []  # each tier's least and largest busiest-uplink seconds
    for groups in tiers:
        laws = [(balls, bins, per, max_load_cdf(balls, bins)) for balls, bins, per, _ in groups]
        spans.append((max(m0 * per for _, _, per, (m0, _) in laws),
                      max((m0 + cdf.size - 1) * per for _, _, per, (m0, cdf) in laws)))
    floor = max([known] + [low for low, _ in spans])  # every draw is at least this
    live = [groups for groups, (_, high) in zip(tiers, spans, strict=True) if high > floor]
    if len(live) < 2:
        return None
    return expected_slowest([group for groups in live for group in groups], floor)


def slowest_rate(rate: np.ndarray, known: np.ndarray,
                 tiers: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]]) -> np.ndarray:
    """`rate` (the per-tier factors' bandwidth: the least of `known` and each hashed tier's hashed limit) where that is
    exact, else 1 / E[max(1 / known, every crossed tier's busiest uplink)] (`slowest_of_hashed`). `known`: the rate
    of the links no hash touches (NIC, scale-up, tiers nothing is hashed on); `tiers`: per hashed tier (crossed,
    its hashed limit, factor, balls, pools, bins), a tier's busiest bin of m balls taking m x bins / (balls x its
    even-spread limit) seconds a byte (the even limit = hashed limit x factor)."""
    shape = np.broadcast(rate, known, *(x for tier in tiers for x in tier[:5])).shape
    several = sum(np.broadcast_to(tier[0], shape).astype(np.int64) for tier in tiers) >= 2 if len(tiers) > 1 else None
    if several is None or not np.any(several):  # one hashed tier crossed: its factor is the answer
        return rate
    rate, known = np.broadcast_to(rate, shape), np.broadcast_to(known, shape)
    columns = []
    for crossed, limit, factor, balls, pools, bins in tiers:  # (balls, pools, a ball's seconds over known's)
        columns += [np.where(crossed, balls, 0.0), pools, known * bins / (balls * limit * factor)]
    rows = np.stack([np.broadcast_to(c, shape)[several] for c in columns], axis=1)
    keys, back = np.unique(rows, axis=0, return_inverse=True)
    scale = np.full(keys.shape[0], np.nan)
    for j, row in enumerate(keys):
        groups = tuple((int(row[3 * t]), tier[5], float(row[3 * t + 2]), int(row[3 * t + 1]))
                       for t, tier in enumerate(tiers) if row[3 * t] > 0)
        value = slowest_of_hashed(groups, 1.0)
        scale[j] = np.nan if value is None else value
    out = np.array(rate, dtype=np.float64)
    scaled = scale[np.asarray(back).ravel()]
    out[several] = np.where(np.isnan(scaled), rate[several], known[several] / scaled)
    return out


def flows_a_pair(flows_per_pair: int, nics_per_node: int, gpus_per_node: int) -> int:
    """A GPU pair's hashed flows, rounded up to whole stripes over its NICs (as `flow_sim.simulate` stripes them)."""
    per_gpu = max(1, nics_per_node // gpus_per_node)
    return -(-max(1, flows_per_pair) // per_gpu) * per_gpu


def fabric_fields(system: System, topo: ClosTopology | None) -> dict[str, Any]:
    """`Fabric.ecmp_pools` / `ecmp_flows` of a fabric balanced by ECMP (`Network.balancing`: stated, or omitted off
    InfiniBand, as `collective` and the flow model read it: one answer, hB74) that builds a Clos, else none: adaptive
    routing (a generic cluster's stated idealised fabric, `cluster.generic`); no fabric to build; rail-only, whose
    tiers the analytical model takes from its rails."""
    if system.network.balancing != "ecmp" or topo is None or system.network.rail_only or len(
            topo.tiers) != len(system.network.tiers):  # (the analytical tiers are the configured ones)
        return {}
    pools = pool_geometry(topo)
    if all(bins < 2 for bins, _ in pools):  # one switch (an MTIA rack): nothing to hash among
        return {}
    return {"ecmp_pools": pools, "ecmp_planed": tuple(bool(tier.planes > 1) for tier in topo.tiers),
            "ecmp_flows": flows_a_pair(system.network.ecmp_flows_per_pair, topo.nics_per_node, topo.gpus_per_node)}


def balancing_basis(network: Network) -> str:
    """Where a fabric's balancing comes from, as the answers say it (hB74): its file's `load_balancing_source`, or the
    kind's default where the file omits it (what `fabric_fields`, `collective` and the flow model all read)."""
    if network.load_balancing is not None:
        return f" ({network.load_balancing}: {network.load_balancing_source.strip()})"
    return (f" ({network.balancing}: load_balancing omitted, so {network.kind}'s default, adaptive on InfiniBand, "
            "ecmp elsewhere: NCCL_IB_ADAPTIVE_ROUTING's default)")


def balancing_fields(network: Network) -> dict[str, Any]:
    """`network --json`'s balancing (hE75): what train, serve, `collective` and the flow model all read
    (`Network.balancing`), whether the file states it, where it comes from, and an ECMP fabric's flows a pair."""
    return {"load_balancing": network.balancing, "load_balancing_stated": network.load_balancing is not None,
            "load_balancing_basis": balancing_basis(network).strip()[1:-1],
            "ecmp_flows_per_pair_count": network.ecmp_flows_per_pair if network.balancing == "ecmp" else None}


def balancing_note(network: Network) -> list[str]:
    """One line where a file omits `load_balancing` and its kind's default is taken (hE75): a RoCE / Ethernet file is
    then hashed per flow at its `ecmp_flows_per_pair` (1 unless stated), with no other word of it (catalog systems and
    generic clusters state theirs)."""
    if network.load_balancing is not None:
        return []
    how = (f"ecmp, {network.ecmp_flows_per_pair} flow{'s' if network.ecmp_flows_per_pair > 1 else ''} per pair of "
           "accelerators hashed (train, serve, collective and the flow model price its expected collisions)"
           if network.balancing == "ecmp" else "adaptive, every flow spread evenly over its equal-cost uplinks")
    return [f"load_balancing omitted: {network.kind}'s default taken, {how}; state `load_balancing` (adaptive or "
            "ecmp, with `load_balancing_source`) and `ecmp_flows_per_pair` in the system file to set it"]


def tree_hash_note(fabric: Any, op: str, algorithm: str, n: int, stride: int) -> list[str]:
    """`collective`'s note where a double binary tree crosses a hashed tier (hE76): train and serve price a tree's
    bytes at the even spread (`network.tree_crossings`: no hashed factor), since a tree puts few flows on a link and
    a collision rarely lifts one above its NIC (the flow model over seeds 0-3, meta-genai-roce-24k, 64 MiB: +0.24 %
    at 1,024 GPUs, +1.0 % at 4,096; validation/notes/network_flow_tried.md, Session 75 hE)."""
    if op != "all-reduce" or algorithm != "tree" or not fabric.ecmp_pools:
        return []
    if not any(bins > 1 and n * stride > size for (bins, _), size in zip(fabric.ecmp_pools, fabric.tier_sizes,
                                                                          strict=False)):
        return []
    return ["ECMP on a tree: `priced_time_s` (what train and serve charge) keeps the tree's even spread over the "
            "hashed tiers it crosses, without the expected hash collisions rings and pipeline hops are priced with; "
            "a tree puts few flows on a link (the flow model's mean over 4 seeds on meta-genai-roce-24k, 64 MiB: "
            "+0.24 % over it at 1,024 GPUs, +1.0 % at 4,096); `time_s` takes the schedule's routed line where that "
            "is above it"]
