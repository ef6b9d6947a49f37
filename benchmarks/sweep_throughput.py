"""Sweep throughput: points/s of a cheap and an expensive function, local pool vs Ray, each with 2 workers.

- cheap: single `train` estimates (Llama 3 8B on a DGX H100 SuperPOD over GPUs x TP x PP x micro-batch x
  recompute x ZeRO), batched 2,000 points per task through the vectorised training model;
- expensive: 10,000-request serving simulations (Llama 3 70B, chat, over rate x TP), one point per task;
- Ray's overhead per point: (Ray wall time - local wall time) x workers / points on the one-point-per-task
  sweep, i.e. the extra worker-seconds each task costs on Ray;
- the goal of issue 15: 100,000 single `train` estimates in <= 60 s on the local backend (all cores).

Exits 1 when the goal is missed. `--quick` runs smaller sweeps (no goal check).

    .venv/bin/python benchmarks/sweep_throughput.py [--quick] [--no-ray]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infraplan.sweep.runner import run_sweep

GOAL_POINTS = 100_000
GOAL_S = 60.0


def train_spec(points: int) -> dict[str, Any]:
    """At least `points` train estimates: 192 plans x as many sequence lengths as it takes."""
    seq_lens = max(-(-points // 192), 1)
    return {"function": "train",
            "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "global_batch": 512},
            "axes": [{"product": {"gpus": [8, 16, 32, 64], "tp": [1, 2, 4, 8], "pp": [1, 2, 4],
                                  "recompute": ["none", "full"], "zero": [1, 3]}},
                     {"product": {"seq_len": {"range": {"start": 1024, "stop": 1024 + 64 * (seq_lens - 1),
                                                        "step": 64}}}}]}


def serve_spec(points: int) -> dict[str, Any]:
    rates = max(points // 2, 1)
    return {"function": "serve", "batch_size": 1,
            "fixed": {"model": "llama3-70b", "system": "dgx-h100-superpod", "gpus": 8, "workload": "chat",
                      "requests": 10_000, "dtype": "fp8"},
            "axes": {"tp": [4, 8], "rate": {"range": {"start": 5.0, "stop": 5.0 + rates - 1, "step": 1.0}}}}


def timed(spec: dict[str, Any], backend: str, workers: int) -> tuple[int, float]:
    if backend == "ray":  # start the local Ray instance outside the timing: its start-up is not per point
        import ray

        if not ray.is_initialized():
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = run_sweep(spec, Path(folder) / "out", backend=backend, workers=workers, progress=False)
        return result.points_run, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sweeps, no goal check")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray backend")
    args = parser.parse_args()
    cheap, expensive = (2_000, 8) if args.quick else (20_000, 32)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    backends = ["local"] + ([] if args.no_ray else ["ray"])
    rows = []
    for name, spec in (("train (cheap, batched)", train_spec(cheap)), ("serve 10k requests", serve_spec(expensive))):
        for backend in backends:
            try:
                points, seconds = timed(spec, backend, workers=2)
            except Exception as exc:  # Ray not installed: say so, keep the local numbers
                print(f"{name} on {backend}: not run ({exc})")
                continue
            rows.append((name, backend, points, seconds))
            print(f"{name:24s} {backend:6s} 2 workers: {points:7,d} points in {seconds:6.2f} s "
                  f"= {points / seconds:9,.1f} points/s")
    serve_rows = {b: (p, s) for n, b, p, s in rows if n.startswith("serve")}
    if {"local", "ray"} <= set(serve_rows):
        (points, local_s), (_, ray_s) = serve_rows["local"], serve_rows["ray"]
        print(f"Ray overhead per point (one point per task): {(ray_s - local_s) * 2 / points * 1e3:+.1f} ms "
              "(Ray started beforehand)")
    if args.quick:
        return 0
    points, seconds = timed(train_spec(GOAL_POINTS), "local", workers=os.cpu_count() or 1)
    ok = seconds <= GOAL_S
    print(f"goal: {points:,} single train estimates locally in {seconds:.1f} s (goal <= {GOAL_S:.0f} s): "
          f"{'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
