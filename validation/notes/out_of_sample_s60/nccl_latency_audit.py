"""Model / measured of every measured NCCL table in NVIDIA AIConfigurator 0.12.0 (hK, session 60).

Input: the aiconfigurator-core 0.12.0 wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data`
folder (needs pyarrow). Rows:
- `nccl/2.29.2/nccl_perf.parquet` (A100: 2.27.3) of h100_sxm, h200_sxm, b200_sxm, b300_sxm (8-GPU boards: 2 / 4 / 8
  ranks), gb200, gb300 (one 4-GPU compute tray of an NVL72: 2 / 4 ranks), a100_sxm; all-reduce, all-gather,
  reduce-scatter, all-to-all; half rows (bytes = 2 x message_size), 512 B - 1 GiB;
- NCCL across the trays of one GB300 NVL72 domain (8 ranks on 2 trays, 16 on 4): `gb300/comm/sglang/0.5.14/
  custom_allreduce_perf.parquet`, TP 8 / 16 rows, CUDA graph (SGLang's custom all-reduce refuses a group that
  spans hosts, custom_all_reduce.py:260-274 as the table's collection_meta.yaml quotes, so PyNCCL runs it: NCCL
  all-reduce). TensorRT-LLM's table meta quotes its own NCCL fallback at 8 ranks, 256 B: 27.27 us.
The model: `estimate_collective(op, cluster, n, bytes).time_s` (what `infraplan collective` prints, NCCL's time) on
the catalog system holding the group. Printed: model / measured by system, op, ranks, size band (median, min, max),
and the mean |ln(model / measured)| of all rows; `--off` with `network.nvlink_latency.IN_DOMAIN_LL_LATENCY` off;
`--write` also writes the rows of 32 KiB and less to aic_nccl_small_messages.csv beside this script (read by
tests/network/test_nvlink_latency_hK60.py). ~3 s.
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s60/nccl_latency_audit.py DATA [--rows] [--off]
    [--write]
"""

from __future__ import annotations

import math
import statistics
import sys
from pathlib import Path

import pyarrow.parquet as pq

from infraplan.cluster.cluster import Cluster
from infraplan.network import nvlink_latency
from infraplan.network.collective_schedules import estimate_collective

SYSTEMS = {"h100_sxm": ("dgx-h100-superpod", "2.29.2"), "h200_sxm": ("hgx-h200", "2.29.2"),
           "b200_sxm": ("dgx-b200", "2.29.2"), "b300_sxm": ("dgx-b300", "2.29.2"),
           "gb200": ("gb200-nvl72", "2.29.2"), "gb300": ("gb300-nvl72", "2.29.2"),
           "a100_sxm": ("dgx-a100-superpod", "2.27.3")}
OPS = {"all_reduce": "all-reduce", "all_gather": "all-gather", "reduce_scatter": "reduce-scatter",
       "alltoall": "all-to-all"}
BANDS = ((0, 2**16, "256B-32KiB"), (2**16, 2**21, "64KiB-1MiB"), (2**21, 2**26, "2-32MiB"),
         (2**26, 2**31, "64MiB-1GiB"))


def band(size: int) -> str:
    return next(name for low, high, name in BANDS if low <= size < high)


def measured(data: Path) -> list[tuple[str, str, int, int, float, str]]:
    """(system, op, ranks, bytes, measured us, table) of every row (mean of repeats)."""
    seen: dict[tuple[str, str, int, int, str], list[float]] = {}
    for system, (_, version) in SYSTEMS.items():
        t = pq.read_table(data / system / "comm" / "nccl" / version / "nccl_perf.parquet").to_pydict()
        for op, dtype, n, elements, ms in zip(t["op_name"], t["nccl_dtype"], t["num_gpus"], t["message_size"],
                                               t["latency"], strict=True):
            if dtype == "half":
                seen.setdefault((system, OPS[op], int(n), 2 * int(elements), f"nccl {version}"), []).append(1e3 * ms)
    t = pq.read_table(data / "gb300" / "comm" / "sglang" / "0.5.14" / "custom_allreduce_perf.parquet").to_pydict()
    for source, n, elements, ms in zip(t["kernel_source"], t["num_gpus"], t["message_size"], t["latency"],
                                        strict=True):
        if int(n) > 4 and source.endswith("graph"):
            seen.setdefault(("gb300", "all-reduce", int(n), 2 * int(elements), "sglang 0.5.14 PyNCCL"),
                            []).append(1e3 * ms)
    return [(s, op, n, size, statistics.fmean(v), table) for (s, op, n, size, table), v in sorted(seen.items())]


SMALL_CSV = Path(__file__).parent / "aic_nccl_small_messages.csv"
SMALL_MAX_BYTES = 2**15


def write_small(rows: list[tuple[str, str, int, int, float, str]]) -> None:
    lines = ["# source: NVIDIA AIConfigurator 0.12.0 (PyPI wheel aiconfigurator_core-0.12.0, Apache-2.0): "
             "systems/data/<system>/comm/nccl/<version>/nccl_perf.parquet (nccl-tests-style, half rows, bytes = 2 x "
             "message_size, microseconds, mean of repeats) and gb300/comm/sglang/0.5.14/custom_allreduce_perf.parquet "
             "TP 8 / 16 CUDA-graph rows (NCCL via PyNCCL across 2 / 4 GB300 NVL72 trays); rows of 32 KiB and less. "
             "Made by validation/notes/out_of_sample_s60/nccl_latency_audit.py --write.",
             "system,op,gpus,size_bytes,measured_us,table"]
    lines += [f"{s},{op},{n},{size},{us:.3f},{table}" for s, op, n, size, us, table in rows if size <= SMALL_MAX_BYTES]
    SMALL_CSV.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    nvlink_latency.IN_DOMAIN_LL_LATENCY = "--off" not in argv
    clusters = {s: Cluster.resolve(ref) for s, (ref, _) in SYSTEMS.items()}
    groups: dict[tuple[str, str, int, str], list[float]] = {}
    rows = measured(Path(argv[1]))
    if "--write" in argv:
        write_small(rows)
    for system, op, n, size, us, table in rows:
        model = 1e6 * estimate_collective(op, clusters[system], n, float(size)).time_s
        if "--rows" in argv:
            print(f"{system:9s} {op:14s} {n:2d} {size:>10d} {table:22s} measured {us:9.2f} model {model:9.2f} "
                  f"ratio {model / us:.3f}")
        groups.setdefault((system, op, n, band(size)), []).append(model / us)
    print("| system | op | ranks | " + " | ".join(name for _, _, name in BANDS) + " |")
    print("|---|---|---:|" + "---|" * len(BANDS))
    for system in SYSTEMS:
        for op in OPS.values():
            for n in (2, 4, 8, 16):
                cells = [groups.get((system, op, n, name)) for _, _, name in BANDS]
                if any(cells):
                    text = [f"{statistics.median(c):.2f} ({min(c):.2f}-{max(c):.2f})" if c else "-" for c in cells]
                    print(f"| {system} | {op} | {n} | " + " | ".join(text) + " |")
    everything = [r for rs in groups.values() for r in rs]
    print(f"rows {len(everything)}; mean |ln ratio| {statistics.fmean(abs(math.log(r)) for r in everything):.4f}")


if __name__ == "__main__":
    main(sys.argv)
