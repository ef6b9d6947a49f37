"""Speed of the serving simulator: 1,000,000 requests on one core (goal: <= 60 s). Prints the seconds.

Two runs: the chat workload (Azure-trace lengths, Poisson arrivals) on Llama 3 70B, 64 H100 as 32 TP2 fp8
replicas at a rate near their capacity; and the same requests offline (all at t = 0).
Usage: .venv/bin/python benchmarks/serving_sim.py [requests]
"""

from __future__ import annotations

import sys
import time

from infraplan.catalog import load_model
from infraplan.catalog.serving_loader import load_workload
from infraplan.cluster import Cluster
from infraplan.serving.llm_iteration import Deployment
from infraplan.serving.serving_sim import simulate_deployment
from infraplan.serving.workloads import workload_requests

GOAL_S = 60.0  # per 1,000,000 requests


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    cluster = Cluster.resolve("dgx-h100-superpod")
    shape = load_model("llama3-70b")
    dep = Deployment(tp=2, replicas=32, dtype="fp8", kv_dtype="fp8", max_batch=256, token_budget=8192)
    spec = load_workload("chat")
    failed = False
    for label, rate in (("online, 150 requests/s", 150.0), ("offline", None)):
        requests = workload_requests(spec, n, rate, seed=0)
        start = time.perf_counter()
        r = simulate_deployment(shape, cluster, dep, requests, ttft_slo_s=2.0, tpot_slo_s=0.2)
        seconds = time.perf_counter() - start
        print(f"{label}: {n:,} requests simulated in {seconds:.1f} s ({n / seconds:,.0f} requests/s; "
              f"{r['iterations']:,} iterations); {r['output_tokens_per_s']:,.0f} output tokens/s, "
              f"TTFT p99 {r['ttft_s']['p99']:.3f} s, TPOT p99 {r['tpot_s']['p99'] * 1e3:.1f} ms, "
              f"SLO attainment {r['slo_attainment'] * 100:.1f} %")
        failed |= seconds > GOAL_S * n / 1_000_000
    if failed:
        print(f"serving_sim: FAILED the goal of {GOAL_S:g} s per million requests")
        sys.exit(1)


if __name__ == "__main__":
    main()
