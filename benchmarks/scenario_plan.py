"""Speed of the whole-stack planner: a 3-phase, 10-service, 8-pool, 5-site scenario (goal: <= 10 s) and
`compare` of 3 scenarios (goal: <= 30 s), on one core. Prints the seconds; exits 1 when a goal is missed.

The services: 2 training runs (GPU budgets), 2 LLM services (serve-plan capacity search), 4 ranking services and
2 video services; the pools: A100, H100, H200, B200, MTIA v1, MTIA v2 (ranking only, as deployed), Xeon and MSVP
over 5 sites. LLM sizing is serve-plan's capacity search per (service, pool, rate): it dominates the time.
Usage: .venv/bin/python benchmarks/scenario_plan.py
"""

from __future__ import annotations

import os

# OpenBLAS on one thread, as `infraplan plan` / `compare` run it (`cli.main.one_blas_thread`) and as
# example_plans.py measures: set before numpy loads (its spinning second thread's CPU is not the planner's)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402

from infraplan.planning import fleet_mix_llm, scenario_sizing  # noqa: E402
from infraplan.planning.compare import compare_scenarios  # noqa: E402
from infraplan.planning.scenario import plan_scenario  # noqa: E402
from infraplan.planning.scenario_spec import ScenarioSpec  # noqa: E402
from infraplan.serving import capacity  # noqa: E402

PLAN_GOAL_S = 10.0
COMPARE_GOAL_S = 30.0


def scenario(name: str, scale: float) -> ScenarioSpec:
    sites = [{"name": f"s{i}", "power": "200MW", "location": loc, "cooling": "liquid"}
             for i, loc in enumerate(("ohio", "texas", "louisiana", "georgia", "us-average"))]
    devices = ("a100-80gb", "h100-sxm", "h200", "b200", "mtia-v1", "mtia-v2", "xeon-8480", "msvp")
    prices = {"msvp": 1500, "mtia-v1": 9000, "mtia-v2": 9000, "xeon-8480": 14000}  # USD per device
    pools = [{"name": d, "device": d, "site": f"s{i % 5}",
              **({"price_usd_per_device": prices[d]} if d in prices else {}),
              **({"serves": ["recsys"]} if d.startswith("mtia") else {})} for i, d in enumerate(devices)]
    services = [
        {"name": "train-8b", "kind": "training", "model": "llama3-8b", "tokens": "1T", "gpus": 256, "seq_len": 4096,
         "global_batch": 512},
        {"name": "train-70b", "kind": "training", "model": "llama3-70b", "tokens": "2T", "gpus": 1024,
         "seq_len": 4096, "global_batch": 1024},
        {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 20 * scale},
        {"name": "code", "kind": "llm", "model": "llama3-8b", "workload": "code-completion", "rate": 20 * scale},
        *({"name": f"rank-{m}", "kind": "recsys", "model": m, "qps": 1e8 * scale, "latency_slo": "20ms",
           "growth": {"p2": 1.5, "p3": 2.0}} for m in ("dlrm-low", "dlrm-medium", "dlrm-high", "mlperf-dlrm-dcnv2")),
        *({"name": f"video-{v}", "kind": "video", "daily_hours": 10000 * scale, "input": v}
          for v in ("1080p30", "2160p60")),
    ]
    phases = [{"name": f"p{i + 1}", "year": 2025 + i} for i in range(3)]
    return ScenarioSpec.model_validate({"name": name, "phases": phases, "services": services, "pools": pools,
                                        "sites": sites})


def main() -> int:
    failed = False
    start = time.perf_counter()
    plan = plan_scenario(scenario("bench", 1.0))
    plan_s = time.perf_counter() - start
    print(f"plan: 3 phases, 10 services, 8 pools, 5 sites: {plan_s:.2f} s ({plan.devices:,} devices; goal "
          f"{PLAN_GOAL_S:g} s)")
    failed |= plan_s > PLAN_GOAL_S
    fleet_mix_llm.serve_plan_search.cache_clear()  # compare sizes its scenarios afresh
    scenario_sizing._training_point.cache_clear()
    capacity.clear_caches()  # and the capacity search's memoised probes
    start = time.perf_counter()
    compare_scenarios([scenario(f"x{s}", s) for s in (1.0, 1.5, 2.0)])
    compare_s = time.perf_counter() - start
    print(f"compare of 3 scenarios: {compare_s:.2f} s (goal {COMPARE_GOAL_S:g} s)")
    failed |= compare_s > COMPARE_GOAL_S
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
