"""Validate collective bus bandwidth against published NCCL measurements (cases/network.yaml).

Each case runs `estimate_collective` (analytical model, large message, the stated placement and algorithm) and
compares its busbw with the published figure (nccl-tests conventions). Sources are in the case file:
nccl-tests and NCCL GitHub issues (NVIDIA/nccl-tests, NVIDIA/nccl), by number. Cases with `known_gap` are reported
and left out of the summary's gated error.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from infraplan.catalog.yaml_text import safe_load_yaml
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective
from infraplan.units import parse_bytes


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
