"""The collectives' schedules for the flow simulator (`network.flow_sim`), as NCCL runs them over a placed group;
`network.collective_schedules` places the group, chooses the algorithm and runs them.

Schedules for the flow simulator (one `FlowSet` per step; identical steps are simulated once):
* ring (NCCL rings): with k group members per scale-up domain (`node.scale_up_domain`: a DGX node, an NVL72
  rack of 18 trays) the data is split over k rings (NCCL channels); ring c enters every domain at member c and
  leaves it at member c - 1 towards member c of the next domain, so the k rings cross between domains on k
  different NICs, and a group inside one domain is one ring over NVLink (NCCL >= 2.19 with MNNVL fuses the
  trays of one NVLink clique into one node, graph/topo.cc, cited from memory). All-reduce = 2(n-1) steps of
  size/(n k) per flow, reduce-scatter and all-gather n-1 steps; NCCL's ring is a pipeline, so a step takes its
  slowest transfer plus the mean of its pairs' hop latencies (`network.ring_latency`, as the analytical ring), the
  hierarchical schedule's rings likewise;
* hierarchical: ring reduce-scatter inside each scale-up domain (k-1 steps of size/k), then k rail rings of one
  member per domain on size/k, then all-gather inside each domain;
* tree (NCCL's double binary tree, Sanders, Speck & Traeff, Parallel Computing 35(12), 2009, as built by
  NCCL's ncclGetBtree/ncclGetDtree): k channels (one per member of a scale-up domain and its NIC), each a chain
  through the domain's members and two complementary binary trees over the domains carrying half the channel's data;
  reduce up and broadcast down at once (NCCL's runTreeSplit, recalled: ASSUMPTION, `tree_crossings`),
  pipelined over ceil(log2 n) chunks (the analytical
  model's 2 size / bw); two passes of latency (up, then down);
  across domains a pass pays its longest path's latency once (`tree_pass_latency`: the leg in a domain as the
  in-domain tree plus the tree's levels, each hop at its own tier, as `nccl_trees.tree_latency_one`), inside one
  domain ceil(log2 n) slowest hops;
* all-to-all: NCCL's grouped send/recv of size/n to every peer, `A2A_PEERS_IN_FLIGHT` (32) peers at a time:
  round r sends to the peers at offsets r + 1 + q R (q = 0..31, R = ceil((n-1)/32) rounds), so every round
  spans every distance (and tier) alike and one round is simulated, repeated R times;
* send-recv: rank i sends `size` to rank i + n/2 (all pairs at once).

What a schedule will cost, checked before it runs (`check_flow_run`, hT71): its memory
(`flow_sim.require_flow_memory`, budget.py's measured bytes per flow) and wall time (`flow_sim.estimated_seconds`:
the flows' own work or, for an all-to-all, its filling rounds over the links it crosses). Past
`flow_sim.FLOW_SIM_WARN_S` the estimate is said in one line first; past `FLOW_SIM_MAX_S` (`limits.MAX_FLOW_SIM_SECONDS`)
or the memory limit the run is refused in one line. An all-to-all is checked first on a lower bound of its flows
counted without building them (`all_to_all_flows_at_least`): among 999,424 GPUs its 32 M transfers took ~7 s and
1.6 GB to build before the memory refusal (hH70, session 49).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from infraplan.errors import InputError
from infraplan.network import fabric as _fabric
from infraplan.network import flow_sim as _flow_sim
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.collectives import A2A_PEERS_IN_FLIGHT, all_to_all_rounds
from infraplan.network.flow_sim import FlowSet, estimated_seconds, inter_domain_flows_per_pair
from infraplan.network.nccl_trees import tree_depth_latency, tree_parents


def _domains(gpus: np.ndarray, domain: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per member: its domain's first member (index into `gpus`), its position in the domain and the domain's
    member count (members sorted; a spread placement may put different counts on different domains)."""
    _, start, counts = np.unique(gpus // domain, return_index=True, return_counts=True)
    which = np.repeat(np.arange(start.size), counts)
    return start[which], np.arange(gpus.size) - start[which], counts[which]


def _rotated(gpus: np.ndarray, domain: int, c: int) -> np.ndarray:
    """Members domain by domain, each domain's list rotated to start at its member c (mod its count)."""
    first, pos, count = _domains(gpus, domain)
    return np.asarray(gpus[first + (pos + c) % count], dtype=np.int64)


def _rings(gpus: np.ndarray, domain: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(src, dst) of one step of k domain-crossing rings over the group (`domain` GPUs per scale-up domain), and k
    (the most members on one domain)."""
    _, counts = np.unique(gpus // domain, return_counts=True)
    if counts.size == 1:
        return gpus, np.roll(gpus, -1), 1
    k = int(counts.max())
    src, dst = [], []
    for c in range(k):
        seq = _rotated(gpus, domain, c)  # ring c: domain by domain, entering at member c
        src.append(seq)
        dst.append(np.roll(seq, -1))
    return np.concatenate(src), np.concatenate(dst), k


def _steps(op: str, n: int) -> int:
    return 2 * (n - 1) if op == "all-reduce" else n - 1


def _tree_edges(gpus: np.ndarray, domain: int, size: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                              np.ndarray | None]]:
    """The double binary tree's transfers up, in `_tree_phases`' order: per channel c (member c of every domain),
    the chain through the domain's members (parents None), then each of the two trees over the domains (child
    transfers, with the tree's parent array over the domains): (src, dst, bytes, parents)."""
    first, _, count = _domains(gpus, domain)
    heads = np.flatnonzero(first == np.arange(gpus.size))  # each domain's first member
    m, k = heads.size, int(count.max())
    inner = first[:-1] == first[1:]  # consecutive members of one domain
    edges: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = []
    for c in range(k):  # channel c: its slice size/k, split over the two trees
        chain = _rotated(gpus, domain, c)
        if inner.any():  # the chain through the domain's members carries both trees' halves
            src = chain[:-1][inner]
            edges.append((src, chain[1:][inner], np.full(src.size, size / k), None))
        rep = chain[heads]  # member c of every domain
        for parents in tree_parents(m):
            child = np.flatnonzero(parents >= 0)
            edges.append((rep[child], rep[parents[child]], np.full(child.size, size / (2 * k)), parents))
    return edges


def _tree_phases(gpus: np.ndarray, domain: int, size: float) -> list[tuple[FlowSet, int]]:
    """Reduce (up) and broadcast (down) of the double binary tree across domains at once (NCCL's runTreeSplit,
    `tree_crossings.tree_edges_crossing`), pipelined over ceil(log2 n) chunks: one step carries a chunk up every
    edge and one down it (the up transfers first, in `_tree_edges`' order, then the same pairs reversed). Inside
    one domain, or with `fabric.PIPELINED_TREE_LATENCY` off (each step its slowest hop), the two passes stay one
    after the other (the model's 2 ceil(log2 n) steps)."""
    chunks = max(1, math.ceil(math.log2(gpus.size)))
    edges = _tree_edges(gpus, domain, size)
    up_src, up_dst = np.concatenate([e[0] for e in edges]), np.concatenate([e[1] for e in edges])
    up_size = np.concatenate([e[2] for e in edges]) / chunks
    # inside one domain (or the pipelined tree switched off): the model's 2 ceil(log2 n) steps, one pass a phase
    if np.unique(gpus // domain).size == 1 or not _fabric.PIPELINED_TREE_LATENCY:
        return [(FlowSet.of(up_src, up_dst, up_size), chunks), (FlowSet.of(up_dst, up_src, up_size), chunks)]
    both = FlowSet.of(np.concatenate([up_src, up_dst]), np.concatenate([up_dst, up_src]),
                      np.concatenate([up_size, up_size]))
    return [(both, chunks)]


def tree_pass_latency(gpus: np.ndarray, domain: int, pair_latency_s: np.ndarray) -> float:
    """Latency of one pass (up or down) of the pipelined tree the flow schedule runs (`_tree_phases`), from the
    simulated hop latency of each of its transfers (`SimResult.pair_latency_s`, in the flow set's order): per
    channel, the leg inside a domain (ceil(log2 k) steps at its chain's slowest hop, as the in-domain tree) plus
    the longest path up either tree, each hop at its own latency (`nccl_trees.tree_latency_one`'s rule)."""
    longest, at = 0.0, 0
    chain: np.ndarray = np.zeros(0)
    for src, _, _, parents in _tree_edges(gpus, domain, 1.0):
        lat = pair_latency_s[at:at + src.size]
        at += src.size
        if parents is None:  # the leg in each domain: ceil(log2 k) steps at its slowest hop, as the in-domain tree
            first, _, count = _domains(gpus, domain)
            inner = np.flatnonzero(first[:-1] == first[1:])
            slowest = np.zeros(gpus.size)
            np.maximum.at(slowest, first[inner], lat)
            chain = np.ceil(np.log2(np.maximum(count, 1))) * slowest
            continue
        hop = np.zeros(parents.size)
        hop[parents >= 0] = lat
        depth = tree_depth_latency(parents, hop)
        heads = np.flatnonzero(_domains(gpus, domain)[0] == np.arange(gpus.size))
        through = depth + (chain[heads] if chain.size else 0.0)
        longest = max(longest, float(through.max()))
    return longest


def _all_to_all_offsets(n: int) -> tuple[int, np.ndarray]:
    """(rounds R, the peer offsets of one round: r + 1 + q R below n) of the all-to-all schedule over `n` ranks."""
    rounds = int(all_to_all_rounds(n))
    offsets = 1 + np.arange(A2A_PEERS_IN_FLIGHT) * rounds
    return rounds, offsets[offsets < n]


def all_to_all_transfers(n: int) -> int:
    """Transfers (GPU pairs) of the one all-to-all round `flow_phases` simulates over `n` ranks, without building
    them: n x the peers in flight."""
    return n * int(_all_to_all_offsets(n)[1].size)


def flow_phases(op: str, algorithm: str, gpus: np.ndarray, domain: int, size: float) -> list[tuple[FlowSet, int]]:
    """The distinct steps of the schedule with how often each repeats; `domain`: GPUs per scale-up domain."""
    n = gpus.size
    if op == "all-to-all":
        rounds, offsets = _all_to_all_offsets(n)
        src = np.repeat(np.arange(n), offsets.size)
        dst = (src + np.tile(offsets, n)) % n
        # the round carries the bytes of its share of the peers: R rounds move all (n-1) * size/n
        per_pair = size / n * (n - 1) / (rounds * offsets.size)
        return [(FlowSet.of(gpus[src], gpus[dst], per_pair), rounds)]
    if op == "send-recv":
        if n % 2:
            raise InputError(f"send-recv pairs rank i with rank i + n/2: --gpus must be even, got {n}")
        return [(FlowSet.of(gpus, np.roll(gpus, -(n // 2)), size), 1)]
    if algorithm == "ring":
        src, dst, k = _rings(gpus, domain)
        return [(FlowSet.of(src, dst, size / (n * k)), _steps(op, n))]
    if algorithm == "tree":
        return _tree_phases(gpus, domain, size)
    _, counts = np.unique(gpus // domain, return_counts=True)
    # hierarchical needs the same members on every domain (the rails' shards align); otherwise one flat ring
    grid = gpus.reshape(counts.size, -1) if (counts == counts[0]).all() else gpus.reshape(-1, 1)
    m, k = grid.shape
    intra = FlowSet.of(grid.reshape(-1), np.roll(grid, -1, axis=1).reshape(-1), size / k)
    rails = FlowSet.of(grid.reshape(-1), np.roll(grid, -1, axis=0).reshape(-1), size / (k * m))
    halves = 2 if op == "all-reduce" else 1
    phases = []
    if k > 1:
        phases.append((intra, halves * (k - 1)))
    if m > 1:
        phases.append((rails, _steps(op, m)))
    return phases


def all_to_all_flows_at_least(topo: ClosTopology, gpus: int, stride: int, flows_per_pair: int) -> int:
    """The fewest flows the all-to-all round among `gpus` GPUs `stride` apart can route: its transfers
    (`all_to_all_transfers`), each across scale-up domains at `inter_domain_flows_per_pair` flows but for at most
    k - 1 peers of each rank inside its domain (k: the most members a domain can hold), one flow each."""
    transfers = all_to_all_transfers(gpus)
    members = min(gpus, -(-topo.scale_up_domain_gpus // max(stride, 1)))
    inside = min(transfers, gpus * (members - 1))
    return (transfers - inside) * inter_domain_flows_per_pair(topo, flows_per_pair) + inside


def check_flow_run(flows: list[int], link_rounds: float, tiers: int,
                   notice: Callable[[str], None] | None) -> None:
    """Refuse (InputError, one line) a simulation of `flows` (one count per phase) past the memory limit or estimated
    past `FLOW_SIM_MAX_S`, tell `notice` of one estimated past `FLOW_SIM_WARN_S`. `link_rounds`: an all-to-all's
    filling work per phase (`flow_sim.all_to_all_link_rounds`), 0 for a schedule of few events."""
    _flow_sim.require_flow_memory(max(flows), tiers)  # refused for memory before for time
    seconds = sum(estimated_seconds(f, link_rounds) for f in flows)
    if seconds <= _flow_sim.FLOW_SIM_WARN_S:
        return
    total = sum(flows)
    per_flow = _flow_sim.FLOW_SIM_SECONDS_PER_FLOW * 1e6
    by_rounds = link_rounds > 0.0 and seconds > sum(estimated_seconds(f) for f in flows)
    rate = (f"its ~{_flow_sim.A2A_FILLING_ROUNDS:,} filling rounds over the links it crosses at "
            f"{_flow_sim.FLOW_SIM_SECONDS_PER_LINK_ROUND * 1e9:.0f} ns per link per round" if by_rounds
            else f"{per_flow:.0f} us per flow")
    said = (f"a flow simulation of {total:,} flows may take about {_minutes(seconds)} on {_flow_sim.FLOW_SIM_MACHINE} "
            f"({rate}, the slowest rate measured there; runs with few completion events take far less)")
    if seconds > _flow_sim.FLOW_SIM_MAX_S:
        raise InputError(f"{said}, over the {_minutes(_flow_sim.FLOW_SIM_MAX_S)} bound (infraplan.limits); use "
                         "--sim analytical, fewer --flows-per-pair, or a smaller group")
    if notice is not None:
        notice(f"note: {said}")


def _minutes(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 120.0 else f"{seconds / 60.0:,.0f} min"
