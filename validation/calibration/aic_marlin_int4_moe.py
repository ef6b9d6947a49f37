"""Blackwell's weight-only (W4A16) GEMM rate: NVIDIA AIConfigurator 0.12.0's measured vLLM Marlin int4 MoE tables.

Reproduces validation/calibration/aic_marlin_int4_moe.json, the Blackwell accelerator files'
`weight_only_matmul_fraction` (`serving.format_precision`, "Precision": int4 weight-only GEMMs at that fraction of the
bf16 peak; hB, session 54). Input: the aiconfigurator-core 0.12.0 wheel (PyPI, Apache-2.0), unpacked; pass its
`aiconfigurator_core/systems/data` folder:

    python validation/calibration/aic_marlin_int4_moe.py /path/to/aiconfigurator_core/systems/data

Tables: `<part>/moe/vllm/<release>/moe_perf.parquet`, moe_dtype int4_wo (kernel_source `vllm_marlin_int4_moe`: vLLM's
Marlin MoE, the kernel vLLM 0.15.1 runs a compressed-tensors W4A16 MoE with, compressed_tensors_moe.py:178-197
"Prefer to use the MarlinMoE kernel when it is supported"), distribution balanced, num_tokens >= 2,048 (the
compute-bound prefill region). Anchor: H200, whose catalog weight-only fraction is 0.47 (2/3 of its bf16 0.70:
Marlin's `mma.sync`, FlashAttention-3 sec. 1-2; `serving.llm_iteration`). Per part, the configurations (hidden,
intermediate, experts, top-k, MoE TP / EP, tokens) measured on both the part and H200 in one release, the earliest
release tabling both (B200: 0.19.0; B300, GB200, GB300: 0.24.0, their only table): each pair's ratio of the rate as a
fraction of the part's own dense bf16 peak (catalog) to the same on H200,
    r = (t_H200 / t_part) x (bf16 peak_H200 / bf16 peak_part),
and the part's fraction = 0.47 x median(r). H100 against H200 in 0.24.0 (the same tensor cores) is printed as the
method's check: r ~ 0.97. Finding: on Blackwell the Marlin MoE reaches about half of Hopper's share of the bf16 peak
(B200 r 0.547, quartiles 0.393-0.584): its `mma.sync` runs at about Hopper's absolute rate (B200 / H200 absolute
1.24x) while the dense bf16 peak (`tcgen05`) is 2.3x.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from aic_tables import fit_systems, table

from infraplan.catalog.loader import load_accelerator

ANCHOR = ("h200_sxm", "h200", 0.47)  # (AIC system, catalog name, its catalog weight-only fraction)
PARTS = {"b200_sxm": ("b200", "0.19.0"), "b300_sxm": ("b300", "0.24.0"), "gb200": ("gb200", "0.24.0"),
         "gb300": ("gb300", "0.24.0"), "h100_sxm": ("h100-sxm", "0.24.0")}  # the last: the method's check
MIN_TOKENS = 2048


def _latencies(root: Path, system: str, release: str) -> dict[tuple[int, ...], float]:
    t = table(root / system / "moe" / "vllm" / release / "moe_perf.parquet")
    keys = ("hidden_size", "inter_size", "num_experts", "topk", "moe_tp_size", "moe_ep_size", "num_tokens")
    return {tuple(t[k][i] for k in keys): t["latency"][i] for i in range(len(t["latency"]))
            if t["moe_dtype"][i] == "int4_wo" and t["distribution"][i] == "balanced"
            and t["num_tokens"][i] >= MIN_TOKENS}


def fit(root: Path, system: str) -> dict[str, object]:
    """One part against H200 in the part's release: pairs, the median ratio r, its quartiles, the fraction."""
    name, release = PARTS[system]
    anchor_system, anchor_name, anchor_fraction = ANCHOR
    part, anchor = _latencies(root, system, release), _latencies(root, anchor_system, release)
    peaks = load_accelerator(anchor_name).peak("bf16") / load_accelerator(name).peak("bf16")
    r = np.array([anchor[k] / part[k] * peaks for k in part if k in anchor])
    q1, median, q3 = (float(x) for x in np.percentile(r, [25, 50, 75]))
    return {"release": release, "pairs": len(r), "ratio_median": round(median, 3),
            "ratio_quartiles": [round(q1, 3), round(q3, 3)], "absolute_speed_over_h200": round(median / peaks, 3),
            "weight_only_matmul_fraction": round(anchor_fraction * median, 3)}


def main(argv: list[str]) -> int:
    out = fit_systems(argv, "aic_marlin_int4_moe", PARTS, fit)
    if out is None:
        return 2
    for system, r in out.items():
        print(system, r)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
