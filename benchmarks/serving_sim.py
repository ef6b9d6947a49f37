"""Speed of the serving simulator: 1,000,000 requests on one core. Prints the seconds; exits 1 on a missed goal.

Goals: online <= 3 s per million requests, in process (issue 18, "Serving: 1 M requests <= 3 s online"); offline
(no goal in issue 18) keeps the earlier bound of 60 s per million.

Two runs: the chat workload (Azure-trace lengths, Poisson arrivals) on Llama 3 70B, 64 H100 as 32 TP2 fp8
replicas at a rate near their capacity; and the same requests offline (all at t = 0).
The goal is checked on the CPU seconds of this process (`time.process_time`: other load on a shared machine does
not count; on a quiet one it equals the wall time, printed too), the median of `runs` runs of the same requests
(default 3; the first one also checks that every run gives the same result). Iterations/s counts the engine
iterations simulated (one by one or leapt in closed form) per CPU second.
Usage: .venv/bin/python benchmarks/serving_sim.py [requests] [runs]
"""

from __future__ import annotations

import statistics
import sys
import time

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import workload_requests

ONLINE_GOAL_S = 3.0  # per 1,000,000 requests, online (issue 18)
OFFLINE_GOAL_S = 60.0  # per 1,000,000 requests, offline (the earlier bound; issue 18 sets none)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    cluster = Cluster.resolve("dgx-h100-superpod")
    shape = load_model("llama3-70b")
    dep = Deployment(tp=2, replicas=32, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)
    spec = load_workload("chat")
    failed = []
    for label, rate, goal_s in (("online, 150 requests/s", 150.0, ONLINE_GOAL_S), ("offline", None, OFFLINE_GOAL_S)):
        requests = workload_requests(spec, n, rate, seed=0)
        cpu_s, walls_s, results = [], [], []
        for _ in range(runs if rate is not None else 1):  # offline: far from its goal, one run
            start, cpu_start = time.perf_counter(), time.process_time()
            results.append(simulate_deployment(shape, cluster, dep, requests, ttft_slo_s=2.0, tpot_slo_s=0.2))
            cpu_s.append(time.process_time() - cpu_start)
            walls_s.append(time.perf_counter() - start)
        r = results[0]
        if any(repr(other) != repr(r) for other in results[1:]):
            failed.append(f"{label}: runs on the same requests differ")
        seconds, wall_s = statistics.median(cpu_s), statistics.median(walls_s)
        print(f"{label}: {n:,} requests simulated in {seconds:.2f} s CPU (median of {len(cpu_s)}: "
              f"{', '.join(f'{s:.2f}' for s in cpu_s)}; {wall_s:.2f} s wall; {n / seconds:,.0f} requests/s; "
              f"{r['iterations']:,} iterations, {r['iterations'] / seconds / 1e6:.2f} M/s); "
              f"{r['output_tokens_per_s']:,.0f} output tokens/s, "
              f"TTFT p99 {r['ttft_s']['p99']:.3f} s, TPOT p99 {r['tpot_s']['p99'] * 1e3:.1f} ms, "
              f"SLO attainment {r['slo_attainment'] * 100:.1f} %; goal <= {goal_s * n / 1e6:.2f} s")
        if seconds > goal_s * n / 1_000_000:
            failed.append(f"{label}: {seconds:.1f} s > {goal_s * n / 1e6:.2f} s")
    if failed:
        print(f"serving_sim: FAILED ({'; '.join(failed)})")
        sys.exit(1)


if __name__ == "__main__":
    main()
