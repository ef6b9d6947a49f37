"""Out-of-sample check of `infraplan collective` against published NCCL figures not in the repo (hO, session 55).

Rows (notes: validation/notes/network_flow_tried.md, "hO (session 55)"):
- AIC: NVIDIA AIConfigurator 0.12.0's measured nccl-tests-style tables that no model input reads (aic_oos_nccl.csv,
  made by extract_aic.py): 8x A100 SXM (NCCL 2.27.3; 2 / 4 / 8 GPUs), GB300 tray (NCCL 2.29.2; 2 / 4 GPUs), and GB200
  tray (NCCL 2.29.2; status "seen": compared in validation/calibration/aic_nccl_collectives.py, not an input), every
  op (all-reduce, all-gather, reduce-scatter, all-to-all), 512 B - 512 MiB. Readable here: out of sample, not recalled.
- PUB: published multi-node figures (REF = quoted in ../shared/reference/network.md, not in cases/network.yaml;
  RECALLED = from memory, not readable here), each with its confidence.
Each row runs `estimate_collective` (what `infraplan collective` prints: `time_s`, the priced time, `--algorithm auto`
unless the row names one) on the row's catalog system (or a what-if file here). Two naive answers:
- `nominal`: a constant bus bandwidth at the link's nominal rate (in a domain: the accelerator's scale-up rate per
  direction; across nodes: the node's NICs x line rate / its GPUs in the group... as in the row), no latency;
- `alpha-beta`: the same rate plus one switch hop per ring step (2 (n - 1) steps for all-reduce, n - 1 otherwise)
  at ALPHA_S = 1 us (the catalog's InfiniBand tier `hop_latency_s`; used for NVSwitch too, ASSUMPTION).
Error = predicted / measured busbw - 1 (= measured / predicted time - 1). Regimes: small < 1 MiB, medium, large
>= 256 MiB; intra (one NVLink domain) / inter (across nodes).
`--no-b300-table` runs with `network.nvlink_collectives.B300_TABLE` (B300's board table for GB300; on since session 55)
off; `--group-share` with `H100_GROUP_SHARE` (H100's 2- / 4-rank share on the SimAI column of parts without a table) on.
Run from the repository root (seconds):
    PYTHONPATH=src .venv/bin/python validation/notes/out_of_sample_s55/oos_collectives.py [--rows] [--no-b300-table]
    [--group-share]
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path

from infraplan.cluster.cluster import Cluster
from infraplan.network import nvlink_collectives
from infraplan.network.collective_schedules import BUS_FACTORS, estimate_collective

HERE = Path(__file__).parent
ALPHA_S = 1.0e-6
MIB = 1024.0**2
AIC_SYSTEMS = {"a100_sxm": "dgx-a100-superpod", "gb300": "gb300-nvl72", "gb200": "gb200-nvl72"}


def regime(size: float) -> str:
    return "small" if size < MIB else ("large" if size >= 256 * MIB else "medium")


def steps(op: str, n: int) -> int:
    return 2 * (n - 1) if op == "all-reduce" else n - 1


def naive_times(op: str, n: int, size: float, rate: float) -> tuple[float, float]:
    """(nominal, alpha-beta) seconds: bus bytes at the link's nominal rate, plus a switch hop per ring step."""
    bus_bytes = BUS_FACTORS[op](n) * size
    return bus_bytes / rate, bus_bytes / rate + steps(op, n) * ALPHA_S


def aic_rows() -> list[dict]:
    rows = []
    with (HERE / "aic_oos_nccl.csv").open() as f:
        lines = [line for line in f if not line.startswith("#")]
    for r in csv.DictReader(lines):
        system = AIC_SYSTEMS[r["aic_system"]]
        cluster = Cluster.resolve(system)
        n, size, op = int(r["gpus"]), float(r["size_bytes"]), r["op"]
        measured = float(r["measured_us"]) * 1e-6
        model = estimate_collective(op, cluster, n, size).time_s
        nominal, ab = naive_times(op, n, size, float(cluster.accelerator.scale_up_bandwidth_bytes_per_s))
        rows.append(dict(id=f"{r['aic_system']}-{op}-{n}-{int(size)}", src=f"AIC {r['aic_system']} NCCL {r['nccl']}",
                         status=r["status"], where="intra", regime=regime(size), op=op, gpus=n, size=size,
                         measured=measured, model=model, nominal=nominal, alpha_beta=ab))
    return rows


GIB = 1024.0**3
S52 = HERE.parent / "out_of_sample_s52"
# published large-message all-reduce busbw (GB/s) at stated setups: (id, tag and source, system, GPUs, placement,
# algorithm, bytes, published, nominal busbw GB/s, where). Message size: "large" in every source, taken as 8 GiB
# (nccl-tests -e 8G, the network set's convention; ASSUMPTION where the source does not state it).
PUBLISHED = (
    ("pub-8xa800-intra", "REF [V] nccl #412 (sjeaugey): 8x A800 ~160, confidence high",
     str(HERE / "a800.yaml"), 8, "packed", "auto", 8 * GIB, 160.0, 200.0, "intra"),
    ("pub-2n-a100-4hdr", "REF [V] nccl-tests #100/#175 (users): 2 A100 nodes, 4x HDR each, 86-91, confidence medium",
     str(S52 / "neox-cluster.yaml"), 16, "packed", "auto", 8 * GIB, 88.5, 100.0, "inter"),
    ("pub-hdr-per-nic", "REF [V] sjeaugey: ~24 per HDR 200G NIC (one GPU a node), confidence medium",
     "dgx-a100-superpod", 16, "spread", "ring", 8 * GIB, 24.0, 25.0, "inter"),
    ("pub-2x-dgx-h100", "RECALLED (hF N5, nccl-tests users): 2x DGX H100, 8x NDR, ~370-390, confidence low",
     "dgx-h100-superpod", 16, "packed", "auto", 8 * GIB, 380.0, 400.0, "inter"),
)


def published_rows() -> list[dict]:
    rows = []
    for rid, src, system, n, placement, algorithm, size, busbw, nominal_busbw, where in PUBLISHED:
        cluster = Cluster.resolve(system)
        measured = BUS_FACTORS["all-reduce"](n) * size / (busbw * 1e9)
        model = estimate_collective("all-reduce", cluster, n, size, placement=placement, algorithm=algorithm).time_s
        nominal, ab = naive_times("all-reduce", n, size, nominal_busbw * 1e9)
        rows.append(dict(id=rid, src=src, status="pub", where=where, regime=regime(size), op="all-reduce", gpus=n,
                         size=size, measured=measured, model=model, nominal=nominal, alpha_beta=ab))
    return rows


def err(t_pred: float, t_meas: float) -> float:
    return t_meas / t_pred - 1.0


def summary(rows: list[dict], key) -> None:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(key(r), []).append(r)
    print(f"{'group':44s} {'rows':>5s} {'model':>8s} {'nominal':>8s} {'alpha-b':>8s}   mean |error| % (median)")
    for k in sorted(groups):
        g = groups[k]
        cells = []
        for c in ("model", "nominal", "alpha_beta"):
            e = [100 * abs(err(r[c], r["measured"])) for r in g]
            cells.append(f"{statistics.fmean(e):8.1f} ({statistics.median(e):.1f})")
        print(f"{' / '.join(map(str, k)):44s} {len(g):5d} {'  '.join(cells)}")


def main() -> None:
    nvlink_collectives.B300_TABLE = "--no-b300-table" not in sys.argv
    nvlink_collectives.H100_GROUP_SHARE = "--group-share" in sys.argv
    rows = aic_rows() + published_rows()
    if "--rows" in sys.argv:
        print(f"{'id':40s} {'meas us':>10s} {'model us':>10s} {'model %':>8s} {'nominal':>8s} {'alpha-b':>8s}")
        for r in rows:
            e = [100 * err(r[c], r["measured"]) for c in ("model", "nominal", "alpha_beta")]
            print(f"{r['id']:40s} {r['measured'] * 1e6:10.2f} {r['model'] * 1e6:10.2f} {e[0]:+8.1f} {e[1]:+8.1f} "
                  f"{e[2]:+8.1f}")
    summary(rows, lambda r: ("PUB (REF / RECALLED)" if r["status"] == "pub" else r["src"], r["where"], r["regime"]))
    summary([r for r in rows if r["status"] != "pub"], lambda r: (r["src"], r["op"], r["regime"]))
    for r in rows:
        if r["status"] == "pub":
            e = [100 * err(r[c], r["measured"]) for c in ("model", "nominal", "alpha_beta")]
            print(f"{r['id']:18s} {r['src']}: model {e[0]:+.1f} %, nominal {e[1]:+.1f} %, alpha-beta {e[2]:+.1f} %")


if __name__ == "__main__":
    main()
