"""Error-band lookup: what a `serve` / `train` process spends reading the stored residuals and building its bands.

A default `serve` answer (trtllm-0.x, H100) takes two bands, of 1 / TPOT and of mean TTFT, from the serving rows re-run
on trtllm-0.x; a default `train` answer one, from the training rows (`catalog.error_bands`). Each is timed in a fresh
process (the residuals are read once per process: `load_residuals` is cached), as CPU ms of the lookup alone, with
the CLI's collector settings (`cli.main.GC_THRESHOLDS`, the imports frozen as `collector_paused` leaves them); median
of 5 processes. Also printed: the bytes of residual files each question reads (`catalog/band_residuals/`, by the
names `error_band_rows._may_hold` reads) and all of them, and `infraplan serve llama3.1-70b ... --json` as a process
(wall s, median of 5; no goal: the simulation is most of it).

Before hE80 (one 2.8 MB file; 2026-12-04, 2-core VM at load 5-12, alternated): serve lookup 48.7-52.4 ms CPU (437 M
instructions, cachegrind), train 17.4-19.3 ms (156 M); after: 26.5-29.3 ms (242 M), 1.1-1.5 ms (2.7 M). hS
(session 51; 2026-12-05 01:45, load 5-8, alternated, 8 processes each): the bands read `ResidualRow`s, no pydantic
model per row, and `campaign_band` runs along rows: serve 25.8-29.0 -> 15.9-17.8 ms (~255 M -> 168 M instructions),
train 0.9-1.4 -> 0.5-0.6 ms. hK71 (session 71; 2026-12-07 10:50, load 14-16, alternated, 5 runs each): the train
band no longer asks the class of the default training stack (`error_bands._settings_pool`: nemo-26.04's YAML read
through `load_stack`, which only a serving band's re-run rows need): train 3.0-3.3 -> 1.1-1.5 ms (15 processes each:
2.78-4.78 -> 1.06-2.09 ms; 6.7 ms seen on the base at load), serve 17.3-17.6 -> 16.5-17.6 ms.
Goals: serve lookup <= 40 ms, train lookup <= 5 ms, a default serve reading <= 1 MB (the one file of its rows) and
a default train <= 16 kB. Exits 1 when one is missed.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

GOAL_SERVE_MS, GOAL_TRAIN_MS = 40.0, 5.0
GOAL_SERVE_BYTES, GOAL_TRAIN_BYTES = 1_000_000, 16_000
RUNS = 5
SERVE = ["serve", "llama3.1-70b", "--system", "dgx-h100-superpod", "--gpus", "8", "--concurrency", "16",
         "--input-len", "1024", "--output-len", "1024", "--json"]
# (kind, settings, stack class) each answer reads: `error_bands.stored_residuals` of a default answer
SERVE_READ, TRAIN_READ = ("serving", "default", "trtllm"), ("training", None, None)


def child() -> None:
    """One fresh process: the lookups alone, CPU ms, printed as `serve_ms train_ms`."""
    import gc

    from infraplan.cli.main import GC_THRESHOLDS

    gc.set_threshold(*GC_THRESHOLDS)
    from infraplan.catalog.answer_bands import serving_answer_band
    from infraplan.catalog.error_bands import band_and_basis
    from infraplan.catalog.stacks import load_stack

    for name in ("trtllm-0.x", "vllm-0.x", "sglang-0.x"):  # what `serve` has loaded before its band
        load_stack(name)
    gc.freeze()
    start = time.process_time()
    serving_answer_band("h100-sxm", "trtllm-0.x", (), True)
    serving_answer_band("h100-sxm", "trtllm-0.x", (), True, metric="ttft")
    served = time.process_time()
    band_and_basis("h100-sxm", None, "training")
    print(f"{(served - start) * 1e3:.2f} {(time.process_time() - served) * 1e3:.2f}")


def bytes_read(asked: tuple[str | None, ...]) -> int:
    from infraplan.catalog.error_band_rows import BAND_FOLDER, _may_hold

    folder = resources.files("infraplan.catalog") / BAND_FOLDER
    return sum(len(e.read_bytes()) for e in folder.iterdir() if _may_hold(e.name, *asked))


def serve_seconds() -> float:
    beside = Path(sys.executable).with_name("infraplan")
    command = [str(beside)] if beside.exists() else [shutil.which("infraplan") or "infraplan"]
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([*command, *SERVE], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    runs = [subprocess.run([sys.executable, __file__, "--child"], check=True, capture_output=True, text=True)
            for _ in range(RUNS)]
    serve_ms, train_ms = (statistics.median(float(r.stdout.split()[i]) for r in runs) for i in (0, 1))
    serve_bytes, train_bytes = bytes_read(SERVE_READ), bytes_read(TRAIN_READ)
    every = bytes_read((None, None, None))
    print(f"error_band_lookup: default serve bands {serve_ms:.1f} ms CPU (goal <= {GOAL_SERVE_MS:.0f}), "
          f"train band {train_ms:.1f} ms (goal <= {GOAL_TRAIN_MS:.0f}); median of {RUNS} processes")
    print(f"error_band_lookup: residual files read: serve {serve_bytes:,} B (goal <= {GOAL_SERVE_BYTES:,}), "
          f"train {train_bytes:,} B (goal <= {GOAL_TRAIN_BYTES:,}), of {every:,} B stored")
    print(f"error_band_lookup: `infraplan {' '.join(SERVE[:2])} ... --json` {serve_seconds():.2f} s wall "
          f"(median of {RUNS}; no goal)")
    checks = (("serve ms", serve_ms, GOAL_SERVE_MS), ("train ms", train_ms, GOAL_TRAIN_MS),
              ("serve bytes", serve_bytes, GOAL_SERVE_BYTES), ("train bytes", train_bytes, GOAL_TRAIN_BYTES))
    missed = [what for what, value, goal in checks if value > goal]
    if missed:
        print(f"error_band_lookup: FAIL, over the goal: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        child()
        sys.exit(0)
    sys.exit(main())
