"""The model's in-domain collectives against NVIDIA AIConfigurator 0.12.0's measured NCCL tables (H100 / H200 / B200 /
GB200).

Reproduces validation/calibration/aic_nccl_collectives.csv. Input: the aiconfigurator-core 0.12.0 wheel
(Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder (needs pyarrow):

    python validation/calibration/aic_nccl_collectives.py /path/to/aiconfigurator_core/systems/data [--catalog]

(`--catalog` also writes the measured tables the model reads, catalog/nccl/aiconfigurator_<gpu>_collectives.csv.)

What AIC timed (`comm/nccl/2.29.2/nccl_perf.parquet`, collection_meta.yaml "provenance: collected", framework
TRTLLM, kernel_source NCCL, NCCL 2.29.2): nccl-tests-style timings of all_reduce, all_gather, reduce_scatter and
alltoall on 2 / 4 / 8 GPUs of one 8-GPU HGX board (h100_sxm, h200_sxm, b200_sxm) and on 2 / 4 GPUs of one GB200
compute tray (gb200: 4 GPUs per tray, inside the NVL72 NVLink domain), dtype half and int8. `message_size` counts
elements (the int8 rows take ~half the time of the half rows at equal message_size) of the nccl-tests `size`
buffer: the whole all-reduce buffer, the gathered (all-gather) / unsharded (reduce-scatter) buffer, each rank's send
buffer (all-to-all); `latency` is milliseconds per collective. (If message_size were per rank, H100's 8-GPU
all-gather would reach 8 x 335 GB/s busbw, beyond NVLink4's 450 GB/s.) Those are the conventions of
`network.collectives`' `size_bytes`, so the model is priced at bytes = 2 x message_size (half rows only).

Model: `collective_time(fabric, kind, bytes, n, stride=1)` (sized: the message-size efficiency and, for
all-reduce, the measured in-domain curve) on the catalog system whose NVLink domain holds the group:
dgx-h100-superpod, hgx-h200, dgx-b200, gb200-nvl72-superpod. The CSV holds one row per (system, collective, GPUs,
size): measured microseconds, the model's before the measured in-domain tables (`model_simai_us`: the SimAI NVLink
column, `network.collective_efficiency`) and with them (`model_us`, `network.nvlink_collectives`, which reads the
catalog tables this script writes with `--catalog`), each over measured, and the measured bus bandwidth
(nccl-tests convention: algbw x 2 (n - 1)/n for all-reduce, (n - 1)/n otherwise). The all-reduce rows follow
`network.nvlink_all_reduce`'s own measured curve either way.
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

import pyarrow.parquet as pq

from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.network import nvlink_collectives
from infraplan.network.collectives import Fabric, collective_time, forget_float_values

HERE = Path(__file__).parent
NCCL_VERSION = "2.29.2"
SYSTEMS = {"h100_sxm": ("dgx-h100-superpod", "h100-sxm"), "h200_sxm": ("hgx-h200", "h200"),
           "b200_sxm": ("dgx-b200", "b200"), "gb200": ("gb200-nvl72-superpod", "gb200")}
KINDS = {"all_reduce": "all_reduce", "all_gather": "all_gather", "reduce_scatter": "reduce_scatter",
         "alltoall": "all_to_all"}
HALF_BYTES = 2


def measured_rows(data: Path, system: str) -> dict[tuple[str, int, int], float]:
    """{(collective, GPUs, bytes): measured microseconds} of one system's half-precision rows (mean of repeats)."""
    table = pq.read_table(data / system / "comm" / "nccl" / NCCL_VERSION / "nccl_perf.parquet").to_pydict()
    seen: dict[tuple[str, int, int], list[float]] = {}
    for op, dtype, gpus, elements, latency_ms in zip(table["op_name"], table["nccl_dtype"], table["num_gpus"],
                                                     table["message_size"], table["latency"], strict=True):
        if dtype == "half":
            seen.setdefault((op, int(gpus), HALF_BYTES * int(elements)), []).append(1e3 * float(latency_ms))
    return {key: statistics.fmean(values) for key, values in seen.items()}


def bus_factor(op: str, gpus: int) -> float:
    """nccl-tests' busbw / algbw."""
    return (2.0 if op == "all_reduce" else 1.0) * (gpus - 1) / gpus


def model_us(fabric: Fabric, op: str, size: int, gpus: int, measured_tables: bool) -> float:
    """The model's microseconds, with or without the measured in-domain tables (`network.nvlink_collectives`)."""
    before = nvlink_collectives.MEASURED_NVLINK_COLLECTIVES
    nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = measured_tables
    forget_float_values()
    try:
        return 1e6 * float(collective_time(fabric, KINDS[op], float(size), float(gpus), 1.0))
    finally:
        nvlink_collectives.MEASURED_NVLINK_COLLECTIVES = before
        forget_float_values()


def rows(data: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for system, (system_ref, accelerator_ref) in SYSTEMS.items():
        fabric = Fabric.from_system(load_system(system_ref), load_accelerator(accelerator_ref))
        for (op, gpus, size), measured_us in sorted(measured_rows(data, system).items()):
            simai = model_us(fabric, op, size, gpus, False)
            tables = model_us(fabric, op, size, gpus, True)
            out.append({"system": system, "collective": op, "gpus": gpus, "size_bytes": size,
                        "measured_us": round(measured_us, 2), "model_simai_us": round(simai, 2),
                        "simai_over_measured": round(simai / measured_us, 3), "model_us": round(tables, 2),
                        "model_over_measured": round(tables / measured_us, 3),
                        "measured_busbw_gb_s": round(bus_factor(op, gpus) * size / measured_us / 1e3, 1)})
    return out


# gb200 takes b200's (8 GPUs); b300 (hO, session 55): gb300 takes it (`network.nvlink_collectives`)
CATALOG_TABLES = {"h100_sxm": "h100", "h200_sxm": "h200", "b200_sxm": "b200", "b300_sxm": "b300"}
CATALOG_DIR = HERE.parent.parent / "src" / "infraplan" / "catalog" / "nccl"
TABLE_OPS = ("all_gather", "reduce_scatter", "alltoall")


def write_catalog_tables(data: Path) -> None:
    """The catalog's measured in-domain tables (`network.nvlink_collectives`): microseconds per collective of the
    half rows, 1 KiB to 1 GiB, 2 / 4 / 8 GPUs, all-gather, reduce-scatter and all-to-all."""
    for system, name in CATALOG_TABLES.items():
        measured = measured_rows(data, system)
        sizes = sorted({size for (_, _, size) in measured if size >= 2**10})
        columns = [f"{op}_{gpus}gpu_us" for op in TABLE_OPS for gpus in (2, 4, 8)]
        lines = [f"# source: NVIDIA AIConfigurator 0.12.0 (PyPI wheel aiconfigurator_core-0.12.0, Apache-2.0), "
                 f"measured on 8x {system} (one NVSwitch board): systems/data/{system}/comm/nccl/{NCCL_VERSION}/"
                 "nccl_perf.parquet, rows nccl_dtype half (NCCL 2.29.2, nccl-tests-style timings). Their "
                 "message_size counts 2-byte elements of nccl-tests' size buffer (the gathered / unsharded buffer, "
                 "each rank's all-to-all send buffer; bytes here = 2 x elements) and their latency is milliseconds "
                 "(microseconds here; the mean where a size has two rows). Made by "
                 "validation/calibration/aic_nccl_collectives.py.",
                 ",".join(["size_bytes", *columns])]
        for size in sizes:
            values = [f"{measured[(op, gpus, size)]:.2f}" for op in TABLE_OPS for gpus in (2, 4, 8)]
            lines.append(",".join([str(size), *values]))
        (CATALOG_DIR / f"aiconfigurator_{name}_collectives.csv").write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> None:
    if "--catalog" in argv:
        write_catalog_tables(Path(argv[1]))
    table = rows(Path(argv[1]))
    path = HERE / "aic_nccl_collectives.csv"
    with path.open("w", newline="") as handle:
        handle.write(f"# source: NVIDIA AIConfigurator 0.12.0 (aiconfigurator_core wheel, Apache-2.0), "
                     f"systems/data/<system>/comm/nccl/{NCCL_VERSION}/nccl_perf.parquet, half rows; model: "
                     "infraplan network.collectives.collective_time (sized); made by aic_nccl_collectives.py\n")
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    for system in SYSTEMS:
        for op in KINDS:
            for gpus in (2, 4, 8):
                ratios = [(r["size_bytes"], f'{r["simai_over_measured"]}->{r["model_over_measured"]}') for r in table
                          if r["system"] == system and r["collective"] == op and r["gpus"] == gpus]
                if ratios:
                    shown = " ".join(f"{float(s) / 2**20:g}M:{q}" for s, q in ratios  # type: ignore[arg-type]
                                     if float(s) >= 2**10)  # type: ignore[arg-type]
                    print(f"{system:9s} {op:14s} {gpus} {shown}")


if __name__ == "__main__":
    main(sys.argv)
