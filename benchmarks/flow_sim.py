"""Flow-simulator speed at full scale on `meta-genai-roce-24k` (Llama 3's 24,576-H100 RoCE cluster).

1. One step of a ring all-reduce over all 24,576 GPUs: 8 rings (one per NIC), 16 ECMP flows per GPU pair
   across nodes. Goal: <= 10 s.
2. An all-to-all among 1,024 GPUs spread evenly over the 8 pods (one GPU on every third node), 16 ECMP flows
   per pair. Goal: <= 30 s.
Prints the seconds (routing + max-min fair simulation to completion), the flows and the simulated times.
"""

from __future__ import annotations

import sys
import time

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.collective_schedules import flow_phases, place
from infraplan.network.collectives import SCALE_UP_LATENCY_S, Fabric
from infraplan.network.flow_sim import simulate
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology


def main() -> None:
    spec = load_system("meta-genai-roce-24k")
    fabric = Fabric.from_system(spec, load_accelerator(spec.accelerator))
    topo = build_topology(spec)
    links = build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)
    cases = (("ring all-reduce step, 24,576 GPUs", "all-reduce", "ring", 24576, "packed", 10.0),
             ("all-to-all, 1,024 GPUs spread over pods", "all-to-all", "direct", 1024, "spread", 30.0))
    failed = False
    for label, op, algorithm, n, placement, goal in cases:
        members, _ = place(spec.total_accelerators, n, placement)
        step, _ = flow_phases(op, algorithm, members, spec.node.accelerators_per_node, 2.0**30)[0]
        start = time.perf_counter()
        result = simulate(topo, links, step, fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S,
                          flows_per_pair=spec.network.ecmp_flows_per_pair, seed=0)
        elapsed = time.perf_counter() - start
        print(f"flow_sim {label}: {elapsed:.2f} s wall (goal <= {goal:g} s) for {result.flows:,} flows, "
              f"{result.events} events, {result.rounds} filling rounds; simulated {result.job_finish_s[0] * 1e3:.3f} "
              f"ms, bottleneck {result.bottleneck_class}")
        failed |= elapsed > goal
    if failed:
        print("flow_sim: FAILED a goal")
        sys.exit(1)


if __name__ == "__main__":
    main()
