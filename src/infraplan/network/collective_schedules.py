"""Collectives end to end: placement of a group on a system, analytical (alpha-beta) or flow-level timing.

Placement: `packed` takes GPUs 0..n-1 (whole nodes, racks, pods in order); `spread` spaces the n GPUs evenly
over the whole system (stride = total / n), so a group of 1,024 on the 24,576-GPU cluster has one GPU on every
third node and 128 in each pod.

The flow simulator's schedules (ring, hierarchical, double binary tree, all-to-all, send-recv) are
`network.flow_schedules`'s.
All-reduce also runs as NCCL's NVLS (`network.nvlink_all_reduce`: in-switch reduction and multicast) inside one NVSwitch
domain on an accelerator whose catalog entry has and enables the NVLS figure; asked for by name elsewhere it is
refused. The flow simulator runs flows between GPUs, not reduction in the switch: for NVLS it simulates the ring
schedule over the same GPUs, and the result's `difference_reason` says so. IB SHARP (`--sharp`) runs each shard
group's aggregation tree as one flow over its NIC and switch links (`network.sharp_flows`).
`--algorithm auto` takes NCCL's choice by the priced times (`priced_collective.headline`, hC52: the candidates of
the training and serving models' `auto`, `collectives.all_reduce_time`: ring, tree, NVLS where it runs) in both
models, so both answer for the same schedule; before, and still with `PRICED_HEADLINE` off, the alpha-beta line's
fastest of those and the hierarchical one.
The analytical model prices oversubscribed tiers by the share of their uplinks this one group occupies
(`Fabric.concurrent_groups` = 1), the flow simulation's situation; where the two still differ by more than 5 %
the result says why in `difference_reason` (flow_explain.py: the phase and term, latency or bandwidth, that
differ most).

Conventions (nccl-tests PERFORMANCE.md): algbw = size / time; busbw from `collective_algorithms.bus_bandwidth`, where
the algorithm chosen and its analytical time come from too.
`priced_time_s`: what train and serve price for the same collective (`network.priced_collective`, hT71). The
analytical answer's `time_s` is that price since hC52 (`priced_collective.headline`: NCCL's algorithm where
`--algorithm auto`, the asked one's price where named, the alpha-beta line only for the hierarchical schedule);
`alpha_beta_time_s` is the alpha-beta line of the same algorithm, the one the flow model shares and compares with.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from infraplan.catalog.schemas import System
from infraplan.errors import InputError
from infraplan.limits import MAX_MESSAGE_BYTES
from infraplan.network import fabric as _fabric
from infraplan.network.adaptive_routing import pooled_links
from infraplan.network.clos_topology import ClosTopology
from infraplan.network.collective_algorithms import (
    analytical_time,
    bus_bandwidth,
    choose_algorithm,
    hierarchical_parts,
    sharp_assumptions,
)
from infraplan.network.collective_band import collective_band
from infraplan.network.collectives import (
    SCALE_UP_LATENCY_S,
    Fabric,
    bottleneck_tier,
)
from infraplan.network.ecmp_collisions import hashed_line_s
from infraplan.network.ecmp_tiers import balancing_basis, tree_hash_note
from infraplan.network.flow_explain import PhaseComparison, difference_reason, nvls_difference_reason, path_share
from infraplan.network.flow_schedules import all_to_all_flows_at_least, check_flow_run, flow_phases, tree_pass_latency
from infraplan.network.flow_sim import Progress, all_to_all_link_rounds, flow_count, simulate
from infraplan.network.flow_sized import sized_basis, sized_flow_time
from infraplan.network.priced_collective import headline, priced_collective
from infraplan.network.results import CollectiveResult
from infraplan.network.routing import LinkTable, build_links, fail_links, parse_failed_links
from infraplan.network.sharp import require_sharp, sharp_bottleneck
from infraplan.network.sharp_flows import sharp_difference_reason, sharp_flow
from infraplan.network.tier_bandwidth import crossing_notes
from infraplan.network.topology import build_topology, endpoint_word
from infraplan.network.tree_crossings import tree_bottleneck, tree_nic_reason
from infraplan.units import counted

OPS = ("all-reduce", "reduce-scatter", "all-gather", "all-to-all", "send-recv")


def _flow_algorithm(algorithm: str) -> str:
    """The schedule the flow model runs for `algorithm`: flows, not in-switch reduction (the ring NVLS replaces;
    NVLS_TREE's tree across domains)."""
    return "ring" if algorithm == "nvls" else "tree" if algorithm == "nvls_tree" else algorithm


def _topology_and_links(spec: System, fabric: Fabric) -> tuple[ClosTopology, LinkTable]:
    """The system's built Clos and its link table, as the flow model and ECMP's expected collisions read them."""
    topo = build_topology(spec)
    return topo, build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)


def _analytical_phases(fabric: Fabric, op: str, algorithm: str, size: float, n: int, stride: int,
                       count: int) -> list[tuple[float, float]]:
    """(bandwidth, latency) seconds of the analytical model for each of the flow schedule's `count` phases
    (flow_explain.py): the hierarchical formula's two levels where the schedule has both, else the whole time
    shared equally, its latency term being the time of a 1-byte message."""
    if algorithm == "hierarchical" and count == 2:
        halves = 2.0 if op == "all-reduce" else 1.0
        return [(halves * bw, halves * lat) for bw, lat in hierarchical_parts(fabric, size, n, stride)]
    total = analytical_time(fabric, op, algorithm, size, n, stride)
    latency = min(analytical_time(fabric, op, algorithm, 1.0, n, stride), total)
    return [((total - latency) / count, latency / count)] * count


def _collided(spec: System, fabric: Fabric, op: str, algo: str, size: float, n: int, stride: int, said: Any,
              topo: ClosTopology, links: LinkTable, phases: list[Any]) -> tuple[float, str]:
    """The analytical answer on an ECMP fabric (hE73): the alpha-beta line with ECMP's expected hash collisions of the
    flow schedule's `phases` on the built `links`, where above the headline `said`; else `said`'s."""
    hashed, factors = hashed_line_s(topo, links, phases, _analytical_phases(  # on the even spread's line
        replace(fabric, ecmp_pools=()), op, algo, size, n, stride, len(phases)),
                                    spec.network.ecmp_flows_per_pair)
    if not hashed > said.time_s * (1.0 + 1e-9):  # (a factor of 1 recomposes the line to rounding)
        return said.time_s, said.basis
    told = " / ".join(f"{f:.3f}x" for f in factors)
    return hashed, (f"the alpha-beta line with ECMP's expected hash collisions ({told} its bandwidth time, "
                    f"`network.ecmp_collisions`), above {said.basis}")


def _phase_names(op: str, algorithm: str, count: int) -> list[str]:
    if algorithm == "tree" and count == 1:
        return ["reduce and broadcast (up and down the trees at once)"]
    if algorithm == "tree" and count == 2:
        return ["reduce (up the tree)", "broadcast (down the tree)"]
    if algorithm == "hierarchical" and count == 2:
        return ["intra-domain (scale-up ring)", "inter-domain (rail rings)"]
    return [op if op in ("all-to-all", "send-recv") else "flat ring" if algorithm == "hierarchical"
            else algorithm] * count


def place(total: int, n: int, placement: str, device: str = "GPU") -> tuple[np.ndarray, int]:
    """GPU indices of the group and their stride; `device`: what the errors call one (`topology.endpoint_word`)."""
    if placement not in ("packed", "spread"):
        raise InputError(f"--placement must be packed or spread, got {placement!r}")
    if n < 2:
        raise InputError(f"a collective needs at least 2 {device}s, got {n}")
    if n > total:
        raise InputError(f"{n:,} {device}s requested but the system has {total:,}")
    stride = 1 if placement == "packed" else total // n
    return np.arange(n, dtype=np.int64) * stride, stride


def _phase_progress(progress: Progress, i: int, count: int) -> Progress:
    """`progress` with the phase named in the stage."""
    def tell(stage: str, done: float, total: float) -> None:
        progress(f"phase {i + 1}/{count}, {stage}", done, total)
    return tell


class SystemWithFabric(Protocol):
    """A system with its derived Fabric (an `infraplan.cluster.Cluster`, resolved at the edge above)."""

    @property
    def system(self) -> System: ...

    @property
    def fabric(self) -> Fabric: ...


CHUNKED_OPS = ("reduce-scatter", "all-gather", "all-to-all")
"""Collectives whose buffer is split into one chunk a rank: NCCL's ncclReduceScatter / ncclAllGather take the chunk's
element count (recvcount / sendcount), the buffer that times the rank count, and an all-to-all a chunk a peer
(nccl-tests' `-b` buffer, count / nranks elements a rank); a buffer under one byte a rank has no such count."""


def estimate_collective(op: str, cluster: SystemWithFabric, gpus: int, size_bytes: float, placement: str = "packed",
                        algorithm: str = "auto", sim: str = "analytical", flows_per_pair: int | None = None,
                        seed: int | None = None, progress: Progress | None = None,
                        notice: Callable[[str], None] | None = None,
                        failed_links: str | None = None, sharp: bool = False) -> CollectiveResult:
    """Time, algbw, busbw and bottleneck tier of one collective on `gpus` GPUs of a system; `size_bytes`: whole
    bytes per rank (a fraction refused in one line, hN55).

    Flow model: before simulating, its memory and wall time are estimated (`flow_schedules.check_flow_run`); past
    `FLOW_SIM_MAX_S` or the memory limit the question is refused (InputError), past `FLOW_SIM_WARN_S` `notice` is
    given one line saying so. `progress(stage, done, total)` is passed to each phase's simulation (`flow_sim.simulate`).
    `failed_links` ("TIER:COUNT" or "TIER:FRACTION", flow model only): that many of the tier's uplinks fail, chosen
    with `seed` (`routing.fail_links`); ECMP, or adaptive routing (the fabric's `load_balancing`,
    `network.adaptive_routing`), routes over the healthy ones; the analytical model does not see them.
    `seed` (None: 0) chooses the flow model's ECMP hashes and failed links; given with the analytical model, which
    draws nothing, it is refused (hU47), for the CLI, the web and the sweep alike (hE65: one check, not two).
    `sharp`: IB SHARP in-network all-reduce enabled (`network.sharp`, NCCL_COLLNET_ENABLE=1), refused unless
    every switch tier of the system does SHARP; in the flow model the switches' aggregation trees run as flows
    (`network.sharp_flows`)."""
    if op not in OPS:
        raise InputError(f"unknown collective {op!r}; choose from {', '.join(OPS)}")
    if sim not in ("analytical", "flow"):
        raise InputError(f"--sim must be analytical or flow, got {sim!r}")
    if not 0 < size_bytes <= MAX_MESSAGE_BYTES:
        raise InputError(f"--bytes must be positive and at most 1 PiB per rank (infraplan.limits), got {size_bytes:g}")
    if abs(size_bytes - round(size_bytes)) > 1e-9 * size_bytes:  # a message is whole bytes (NCCL's count x type size;
        # a chunk of fewer bytes than ranks is empty): '1.5' or '2.2KiB' (2,252.8) priced a fraction (hN55)
        raise InputError(f"--bytes must be a whole number of bytes per rank, got {size_bytes:,.6g} bytes: "
                         f"{math.floor(size_bytes):,} or {math.ceil(size_bytes):,}")
    size_bytes = float(round(size_bytes))
    if failed_links is not None and sim != "flow":
        raise InputError("--failed-links applies to the flow model: add --sim flow")
    if flows_per_pair is not None and sim != "flow":  # the analytical model hashes the fabric's own (hU47, hE73)
        raise InputError("--flows-per-pair applies to the flow model: add --sim flow")
    if seed is not None and sim != "flow":  # the analytical model hashes nothing: a seed changed no answer (hU47)
        raise InputError("--seed chooses the flow model's ECMP hashes and failed links: add --sim flow")
    seed = 0 if seed is None else seed
    failure = parse_failed_links(failed_links) if failed_links is not None else None
    if op == "send-recv" and gpus % 2:  # both models pair rank i with rank i + n/2 (`flow_phases`)
        raise InputError(f"send-recv pairs rank i with rank i + n/2: --gpus must be even, got {gpus}")
    if op in CHUNKED_OPS and size_bytes < gpus:  # NCCL counts these per rank: a chunk of whole elements (hE2 75)
        raise InputError(f"--bytes must be at least one byte per rank for {op} over {gpus:,} ranks (NCCL splits "
                         f"the buffer into a chunk a rank, of whole elements of 1 byte or more), got "
                         f"{size_bytes:,.0f} bytes: {gpus:,} or more")
    # one group alone on the fabric, in both models: tiers priced by the share of their uplinks it occupies
    # (send-recv: its n/2 pairs run at once, each a group of two)
    concurrent = max(gpus // 2, 1) if op == "send-recv" else 1
    spec, fabric = cluster.system, replace(cluster.fabric, concurrent_groups=concurrent)
    word = endpoint_word(spec) if not 2 <= gpus <= spec.total_accelerators else "GPU"  # read for place's errors only
    members, stride = place(spec.total_accelerators, gpus, placement, word)
    if op == "send-recv":  # its pairs start a placement stride apart, not interleaved (`fabric.uplink_occupancy`)
        fabric = replace(fabric, concurrent_spacing=stride, paired_halves=stride == 1)
    if sharp:
        if op != "all-reduce":
            raise InputError(f"--sharp prices all-reduce (NCCL CollNet); {op} runs without it")
        require_sharp(build_topology(spec))
    algo = choose_algorithm(op, algorithm, sim, fabric, size_bytes, gpus, stride, sharp)
    analytical = analytical_time(fabric, op, algo, size_bytes, gpus, stride)
    a2a = op == "all-to-all"
    priced = priced_collective(fabric, op, size_bytes, gpus, stride, sharp)  # what train / serve price for it
    # the analytical answer: the priced time (`priced_collective.headline`); its algorithm, NCCL's choice by the
    # priced times under auto, is the one the flow model simulates too, each beside that algorithm's alpha-beta line
    said = headline(fabric, op, algorithm, algo, size_bytes, gpus, stride, priced, analytical)
    if said.algorithm != algo:
        algo, analytical = said.algorithm, analytical_time(fabric, op, said.algorithm, size_bytes, gpus, stride)
    out: dict[str, Any] = {
        "op": op, "system": spec.name, "gpus": gpus, "placement": placement, "stride": stride,
        "algorithm": algo, "sim": sim, "size_bytes": size_bytes, "priced_time_s": priced.time_s,
        "priced_efficiency": priced.efficiency, "priced_basis": priced.basis,
        "serving_custom_time_s": priced.custom_time_s}
    ecmp = spec.network.balancing == "ecmp"
    # `--sim analytical`'s answer, which the flow answer states too (`analytical_answer_time_s`, hF59; hF74: it
    # named the priced time where ECMP's collisions are above it); hashed flows collide on ECMP fabrics (hE73)
    answer_s, answer_basis = said.time_s, said.basis
    collide = ecmp and algo != "sharp" and gpus * stride > fabric.scale_up_domain
    if sim == "analytical":
        if collide:
            topo, links = _topology_and_links(spec, fabric)
            phases = flow_phases(op, _flow_algorithm(algo), members, topo.scale_up_domain_gpus, size_bytes)
            answer_s, answer_basis = _collided(spec, fabric, op, algo, size_bytes, gpus, stride, said, topo, links,
                                              phases)
        time_s, basis = answer_s, answer_basis
        # send-recv's pairs counted on each link name its binding one (`PricedCollective.tier`: counted once, hF73)
        pairs = priced.tier if op == "send-recv" else None
        tier = sharp_bottleneck(fabric, size_bytes, gpus, stride) if algo == "sharp" else pairs if pairs \
            else bottleneck_tier(fabric, gpus, stride if op != "send-recv" else stride * (gpus // 2), a2a)
        if algo in ("tree", "nvls_tree"):  # its own crossings of an oversubscribed tier (`tree_crossings`)
            tier = tree_bottleneck(fabric, gpus, stride, tier)
        qps = counted(spec.network.ecmp_flows_per_pair, "flow")
        assumptions = ["only this group runs on the fabric (oversubscribed tiers priced by its share of their "
                       "uplinks)", (f"ECMP: {qps} a pair, each hashed onto "
                       "one equal-cost uplink: the expected largest load of the hashes (balls into bins) in the "
                       "priced time, each tier's pools (`network.ecmp_tiers`), and on the flow schedule's own pools "
                       "(`network.ecmp_collisions`) where that is above it" if ecmp else
                       "adaptive routing: every flow spread evenly over the equal-cost uplinks (no hash collisions)")
                       + balancing_basis(spec.network),
                       "alpha-beta: a ring step pays the mean of its hops' latencies (NCCL's pipelined ring), a tree "
                       "across domains its longest path's (NCCL's pipelined tree), an all-to-all round its "
                       "slowest hop's"]
    else:
        fpp = spec.network.ecmp_flows_per_pair if flows_per_pair is None else flows_per_pair
        if fpp < 1:
            raise InputError(f"--flows-per-pair must be >= 1, got {fpp}")
        topo, links = _topology_and_links(spec, fabric)
        failed_note = []
        adaptive = spec.network.balancing == "adaptive"  # each flow over every equal-cost uplink (hF73)
        # the seed picks ECMP's hashes, SHARP's tree streams and failed links: adaptive routing with none of those
        # draws nothing, so the answer names no seed (as the analytical model's, hF74)
        drawn_nothing = adaptive and failure is None and algo != "sharp"
        whole = links  # (ECMP's expected collisions price every link, as the analytical model)
        if failure is not None:
            links, count, total = fail_links(topo, links, failure[0], failure[1], seed, fraction=failure[2])
            failed_note = [f"{count:,} of the {total:,} {failure[0]} uplinks failed (chosen with seed {seed}); "
                           f"{'adaptive routing' if adaptive else 'ECMP'} spreads flows over the healthy links (the "
                           "analytical model has them all)"]
        if algo == "sharp":  # the switches' aggregation trees as flows (`network.sharp_flows`)
            run = sharp_flow(topo, links, fabric, members, size_bytes, seed, progress)
            time_s, tier, flows, fpp = run.time_s, run.bottleneck, run.flows, 1
            reason = sharp_difference_reason(run, analytical, fabric, size_bytes, gpus, stride)
        else:
            time_s, worst, tier, flows = 0.0, -1.0, "none", 0
            routed = pooled_links(topo, links) if adaptive else links  # SHARP's trees keep their own parents
            flow_algo = _flow_algorithm(algo)
            tiers = len(topo.tiers)
            rounds = all_to_all_link_rounds(gpus, tiers) if a2a else 0.0  # its many events' filling rounds
            if a2a:  # refused before its flow set is built (`flow_schedules.check_flow_run`)
                check_flow_run([all_to_all_flows_at_least(topo, gpus, stride, fpp)], rounds, tiers, None)
            phases = flow_phases(op, flow_algo, members, topo.scale_up_domain_gpus, size_bytes)
            check_flow_run([flow_count(topo, step, fpp) for step, _ in phases], rounds, tiers, notice)
            compared: list[PhaseComparison] = []
            phase_times: list[float] = []
            pipelined = flow_algo in ("ring", "hierarchical") and _fabric.PIPELINED_RING_LATENCY
            # a tree spanning scale-up domains is NCCL's pipelined tree (inside one domain: ceil(log2 n) steps)
            tree = (flow_algo == "tree" and op == "all-reduce" and _fabric.PIPELINED_TREE_LATENCY
                    and np.unique(members // topo.scale_up_domain_gpus).size > 1)
            for i, ((step, repeat), name, (a_bw, a_lat)) in enumerate(zip(
                    phases, _phase_names(op, flow_algo, len(phases)),
                    _analytical_phases(fabric, op, algo, size_bytes, gpus, stride, len(phases)), strict=True)):
                tell = None if progress is None or len(phases) == 1 else _phase_progress(progress, i, len(phases))
                result = simulate(topo, routed, step, fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S,
                                  flows_per_pair=fpp, seed=seed + i, progress=progress if tell is None else tell)
                if pipelined:
                    # a pipelined ring's step: its slowest transfer plus the mean of its hops' latencies (the
                    # sum along the ring over its steps, `network.ring_latency`), not the slowest transfer-plus-hop
                    transfer_s, latency_s = result.transfer_s, result.mean_latency_s
                elif tree:
                    # a pipelined tree's pass: its chunks' slowest transfers plus, once, the latency of its longest
                    # path (`tree_pass_latency`, as `nccl_trees.tree_latency_one`), spread over the chunks
                    transfer_s = result.transfer_s
                    passes = 2.0 if len(phases) == 1 else 1.0  # up and down at once: both passes' latency
                    latency_s = passes * tree_pass_latency(members, topo.scale_up_domain_gpus,
                                                           result.pair_latency_s) / repeat
                else:
                    transfer_s, latency_s = result.slowest_transfer_s, result.slowest_latency_s
                phase = (transfer_s + latency_s if pipelined or tree else result.job_finish_s[0]) * repeat
                time_s += phase
                phase_times.append(phase)
                flows = max(flows, result.flows)
                if phase > worst:
                    worst, tier = phase, result.bottleneck_class
                compared.append(PhaseComparison(
                    name, repeat, transfer_s * repeat, latency_s * repeat, a_bw, a_lat,
                    result.bottleneck_class, result.busiest_link_flows, result.mean_link_flows, result.links_in_use,
                    path_share(routed, result.bottleneck_class)))
            if collide:  # after the flow run's own checks: its flow set is built once they pass
                answer_s, answer_basis = _collided(spec, fabric, op, algo, size_bytes, gpus, stride, said, topo,
                                                  whole, phases)
            reason = (nvls_difference_reason(time_s, analytical) if algo == "nvls"
                      else difference_reason(time_s, analytical, compared, bottleneck_tier(fabric, gpus, stride, a2a),
                                             fpp, adaptive))
            if reason and tree and time_s < analytical:  # a tree over 2-3 domains: its own NIC load (hB57)
                reason += tree_nic_reason(fabric, gpus, stride)
        out.update({"analytical_time_s": analytical, "analytical_answer_time_s": answer_s, "flows_per_pair": fpp,
                    "seed": None if drawn_nothing else seed, "flows": flows,
                    "difference_reason": reason})  # (answer_s: `--sim analytical`'s, hF59)
        basis = f"the flow simulation of the {algo} schedule (no message-size efficiency: `priced_time_s` has it)"
        # the same schedule at the efficiency the analytical answer reads (`network.flow_sized`, hF74): where that
        # answer is the priced time of this algorithm or ECMP's hashed line above it, NVLS and SHARP aside
        efficiency = priced.efficiency if said.time_s == priced.time_s and algo not in ("nvls", "sharp") else None
        if efficiency is not None:
            sized = sized_flow_time(compared, phase_times, efficiency)
            out["sized_time_s"] = sized
            basis += sized_basis(sized, efficiency, answer_s)
        pair = (f"adaptive routing: a {endpoint_word(spec)} pair's {counted(fpp, 'flow')} spread evenly over the "
                "equal-cost uplinks (`network.adaptive_routing`)" if adaptive
                else f"ECMP: {counted(fpp, 'hashed flow')} per {endpoint_word(spec)} pair")
        assumptions = ["only this group runs on the fabric", pair
                       if algo != "sharp" else "ECMP: one stream per aggregation tree (--flows-per-pair does not "
                       "apply)", "max-min fair fluid sharing; identical steps simulated once", *failed_note]
    assumptions += sharp_assumptions(algo, algorithm, sharp, gpus * stride > fabric.scale_up_domain, sim)
    if spec.network.rail_only:  # the answer names its fabric (`rail_leaves.with_fabric`, `routing` / `fabric` PXN)
        assumptions.append("rail-only fabric (arXiv:2307.12169): a byte to another rail crosses the scale-up domain "
                           "first (NCCL PXN), then its rail")
    algbw, crosses = size_bytes / time_s, gpus * stride > fabric.scale_up_domain
    # the alpha-beta latency's share of the alpha-beta line (the band's test: a latency-bound large message)
    latency = analytical_time(fabric, op, algo, 1.0, gpus, stride) / analytical if sim == "analytical" else 0.0
    band = collective_band(op, sim, spec.accelerator, size_bytes, not crosses, latency, gpus,  # by size, latency
                           fabric.accelerator)  # (hC51); below 64 KiB the LL line's (hL61)
    out.update({"time_s": time_s, "alpha_beta_time_s": analytical, "time_basis": basis, "algbw_bytes_per_s": algbw,
                "busbw_bytes_per_s": bus_bandwidth(op, algbw, gpus),
                "bottleneck_tier": tier, "assumptions": assumptions, **band,
                "notes": [*crossing_notes(spec, crosses), *tree_hash_note(fabric, op, algo, gpus, stride)]})
    return CollectiveResult.model_validate(out)
