"""Single estimate: `estimate_training` in process with caches warm, and `infraplan train ... --json` as a process.

Llama 3 405B on 16,384 H100 of the meta-genai-roce-24k cluster (the `make demo` plan). Times are the median of
repeated calls (CPU seconds of this process for the in-process call; wall seconds for the whole process).
Goals (issue 18): <= 0.3 ms in process; <= 0.5 s for the whole `train` process.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from infraplan.training.estimate import estimate_training

GOAL_IN_PROCESS_S = 0.3e-3
GOAL_PROCESS_S = 0.5
PLAN = dict(tp=8, pp=16, cp=1, vpp=7, seq_len=8192, global_batch=2048, micro_batch=1, recompute="none", zero=3,
            dtype="bf16")
ARGS = ["train", "llama3-405b", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--tp", "8", "--pp", "16",
        "--vpp", "7", "--seq-len", "8192", "--global-batch", "2048", "--zero", "3", "--json"]


def main() -> None:
    estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **PLAN)  # type: ignore[arg-type]
    samples = []
    for _ in range(200):
        start = time.process_time()
        estimate_training("llama3-405b", "meta-genai-roce-24k", 16384, **PLAN)  # type: ignore[arg-type]
        samples.append(time.process_time() - start)
    in_process = statistics.median(samples)
    walls = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "from infraplan.cli.main import main; main()", *ARGS], check=True,
                       capture_output=True)
        walls.append(time.perf_counter() - start)
    process = min(walls)
    print(f"single_estimate: in process {in_process * 1e3:.2f} ms (goal {GOAL_IN_PROCESS_S * 1e3:.1f} ms)")
    print(f"single_estimate: train --json process {process:.2f} s (goal {GOAL_PROCESS_S} s)")
    if in_process > GOAL_IN_PROCESS_S or process > GOAL_PROCESS_S:
        print("single_estimate: FAILED a goal")
        sys.exit(1)


if __name__ == "__main__":
    main()
