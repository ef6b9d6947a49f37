"""hA66's measurement: what an exact serve-plan answer costs (validation/notes/product_review_tried.md, "Session 66,
hA"). After each `search_capacity` search of a shipped example's plan (or of the small chat case), the whole runs an
exact rule would need at least are run with the search's own `full_run` and timed:

- every colocated layout whose probe count is below the answer: one whole run at the most replicas still below the
  answer's accelerators; where that meets, a bisection down to its fewest meeting count (the answer then lowered);
- every disaggregated layout below the (lowered) answer: each maximal point of its region, p + d = that most,
  p >= its probe's prefill count, d >= its decode count (whole runs are assumed monotone in each pool, nothing more:
  a miss at one such point says nothing about the others), up to CAP points a layout.

Run from a checkout: PYTHONPATH=src .venv/bin/python validation/notes/serve_plan_monotone_deferred/certificate_cost.py
gigawatt-2027 meta-2024 (or `case` for Llama 3 70B chat at 20 requests/s on H100, TPOT 50 ms, TTFT 2 s then 1.5 s).
It prints, for each search, the base answer, the colocated exact answer, the extra whole runs and their CPU seconds,
and each extra run (accelerators a replica, TP, PP, batch, dtype, prefill replicas, replicas, TTFT / TPOT ratio,
met, CPU s, whether its queue was judged unsettled). A measurement harness (it wraps `capacity.whole_runs`), not
part of the package.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.getcwd())

import benchmarks.example_plans as example_plans  # noqa: E402

from infraplan.serving import capacity  # noqa: E402

CAP = 60
_whole_runs = capacity.whole_runs


def _key(o: dict[str, Any], p: int, n: int) -> tuple[Any, ...]:
    return o["tp"], o["pp"], o["max_batch"], o["dtype"], o["disaggregated"], str(o.get("prefill_tp")), p, n


def certified(level: Any, full_run: Any, grow: Any = None) -> tuple[Any, Any]:
    """`whole_runs`, then the certificate's runs (printed; the search's answer is left as it was)."""
    listed: list[dict[str, Any]] = []

    def levels(below: int | None) -> Any:
        got = level(below)
        listed.extend(got or [])
        return got

    options, runs = _whole_runs(levels, full_run, grow)
    met = [r for r in runs if r[2]]
    if not met:
        return options, runs
    answer = base = met[-1][0]["gpus"]
    verdicts = {_key(r[0], r[0]["prefill_replicas"], r[0]["replicas"]): r[2] for r in runs}
    extra: list[tuple[Any, ...]] = []

    def run(o: dict[str, Any], p: int, n: int) -> bool:
        key = _key(o, p, n)
        if key not in verdicts:
            gpr = o["gpus"] // o["replicas"]
            start = time.process_time()
            res, verdicts[key] = full_run({**o, "replicas": n, "prefill_replicas": p, "gpus": n * gpr})
            extra.append((gpr, o["tp"], o["pp"], o["max_batch"], o["dtype"], p, n, round(res[4], 3),
                          round(res[5], 3), verdicts[key], round(time.process_time() - start, 2),
                          "unsettled" if "settle" in res[7] else ""))
        return verdicts[key]

    for o in sorted((o for o in listed if not o["disaggregated"]), key=lambda o: o["gpus"]):
        gpr = o["gpus"] // o["replicas"]
        if o["gpus"] >= answer or not run(o, 0, (answer - 1) // gpr):
            continue
        lo, hi = o["replicas"] + (verdicts.get(_key(o, 0, o["replicas"])) is False), (answer - 1) // gpr
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if run(o, 0, mid) else (mid + 1, hi)
        answer = min(answer, hi * gpr)
    colocated = answer
    seen: set[tuple[Any, ...]] = set()
    regions = []
    for o in sorted((o for o in listed if o["disaggregated"] and o["gpus"] < answer), key=lambda o: o["gpus"]):
        layout = _key(o, 0, 0)
        if layout in seen:
            continue
        seen.add(layout)
        gpr, p0 = o["gpus"] // o["replicas"], o["prefill_replicas"]
        most, d0 = (answer - 1) // gpr, o["replicas"] - p0
        regions.append((gpr, p0, d0, most, most - p0 - d0 + 1))
        for p in list(range(p0, most - d0 + 1))[:CAP]:
            run(o, p, most)
    cpu = sum(e[10] for e in extra)
    print(f"search: answer {base}, colocated exact {colocated}, extra whole runs {len(extra)} ({cpu:.2f} s CPU, "
          f"{sum(e[11] == 'unsettled' for e in extra)} unsettled); disaggregated regions (gpr, p0, d0, most, "
          f"maximal points) {regions}", flush=True)
    for e in extra:
        print("   ", e, flush=True)
    return options, runs


def main(names: list[str]) -> None:
    capacity.whole_runs = certified
    for name in names:
        if name == "case":
            for ttft in (2.0, 1.5):
                plan = capacity.search_capacity("llama3-70b", "dgx-h100-superpod", 20.0, workload="chat",
                                                ttft_slo=ttft, tpot_slo=0.05, requests=300)
                print(f"case TTFT {ttft} s: {plan.gpus}", flush=True)
        else:
            print(f"{name}: {example_plans.cpu_s(name):.2f} s CPU (load {os.getloadavg()[0]:.1f})", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
