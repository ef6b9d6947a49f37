"""Flow-simulator speed and memory at full scale on `meta-genai-roce-24k` (Llama 3's 24,576-H100 RoCE cluster).

Goals (issue 18):
1. One step of a ring all-reduce over all 24,576 GPUs (8 rings, 16 ECMP flows per pair across nodes): <= 10 s.
2. The README's all-to-all among 1,024 GPUs spread over the 8 pods, 16 ECMP flows per pair: <= 5 s, <= 1 GB peak.
3. The same all-to-all among 8,192 GPUs: <= 30 s, <= 8 GB peak (hF, session 35: 11.1 s with the replayed filling
   rounds on the shared 2-vCPU VM under load, 75.7 s before).
4. The same all-to-all among 16,384 GPUs (8.17 M flows, 272 completion events): <= 180 s, <= 4 GB peak (hF,
   session 35: 74.3 s, 1.80 GB; before, stopped at 620 s with 8.6 % of its bytes moved).
Each case runs in its own process so the peak RSS (resource.getrusage) is its own. Prints the seconds (routing,
class merging and max-min fair simulation to completion), peak RSS, flows, classes and the simulated time; exits
non-zero when a goal is missed.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

CASES = (("ring all-reduce step, 24,576 GPUs", "all-reduce", "ring", 24576, "packed", 10.0, 8.0),
         ("all-to-all, 1,024 GPUs spread over pods", "all-to-all", "direct", 1024, "spread", 5.0, 1.0),
         ("all-to-all, 8,192 GPUs spread over pods", "all-to-all", "direct", 8192, "spread", 30.0, 8.0),
         ("all-to-all, 16,384 GPUs spread over pods", "all-to-all", "direct", 16384, "spread", 180.0, 4.0))


def run_case(op: str, algorithm: str, n: int, placement: str) -> dict[str, float | str]:
    from infraplan.catalog import load_accelerator, load_system
    from infraplan.network.collective_schedules import place
    from infraplan.network.collectives import SCALE_UP_LATENCY_S, Fabric
    from infraplan.network.flow_schedules import flow_phases
    from infraplan.network.flow_sim import simulate
    from infraplan.network.routing import build_links
    from infraplan.network.topology import build_topology

    spec = load_system("meta-genai-roce-24k")
    fabric = Fabric.from_system(spec, load_accelerator(spec.accelerator))
    topo = build_topology(spec)
    links = build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)
    members, _ = place(spec.total_accelerators, n, placement)
    step, _ = flow_phases(op, algorithm, members, topo.scale_up_domain_gpus, 2.0**30)[0]
    start = time.perf_counter()
    result = simulate(topo, links, step, fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S,
                      flows_per_pair=spec.network.ecmp_flows_per_pair, seed=0)
    return {"wall_s": time.perf_counter() - start, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            * 1024.0, "flows": result.flows, "classes": result.classes, "events": result.events,
            "rounds": result.rounds, "simulated_s": result.job_finish_s[0], "bottleneck": result.bottleneck_class}


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--case":
        print(json.dumps(run_case(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])))
        return
    failed = False
    for label, op, algorithm, n, placement, goal_s, goal_gb in CASES:
        out = subprocess.run([sys.executable, __file__, "--case", op, algorithm, str(n), placement],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        peak_gb = float(r["peak_rss_bytes"]) / 1e9
        print(f"flow_sim {label}: {float(r['wall_s']):.2f} s wall (goal <= {goal_s:g} s), peak RSS {peak_gb:.2f} GB "
              f"(goal <= {goal_gb:g} GB) for {int(r['flows']):,} flows in {int(r['classes']):,} classes, "
              f"{r['events']} events, {r['rounds']} filling rounds; simulated "
              f"{float(r['simulated_s']) * 1e3:.3f} ms, bottleneck {r['bottleneck']}")
        failed |= float(r["wall_s"]) > goal_s or peak_gb > goal_gb
    if failed:
        print("flow_sim: FAILED a goal")
        sys.exit(1)


if __name__ == "__main__":
    main()
