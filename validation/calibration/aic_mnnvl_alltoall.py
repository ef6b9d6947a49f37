"""GB200's measured NVLink (MNNVL) all-to-all rates for the flex dispatcher's scale-up leg, from NVIDIA AIConfigurator
0.12.0's TensorRT-LLM all-to-all table.

Reproduces src/infraplan/catalog/nccl/aiconfigurator_gb200_mnnvl_alltoall.csv. Input: the aiconfigurator-core 0.12.0
wheel (Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder (needs pyarrow):

    python validation/calibration/aic_mnnvl_alltoall.py /path/to/aiconfigurator_core/systems/data

What AIC timed (`gb200/comm/trtllm/1.3.0rc10/trtllm_alltoall_perf.parquet`, framework TRTLLM, version 1.2.0rc6,
device "NVIDIA GB200"): TensorRT-LLM's MoE all-to-all over the NVL72 NVLink domain (`kernel_source` NVLinkTwoSided),
ops `alltoall_dispatch` / `alltoall_combine`, bf16 hidden states, hidden 7,168, top-8 of 256 experts, balanced
routing, EP 2-64, 1-65,536 tokens per rank, latency in milliseconds. A token goes once to every rank holding one
of its experts (the per-rank deduplicated payload the HybridEP / DeepEP kernels send inside a domain,
`training.expert_dispatch.flex_dispatch_seconds`): with E / n experts per rank, a token reaches
n (1 - C(E - E/n, k) / C(E, k)) ranks, (n - 1) / n of them remote. Rate = tokens x remote ranks x hidden x 2 B /
latency, per GPU and direction; the median over the rows with >= 4,096 tokens (8 sizes per EP size, spread
within 1-5 %); `pair` is the dispatch + combine pair's rate (2 / (1 / dispatch + 1 / combine)).
"""

from __future__ import annotations

import statistics
import sys
from math import comb
from pathlib import Path

import pyarrow.parquet as pq

TABLE = Path("gb200") / "comm" / "trtllm" / "1.3.0rc10" / "trtllm_alltoall_perf.parquet"
OUT = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "nccl" / "aiconfigurator_gb200_mnnvl_alltoall.csv"
MIN_TOKENS = 4096
HEADER = ("# source: NVIDIA AIConfigurator 0.12.0 (PyPI wheel aiconfigurator_core-0.12.0, Apache-2.0), measured "
          "on GB200 NVL72: systems/data/gb200/comm/trtllm/1.3.0rc10/trtllm_alltoall_perf.parquet (TensorRT-LLM "
          "1.2.0rc6 MoE all-to-all over the NVLink domain, NVLinkTwoSided, bf16, hidden 7168, top-8 of 256 "
          "experts, balanced). GB/s per GPU and direction of the per-rank deduplicated remote payload, median "
          "over >= 4096 tokens per rank. Made by validation/calibration/aic_mnnvl_alltoall.py.")


def rates(data: Path) -> dict[int, dict[str, float]]:
    """{EP size: {op: GB/s}} of the bf16 NVLinkTwoSided dispatch / combine rows with >= MIN_TOKENS tokens."""
    seen: dict[tuple[int, str], list[float]] = {}
    for r in pq.read_table(data / TABLE).to_pylist():
        if (r["moe_dtype"] != "bfloat16" or r["kernel_source"] != "NVLinkTwoSided" or r["num_tokens"] < MIN_TOKENS
                or r["op_name"] not in ("alltoall_dispatch", "alltoall_combine")):
            continue
        n, experts, k = int(r["moe_ep_size"]), int(r["num_experts"]), int(r["topk"])
        ranks = n * (1.0 - comb(experts - experts // n, k) / comb(experts, k))
        payload = r["num_tokens"] * ranks * (n - 1) / n * r["hidden_size"] * 2.0
        seen.setdefault((n, r["op_name"].split("_")[1]), []).append(payload / (r["latency"] * 1e-3) / 1e9)
    out: dict[int, dict[str, float]] = {}
    for (n, op), values in seen.items():
        out.setdefault(n, {})[op] = statistics.median(values)
    return out


def main(data: Path) -> None:
    lines = [HEADER, "ep,dispatch_gb_per_s,combine_gb_per_s,pair_gb_per_s"]
    for n, r in sorted(rates(data).items()):
        pair = 2.0 / (1.0 / r["dispatch"] + 1.0 / r["combine"])
        lines.append(f"{n},{r['dispatch']:.1f},{r['combine']:.1f},{pair:.1f}")
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[1:]))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
