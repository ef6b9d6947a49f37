"""Flow-level fabric simulator: max-min fair sharing by progressive filling, event-driven completions.

The fluid flow model (Bertsekas & Gallager, "Data Networks", Sec. 6.5.2: max-min fairness and progressive
filling), as validated for TCP-like transports by Velho & Legrand, "Accuracy study and improvement of network
simulation in the SimGrid framework" (SIMUTools 2009): every active flow gets a rate such that no flow can
grow without shrinking one that is no faster; rates are recomputed whenever flows finish.

Progressive filling, vectorised: all unfrozen flows grow together by the smallest fair share left on any
link (remaining capacity / unfrozen flows through it); flows
crossing a link that saturates freeze. Each round saturates at least one link, so a round count well below the
link count suffices. Between events all rates are constant; the next event is the earliest completion
(flows finishing within `rtol` of it complete together).

Flow classes (issue 18): flows with the same links and bytes (ECMP copies that hashed onto the same switches,
symmetric pairs) are merged into one class of weight w before filling. Max-min fairness gives identical flows
identical rates (the allocation is unique, Bertsekas & Gallager Sec. 6.5.2), so filling over classes, each
counting w flows on its links, is exact, not an approximation. Links no flow crosses are dropped (compact
numbering), the link x class matrix is built once (scipy.sparse, linear-time transpose) and the per-link load
is kept up to date across events instead of rebuilt.

Replayed rounds (hF, session 35): an event removes only the classes that finished, and progressive filling
over the classes left runs through the same rounds as before until a round saturates other links
(`network.max_min_filling.Filling`, with the one-shot `max_min_rates`).
Each round's link arithmetic is redone, the per-class work (the classes on the saturated links, their load) is
reused from the previous event while the saturated links match, so the rates are a fresh filling's to the bit.
An all-to-all finishes a few classes per event (the ones on the most loaded links) and every later event
replays all its rounds: the per-class cost is paid once, not once per event.

Flows are routed over the explicit topology (routing.py) with ECMP: each GPU pair's bytes are split over
`flows_per_pair` flows hashed independently (the Llama 3 cluster uses 16, Enhanced-ECMP); on a pooled link table
(adaptive routing, `network.adaptive_routing`: InfiniBand) each flow spreads over every equal-cost uplink instead.
The model assumes lossless fluid transport: no packet loss, PFC pauses, queueing delay or congestion-control
dynamics; latency (alpha) is added per flow from the hop count, as the analytical model does (`transfer_s` and
`mean_latency_s` give a pipelined ring's step: its slowest transfer plus its hops' mean latency,
`network.ring_latency`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from infraplan.budget import FLOW_BYTES_PER_FLOW, FLOW_BYTES_PER_FLOW_PER_TIER, require_memory
from infraplan.errors import InputError
from infraplan.limits import MAX_FLOW_SIM_SECONDS
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.max_min_filling import Filling, Incidence
from infraplan.network.routing import LinkTable, route


@dataclass(frozen=True)
class FlowSet:
    """GPU-to-GPU transfers (GPU indices in the topology) that start together; `job` tags each transfer."""

    src: np.ndarray
    dst: np.ndarray
    size_bytes: np.ndarray
    job: np.ndarray

    @classmethod
    def of(cls, src: npt.ArrayLike, dst: npt.ArrayLike, size_bytes: npt.ArrayLike, job: int = 0) -> FlowSet:
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        size = np.broadcast_to(np.asarray(size_bytes, dtype=np.float64), src.shape).copy()
        return cls(src, dst, size, np.full(src.shape, job, dtype=np.int64))

    @classmethod
    def concat(cls, sets: list[FlowSet]) -> FlowSet:
        return cls(*(np.concatenate([getattr(s, k) for s in sets]) for k in ("src", "dst", "size_bytes", "job")))


def flow_memory_bytes(flows: int, tiers: int) -> float:
    """Peak bytes of simulating `flows` flows on a `tiers`-tier fabric: routing's (flows, 2 tiers) int32 path
    array and per-flow temporaries, the class key sorted once to merge identical flows, the class incidence
    (link-major CSR) and a 100 MB base; the per-flow figures are measured (budget.py)."""
    return 100e6 + flows * (FLOW_BYTES_PER_FLOW + FLOW_BYTES_PER_FLOW_PER_TIER * tiers)


def require_flow_memory(flows: int, tiers: int) -> None:
    """Refuse (one-line InputError) a simulation of `flows` flows whose memory would pass the limit (budget.py)."""
    require_memory(flow_memory_bytes(flows, tiers), f"a flow simulation of {flows:,} flows",
                   "use --sim analytical, fewer --flows-per-pair, or a smaller group")


# Wall time of a flow simulation, estimated before it starts (`estimated_seconds`) at the slowest rates measured on
# this project's development VM (2 vCPUs, AMD EPYC, shared with other jobs: wall ~1.3-1.8x CPU), the larger of two
# terms, each a cost a measured run reached:
# * the flows' own work (routing, merging classes): spread all-to-alls on meta-genai-roce-24k at 16 flows per pair
#   with the replayed filling rounds (hF, session 35, validation/notes/network_flow_tried.md): 4,096 GPUs 2.08 M
#   flows 11.4-26.7 s (80 events), 8,192 GPUs 4.12 M flows 11.1-17.4 s (36 events), 16,384 GPUs 8.17 M flows 74-83 s
#   (272 events), all 24,576 GPUs 12.26 M flows 140.9 s (173 events);
# * an all-to-all's filling rounds over the links its flows cross: with one flow per pair no ECMP copies merge and
#   the rounds (each saturates at least one link; an event replays them) set the time, ~15 ns of wall per round per
#   GPU per tier (hT71, session 49, packed h100-sxm all-to-alls at 1 flow per pair, load 4-6 on 2 cores): 4,096 /
#   8,192 / 16,384 / 32,768 GPUs (3 tiers) 2.7 / 5.3 / 12.8 / 38.3 s, 15,051-21,736 rounds, 14.6 / 13.5 / 15.0 /
#   17.9 ns; 100,000 GPUs (4 tiers, 3.2 M flows) 137 s (102 s CPU), 24,090 rounds, 14.2 ns: 3.3x the per-flow term's
#   41 s, which had said nothing (hH70); meta-genai-roce-24k 4,096 GPUs at 1 flow per pair 26,335 rounds, 5.4 s.
#   The rounds are not known before the run: the most measured (26,335) is assumed (ASSUMPTION: they grew from
#   12,720 to 24,090 over 2,048-100,000 GPUs); a ring, tree or send-recv step has one or a few events, few rounds.
FLOW_SIM_SECONDS_PER_FLOW = 26.69 / 2_081_792  # 12.8 us: the 4,096-GPU all-to-all's rate (the slowest measured)
FLOW_SIM_SECONDS_PER_LINK_ROUND = 38.3 / (21_736 * 32_768 * 3)  # 17.9 ns: the 32,768-GPU run's (the slowest)
A2A_FILLING_ROUNDS = 26_335  # the most filling rounds measured in an all-to-all's run (above)
FLOW_SIM_MACHINE = "a shared 2-vCPU AMD EPYC VM"
FLOW_SIM_WARN_S = 60.0  # estimates past this are said before the run starts
FLOW_SIM_MAX_S = MAX_FLOW_SIM_SECONDS  # estimates past this are refused (infraplan.limits)


def inter_domain_flows_per_pair(topo: ClosTopology, flows_per_pair: int) -> int:
    """Flows `simulate` routes per GPU pair between scale-up domains: `flows_per_pair` rounded up to whole stripes
    over a GPU's NICs (one per pair inside a domain)."""
    per_gpu = max(1, topo.nics_per_node // topo.gpus_per_node)
    return -(-max(1, int(flows_per_pair)) // per_gpu) * per_gpu


def flow_count(topo: ClosTopology, flows: FlowSet, flows_per_pair: int) -> int:
    """Flows `simulate` routes for the transfers: `inter_domain_flows_per_pair` per pair between scale-up domains,
    one per pair inside a domain."""
    sud = topo.scale_up_domain_gpus
    inter = int(np.count_nonzero((flows.src // sud) != (flows.dst // sud)))
    return inter * inter_domain_flows_per_pair(topo, flows_per_pair) + (flows.src.size - inter)


def all_to_all_link_rounds(gpus: int, tiers: int) -> float:
    """Filling work of an all-to-all among `gpus` GPUs on a `tiers`-tier fabric, in link-rounds: the most rounds
    measured (`A2A_FILLING_ROUNDS`) over the links its flows cross (one per GPU per tier)."""
    return float(A2A_FILLING_ROUNDS) * float(gpus) * float(max(tiers, 1))


def estimated_seconds(flows: int, link_rounds: float = 0.0) -> float:
    """Wall seconds a simulation of `flows` flows may take on `FLOW_SIM_MACHINE`: the larger of its flows' work and
    its filling rounds' (`link_rounds`, `all_to_all_link_rounds`; 0 for a schedule of few events), each at the
    slowest rate measured there (the constants above); rough, an estimate of what a run may take."""
    return max(float(flows) * FLOW_SIM_SECONDS_PER_FLOW, float(link_rounds) * FLOW_SIM_SECONDS_PER_LINK_ROUND)


@dataclass(frozen=True)
class SimResult:
    finish_s: np.ndarray  # per transfer (GPU pair), latency included
    job_finish_s: dict[int, float]
    bottleneck_class: str  # link class that froze the slowest flow
    rounds: int  # progressive-filling rounds, all events together
    events: int
    flows: int
    classes: int = 0  # flow classes (flows with the same links and size, merged)
    slowest_latency_s: float = 0.0  # hop latency of the flow that finishes last (for flow_explain.py)
    slowest_transfer_s: float = 0.0  # its fluid transfer time
    busiest_link_flows: float = 0.0  # flows at the start on the busiest link of the bottleneck class
    mean_link_flows: float = 0.0  # mean flows at the start over the bottleneck class's links in use
    links_in_use: int = 0  # links of the bottleneck class that some flow crosses
    transfer_s: float = 0.0  # the last fluid completion, latency not included
    mean_latency_s: float = 0.0  # hop latency of a transfer (GPU pair), averaged over the transfers
    # hop latency of every transfer (GPU pair), in the flow set's order (a pipelined tree's critical path)
    pair_latency_s: np.ndarray = field(default_factory=lambda: np.zeros(0))


# progress of a long simulation: (stage, done, total), called between stages, events and filling rounds
Progress = Callable[[str, float, float], None]


def merge_classes(paths: np.ndarray, size: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Merge flows with the same links and bytes into classes: (class paths, class bytes, weight, class of each
    flow). Classes are ordered by their first flow, so ties resolve as they would flow by flow.

    Rows are grouped by a 64-bit hash (one sort of integers); the grouping is then checked row by row against
    each class's first flow and, should two different rows ever share a hash, redone by the rows themselves.
    """
    key = np.empty((paths.shape[0], paths.shape[1] + 2), dtype=np.int32)
    key[:, :-2] = paths
    key[:, -2:] = np.ascontiguousarray(size, dtype=np.float64).view(np.int32).reshape(-1, 2)
    mult = np.random.default_rng(0x5EED).integers(1, 2**62, size=key.shape[1], dtype=np.uint64) | np.uint64(1)
    with np.errstate(over="ignore"):
        digest = (key.astype(np.uint64) * mult).sum(axis=1, dtype=np.uint64)
        digest ^= digest >> np.uint64(29)
    _, first, inverse, weight = np.unique(digest, return_index=True, return_inverse=True, return_counts=True)
    del digest
    inverse = inverse.ravel()
    if not (key == key[first[inverse]]).all():  # a hash collision: group by the full rows instead
        rows = key.view(np.dtype((np.void, key.shape[1] * 4))).ravel()
        _, first, inverse, weight = np.unique(rows, return_index=True, return_inverse=True, return_counts=True)
        inverse = inverse.ravel()
    del key
    order = np.argsort(first, kind="stable")
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    leader = first[order]
    return paths[leader], size[leader], weight[order].astype(np.float64), rank[inverse]


def simulate(topo: ClosTopology, links: LinkTable, flows: FlowSet, latency_by_tier: tuple[float, ...],
             scale_up_latency_s: float, flows_per_pair: int = 1, seed: int = 0,
             rtol: float = 1e-2, progress: Progress | None = None,
             routes: tuple[np.ndarray, np.ndarray] | None = None) -> SimResult:
    """Run the transfers to completion. Transfers between scale-up domains (`topo.scale_up_domain_gpus`: a node,
    or an NVL72 rack of 18 trays) are split into `flows_per_pair` ECMP flows, rounded up to a multiple of the
    GPU's NICs when it has several (striped over them, routing.py); inside a domain one flow over NVLink.

    Flows with the same links and bytes (ECMP copies that hashed alike, symmetric pairs) are merged into
    weighted classes first; they share rates and finish together, so the result is the flow-by-flow one.
    `rtol` is the relative tolerance of both the rate levels and the completion grouping (1 % by default:
    flows finishing within 1 % of the next event finish with it). `progress(stage, done, total)`, if given, is
    told the stage (routing, merging, filling: the event and the share of its rates set) and the bytes moved out
    of all of them (total 0 while routing and merging: not counted).
    `routes` (paths, reached): one flow per transfer on links the caller chose (a SHARP aggregation tree,
    `network.sharp_flows`: an (F, H) array of link ids padded with -1, and the tier each flow's latency is that
    of), instead of `route`'s ECMP; `flows_per_pair` and `seed` then do not apply.
    """
    rng = np.random.default_rng(seed)
    pairs = flows.src.size
    sud = topo.scale_up_domain_gpus  # pairs inside one NVLink domain go over scale-up, not the NICs
    if routes is None:
        inter = (flows.src // sud) != (flows.dst // sud)
        per_gpu = max(1, topo.nics_per_node // topo.gpus_per_node)  # NICs per GPU: whole stripes over all of them
        copies = np.where(inter, -(-max(1, int(flows_per_pair)) // per_gpu) * per_gpu, 1)
    else:
        copies = np.ones(pairs, dtype=np.int64)
    total = int(copies.sum())
    require_flow_memory(total, len(topo.tiers))
    if progress is not None:
        progress("routing", 0.0, 0.0)
    paths, reached, owner = route(topo, links, flows.src, flows.dst, copies, rng) if routes is None else (
        np.asarray(routes[0], dtype=np.int32), np.asarray(routes[1], dtype=np.int64), np.arange(pairs))
    lat_table = np.asarray((scale_up_latency_s, *latency_by_tier))
    latency = lat_table[np.minimum(reached + 1, len(lat_table) - 1)]
    del reached
    if progress is not None:
        progress("merging flow classes", 0.0, 0.0)
    cls_paths, size, weight, flow_class = merge_classes(paths, flows.size_bytes[owner] / copies[owner])
    del paths
    valid = cls_paths >= 0
    in_use = np.zeros(links.capacity.size + 1, dtype=bool)
    in_use[cls_paths[valid]] = True
    used = np.flatnonzero(in_use)  # compact link numbering: only the links some flow crosses
    local = np.cumsum(in_use, dtype=np.int32) - 1
    compact = np.where(valid, local[cls_paths], -1).astype(np.int32)
    del cls_paths, valid, local
    inc = Incidence.build(compact, used.size, weight)
    capacity = links.capacity[used]
    if links.pooled and (capacity <= 0).any():  # a pool whose every link failed (`adaptive_routing.pooled_links`)
        raise InputError("--failed-links: no healthy path for some flows (the failed links cut them off); fail fewer "
                         "links")
    active = size > 0
    act = np.flatnonzero(active)  # the active classes, ascending; `remaining` and `act_rate` are theirs
    remaining = size[act]
    act_rate = np.zeros(0)
    finish = np.zeros(size.size)
    now, rounds, events = 0.0, 0, 0
    slow_link = -1
    load = inc.load(act, used.size)
    start_load = load.copy()
    filling = Filling(inc, capacity, rtol)
    finished: np.ndarray | None = None
    all_bytes = float(size @ weight)
    scratch = np.empty((2, act.size))
    left = act.size  # active classes; finished ones stay in `act` with remaining inf until a quarter are done
    while left:
        on_round = None
        if progress is not None:
            going = np.isfinite(remaining)

            def on_round(frozen: int, moved: float = all_bytes - float(remaining[going] @ weight[act[going]]),
                         event: int = events + 1, live: int = left) -> None:
                progress(f"filling: event {event}, {frozen / max(live, 1):.0%} of its rates set", moved, all_bytes)
            on_round(0)
        rate, frozen_by, r = filling.fill(active, load, finished, on_round)
        if filling.changed or act_rate.size != act.size:
            act_rate = rate[act]
        rounds += r
        events += 1
        ttf = np.divide(remaining, act_rate, out=scratch[0, :act.size])  # in place: no new pages per event
        dt = ttf.min()
        ends = np.add(ttf, now, out=scratch[1, :act.size])
        at = np.flatnonzero(ends <= (now + dt) * (1.0 + rtol))  # finishing within rtol of the event time
        finished = act[at]
        finish[finished] = ends[at]
        left -= at.size
        if not left:
            slow_link = int(used[frozen_by[finished[np.argmax(ttf[at])]]])
        remaining -= np.multiply(act_rate, dt, out=scratch[1, :act.size])
        remaining[at] = np.inf
        active[finished] = False
        load -= inc.load(finished, used.size)
        now += dt
        if 4 * left < 3 * act.size:  # drop the finished classes
            going = np.isfinite(remaining)
            act, remaining, act_rate = act[going], remaining[going], act_rate[going]
    per_flow = finish[flow_class] + latency
    per_pair = np.zeros(pairs)
    np.maximum.at(per_pair, owner, per_flow)
    pair_latency = np.zeros(pairs)
    np.maximum.at(pair_latency, owner, latency)
    jobs = {int(j): float(per_pair[flows.job == j].max()) for j in np.unique(flows.job)}
    name = links.class_names[int(links.link_class[slow_link])] if slow_link >= 0 else "none"
    last = int(np.argmax(per_flow)) if per_flow.size else -1
    slowest = (float(latency[last]), float(finish[flow_class[last]])) if last >= 0 else (0.0, 0.0)
    same = links.link_class[used] == links.link_class[slow_link] if slow_link >= 0 else np.zeros(0, dtype=bool)
    busiest, mean = (float(start_load[same].max()), float(start_load[same].mean())) if same.any() else (0.0, 0.0)
    return SimResult(per_pair, jobs, name, rounds, events, int(owner.size), int(size.size),
                     *slowest, busiest, mean, int(same.sum()), float(finish.max()) if finish.size else 0.0,
                     float(pair_latency.mean()) if pairs else 0.0, pair_latency)
