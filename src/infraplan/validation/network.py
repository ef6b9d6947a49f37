"""Validate collective bus bandwidth against published NCCL measurements (cases/network.yaml).

Each case runs `estimate_collective` (analytical model, large message, the stated placement and algorithm) and
compares its busbw with the published figure (nccl-tests conventions). Sources are in the case file:
nccl-tests and NCCL GitHub issues (NVIDIA/nccl-tests, NVIDIA/nccl), by number. Cases with `known_gap` are reported
and left out of the summary's gated error.

Small messages (`small_message_rows`, hC51): the cases are 8 GiB, where the alpha-beta answer is a bandwidth; a
message of under `LARGE_MESSAGE_BYTES` is compared with the measured NCCL all-reduce tables the repo has
(catalog/nccl/aiconfigurator_{h100,h200,b200,b300}_all_reduce.csv: NVIDIA AIConfigurator 0.12.0, nccl-tests of NCCL
2.29.2 on 8-GPU HGX boards, 2 / 4 / 8 GPUs in one NVSwitch domain, 64 KiB to 512 MiB, 168 rows). They give the
residuals (predicted / measured busbw - 1, the answer's `busbw_bytes_per_s` from its `time_s`) of the error band of
such an answer (metric `busbw_small`, one campaign per table). Since hC52 `time_s` is the priced time, of which the
tables are an input (`network.nvlink_all_reduce`): the residuals are in-sample (-7.7 % to +26.5 % since hK60's LL
latency line, -12.5 % before; of the alpha-beta line before hC52, -12.5 % to +211 %), and the band's basis says
so. No table measures a small all-reduce across scale-up domains. The 8 GiB cases too score the answer, the priced
time since hC52 (mean |error| 0.52 % on the alpha-beta line, 0.73 % priced).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from infraplan.catalog.data_files import read_rows
from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster import Cluster
from infraplan.network.collective_algorithms import bus_bandwidth
from infraplan.network.collective_band import LARGE_MESSAGE_BYTES
from infraplan.network.collective_schedules import estimate_collective
from infraplan.network.nvlink_collectives import TABLE_GPUS
from infraplan.units import parse_bytes

SMALL_MESSAGE_TABLES = {  # measured table -> the system of its 8-GPU board (module docstring)
    "aiconfigurator_h100_all_reduce.csv": "dgx-h100-superpod",
    "aiconfigurator_h200_all_reduce.csv": "hgx-h200",
    "aiconfigurator_b200_all_reduce.csv": "dgx-b200",
    "aiconfigurator_b300_all_reduce.csv": "dgx-b300",
}


def load_network_cases() -> list[dict[str, Any]]:
    text = (resources.files("infraplan.validation") / "cases" / "network.yaml").read_text()
    return safe_load_yaml(text)["cases"]


def run_network_validation() -> dict[str, Any]:
    """Rows of id, metric, published, predicted, error, source; summary of the gated mean/max |error|."""
    rows = []
    for case in load_network_cases():
        result = estimate_collective("all-reduce", Cluster.resolve(case["system"]), case["gpus"],
                                     parse_bytes(case["bytes"]), placement=case["placement"],
                                     algorithm=case["algorithm"])
        predicted = result.busbw_bytes_per_s / 1e9
        published = float(case["published_gb_per_s"])
        rows.append({
            "id": case["id"], "metric": "all-reduce busbw (GB/s)", "published": published, "predicted": predicted,
            "error": predicted / published - 1.0, "source": case["source"], "gated": "known_gap" not in case,
            "known_gap": case.get("known_gap"), "bottleneck_tier": result.bottleneck_tier,
        })
    gated = [abs(r["error"]) for r in rows if r["gated"]]
    summary = {"cases": len(rows), "gated_cases": len(gated), "mean_abs_error": float(np.mean(gated)),
               "max_abs_error": float(np.max(gated)),
               "max_abs_error_all": float(np.max([abs(r["error"]) for r in rows]))}
    return {"cases": rows, "summary": summary}


def small_message_rows() -> list[dict[str, Any]]:
    """Each measured NCCL all-reduce of the small-message tables below `LARGE_MESSAGE_BYTES` against the analytical
    answer of the same GPUs and bytes (module docstring): id, system, gpus, size, published and predicted busbw
    (GB/s), error, campaign (one table)."""
    rows = []
    for table, system in SMALL_MESSAGE_TABLES.items():
        cluster = Cluster.resolve(system)
        campaign = f"AIConfigurator 0.12.0 NCCL all-reduce table, {system}"
        for row in read_rows("infraplan.catalog", "nccl", table):
            size = float(row["size_bytes"])
            if size >= LARGE_MESSAGE_BYTES:
                continue
            for gpus in TABLE_GPUS:
                measured_s = float(row[f"nccl_{gpus}gpu_us"]) * 1e-6
                published = bus_bandwidth("all-reduce", size / measured_s, gpus) / 1e9
                predicted = estimate_collective("all-reduce", cluster, gpus, size).busbw_bytes_per_s / 1e9
                rows.append({"id": f"{table.removesuffix('_all_reduce.csv')}-nccl-{gpus}gpu-{int(size)}",
                             "system": system, "gpus": gpus, "size_bytes": size, "published": published,
                             "predicted": predicted, "error": predicted / published - 1.0, "campaign": campaign})
    return rows
