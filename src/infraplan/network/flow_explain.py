"""Why a flow simulation and the analytical (alpha-beta) model of the same collective differ: `difference_reason`.

Nothing here changes a time; it compares the two models phase by phase and names what differs most.
Each phase of the flow schedule (`collective_schedules.flow_phases`: a ring's steps, a tree's reduce and broadcast,
a hierarchical collective's steps inside each scale-up domain and between domains, an all-to-all's rounds) has
a flow time split in two: the fluid transfer of the pair that finishes last (max-min fair sharing, flow_sim.py)
and that pair's hop latency (the flow model's alpha), both times the step count. The analytical model's time of
the same phase is split the same way: the bandwidth (beta) and latency (alpha) terms of the hierarchical
formula where it is written out (`collective_algorithms.hierarchical_parts`); elsewhere the latency term is the
model's time of a 1-byte message (every alpha-beta formula here is latency + size / bandwidth, so at 1 byte it
is the latency alone; ASSUMPTION: the message-size efficiency floor, `collective_efficiency.efficiency_at`,
only adds to the bandwidth term) and the rest is the bandwidth term; a tree inside one domain has two phases
(reduce up, broadcast down) taking half each, as in its 2 size / bw + 2 ceil(log2 n) latency; across domains one
(both at once, NCCL's runTreeSplit: `flow_schedules._tree_phases`) taking the whole.

The (phase, term) with the largest difference in the direction of the total names the cause:
* latency: the flow model charges each step the hop latency of its slowest pair (a ring's step the mean of its
  pairs' hop latencies: a pipelined ring, `network.ring_latency`), the analytical model its per-step latency;
* bandwidth, flow slower, bottleneck on a switch tier: ECMP hash collisions (the busiest link against the mean
  load of the links of that tier in use; the analytical model assumes a perfect spread);
  Where one link of that tier is slower than a NIC link (x flows per pair) and the busiest carries no more flows
  than NIC links it takes to match one NIC, a pair is held to its flows' paths whatever the spread: one path per
  flow (hF65: 100G leaf-spine links under 400G NICs, a ring's crossing pair at a quarter of its NIC), where the
  analytical model pools the tier's uplinks as packet spraying would;
* bandwidth, flow slower, bottleneck on a NIC or scale-up link: the schedule itself loads some links more
  than the per-rank average (uneven members per domain or rail);
* bandwidth, flow faster: a bound the analytical model applies is not reached; the reason names the link class
  that holds the flow model's slowest transfer and its load (both models price a tier's uplinks from the same
  built links, `network.tier_bandwidth`, so a tier rule of other capacities is not the cause).
"""

from __future__ import annotations

from dataclasses import dataclass

from infraplan.network.routing import LinkTable
from infraplan.units import counted

__all__ = ["AGREEMENT", "PhaseComparison", "difference_reason", "nvls_difference_reason", "path_share"]

AGREEMENT = 0.05  # flow and analytical times within 5 % need no explanation


@dataclass(frozen=True)
class PhaseComparison:
    """One phase of a collective in both models; all times are the phase's total (steps x per step), seconds."""

    name: str
    steps: int
    flow_bandwidth_s: float
    flow_latency_s: float
    analytical_bandwidth_s: float
    analytical_latency_s: float
    flow_tier: str  # link class that froze the slowest flow of this phase
    busiest_link_flows: float = 0.0  # flows on the busiest link of that class, at the phase's start
    mean_link_flows: float = 0.0  # mean flows over that class's links in use
    links_in_use: int = 0
    path_share: float = 1.0  # one (bundled) link of `flow_tier` over one NIC link, the rates the flow model routes on


def path_share(links: LinkTable, link_class: str) -> float:
    """The slowest link of `link_class` (a bundle as the flow model routes it) over one NIC link; 1 for a NIC,
    scale-up or unknown class."""
    if link_class in ("nic", "scale-up") or link_class not in links.class_names:
        return 1.0
    cls = links.link_class == links.class_names.index(link_class)
    nic = links.capacity[links.link_class == links.class_names.index("nic")]
    return float(links.capacity[cls].min() / nic.max()) if cls.any() and nic.size else 1.0


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.2f} us"


def _term(p: PhaseComparison, term: str) -> float:
    if term == "latency":
        return p.flow_latency_s - p.analytical_latency_s
    return p.flow_bandwidth_s - p.analytical_bandwidth_s


def difference_reason(flow_s: float, analytical_s: float, phases: list[PhaseComparison], analytical_tier: str,
                      flows_per_pair: int, adaptive: bool = False) -> str | None:
    """Why the flow simulation and the analytical model differ by more than 5 %, or None when they agree;
    `adaptive`: the fabric spreads each flow over every equal-cost uplink (`network.adaptive_routing`), so a
    switch tier's links are pooled and nothing hashes."""
    ratio = flow_s / analytical_s
    if abs(ratio - 1.0) <= AGREEMENT:
        return None
    sign = 1.0 if ratio > 1.0 else -1.0
    head = (f"flow {ratio:.2f}x the analytical time" if ratio > 1.0
            else f"flow {1 / ratio:.2f}x faster than the analytical model")
    if not phases:
        return head
    phase, term = max(((p, t) for p in phases for t in ("bandwidth", "latency")),
                      key=lambda pt: sign * _term(*pt))
    where = f"in the {phase.name} phase" if len(phases) > 1 else f"in the {phase.name}"
    steps = max(phase.steps, 1)
    if term == "latency":
        return (f"{head}: per-step latency {where}: the flow model charges each step "
                f"{_us(phase.flow_latency_s / steps)} of hop latency after "
                f"{_us(phase.flow_bandwidth_s / steps)} of transfer "
                f"({_us((phase.flow_latency_s + phase.flow_bandwidth_s) / steps)}), where the analytical model adds "
                f"{_us(phase.analytical_latency_s / steps)} of latency to {_us(phase.analytical_bandwidth_s / steps)} "
                f"of transfer ({_us((phase.analytical_latency_s + phase.analytical_bandwidth_s) / steps)}), "
                f"over {counted(steps, 'step')}")
    transfer = (f"transfer {_us(phase.flow_bandwidth_s / steps)} per step in the flow model, "
                f"{_us(phase.analytical_bandwidth_s / steps)} in the analytical model")
    load = (f"the busiest {phase.flow_tier} link carries {phase.busiest_link_flows:,g} flows where the "
            f"{phase.links_in_use:,} {phase.flow_tier} links in use average {phase.mean_link_flows:.3g}")
    if ratio < 1.0:  # not "by this placement": a bound priced off other links than the flows use reads the same
        return (f"{head}: the {analytical_tier} bound the analytical model applies is not reached {where}: the "
                f"flow model's slowest transfer is held by the {phase.flow_tier} links, {load}; {transfer}")
    if (not adaptive and phase.flow_tier not in ("nic", "scale-up") and phase.path_share * flows_per_pair < 1.0 - 1e-9
            and phase.busiest_link_flows * phase.path_share <= 1.0 + 1e-9):  # more flows: they collide
        return (f"{head}: one path per flow {where}: a GPU pair's {counted(flows_per_pair, 'flow')} "
                f"{'rides' if flows_per_pair == 1 else 'each ride'} one "
                f"{phase.flow_tier} link at {phase.path_share:.3g}x a NIC link's rate, where the analytical model "
                f"pools the tier's uplinks (as packet spraying or adaptive routing would); {load}; {transfer}")
    if phase.flow_tier not in ("nic", "scale-up") and adaptive:  # pooled uplinks: no hash, a busier pool
        return (f"{head}: adaptive routing spreads each flow over the {phase.flow_tier} tier's equal-cost uplinks, "
                f"pooled by the switches a flow reaches {where}: the busiest pool carries "
                f"{phase.busiest_link_flows:,g} flows where the {phase.links_in_use:,} pools in use average "
                f"{phase.mean_link_flows:.3g} (the schedule loads some domains more than the analytical share); "
                f"{transfer}")
    if phase.flow_tier not in ("nic", "scale-up"):
        return (f"{head}: ECMP hash collisions ({counted(flows_per_pair, 'flow')} per GPU pair) on the "
                f"{phase.flow_tier} links {where}: {load} (the analytical model assumes an even spread); {transfer}")
    return (f"{head}: the schedule loads some {phase.flow_tier} links {where} more than the per-rank average the "
            f"analytical model assumes (uneven members per node or rail): {load}; {transfer}")


def nvls_difference_reason(flow_s: float, analytical_s: float) -> str:
    """Why a flow result differs from the analytical NVLS time: always given, whatever the ratio, since the flow
    simulator did not run the schedule the analytical model priced."""
    return (f"flow {flow_s / analytical_s:.2f}x the analytical time: the analytical model prices NVLS (reduction "
            "and multicast in the NVSwitch); the flow simulator runs flows between GPUs, not in-switch reduction, "
            "so it simulated the ring schedule over the same GPUs")
