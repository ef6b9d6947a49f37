"""Extract the out-of-sample NCCL tables of NVIDIA AIConfigurator 0.12.0 into aic_oos_nccl.csv (hO, session 55).

Input: the aiconfigurator-core 0.12.0 wheel (PyPI aiconfigurator_core-0.12.0, Apache-2.0), unpacked; pass its
`aiconfigurator_core/systems/data` folder (needs pyarrow):

    .venv/bin/python validation/notes/out_of_sample_s55/extract_aic.py /path/to/aiconfigurator_core/systems/data

Tables taken (none is an input of the model: `network.nvlink_all_reduce` / `network.nvlink_collectives` read only
h100_sxm / h200_sxm / b200_sxm / b300_sxm, and GB200 / GB300 take their HGX board's table):
- a100_sxm/comm/nccl/2.27.3/nccl_perf.parquet: 8x A100-SXM4-80GB (one NVSwitch board), NCCL 2.27.3 (collection_meta
  provenance "legacy"), 2 / 4 / 8 GPUs;
- gb300/comm/nccl/2.29.2/nccl_perf.parquet: GB300 (one 4-GPU compute tray inside the NVL72 NVLink domain),
  NCCL 2.29.2 (provenance "collected"), 2 / 4 GPUs;
- gb200/comm/nccl/2.29.2/nccl_perf.parquet: GB200 tray, NCCL 2.29.2, 2 / 4 GPUs. SEEN: validation/calibration/
  aic_nccl_collectives.py compared the model with it when GB200 was given B200's table; not an input, but not blind.
Rows: half precision only; message_size counts 2-byte elements of the nccl-tests size buffer (bytes = 2 x
elements: the conventions of aic_nccl_collectives.py); latency milliseconds (microseconds here; the mean of repeats).
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

import pyarrow.parquet as pq

TABLES = (("a100_sxm", "2.27.3", "oos"), ("gb300", "2.29.2", "oos"), ("gb200", "2.29.2", "seen"))
OPS = {"all_reduce": "all-reduce", "all_gather": "all-gather", "reduce_scatter": "reduce-scatter",
       "alltoall": "all-to-all"}


def main(data: Path) -> None:
    out = Path(__file__).with_name("aic_oos_nccl.csv")
    rows = []
    for system, version, status in TABLES:
        table = pq.read_table(data / system / "comm" / "nccl" / version / "nccl_perf.parquet").to_pydict()
        seen: dict[tuple[str, int, int], list[float]] = {}
        for op, dtype, gpus, elements, ms in zip(table["op_name"], table["nccl_dtype"], table["num_gpus"],
                                                 table["message_size"], table["latency"], strict=True):
            if dtype == "half":
                seen.setdefault((OPS[op], int(gpus), 2 * int(elements)), []).append(1e3 * float(ms))
        for (op, gpus, size), times in sorted(seen.items()):
            rows.append([system, version, status, op, gpus, size, f"{statistics.fmean(times):.3f}"])
    with out.open("w", newline="") as f:
        f.write("# source: NVIDIA AIConfigurator 0.12.0 (aiconfigurator_core-0.12.0 wheel, Apache-2.0), "
                "systems/data/<system>/comm/nccl/<nccl>/nccl_perf.parquet, half rows; see extract_aic.py\n")
        w = csv.writer(f)
        w.writerow(["aic_system", "nccl", "status", "op", "gpus", "size_bytes", "measured_us"])
        w.writerows(rows)
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
