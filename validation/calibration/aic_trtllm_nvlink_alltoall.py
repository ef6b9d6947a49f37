"""TensorRT-LLM's MoE all-to-all on a GB200 NVL72 domain, as NVIDIA AIConfigurator 0.12.0 measured it: every
NVLinkTwoSided prepare / dispatch / combine row, for `serving.ep_alltoall_tables` (hW, session 67).

Reproduces src/infraplan/catalog/nccl/aiconfigurator_gb200_trtllm_nvlink_alltoall.csv. Input: the aiconfigurator-core
0.12.0 wheel (PyPI, Apache-2.0), unpacked; pass its `aiconfigurator_core/systems/data` folder (needs pyarrow):

    python validation/calibration/aic_trtllm_nvlink_alltoall.py /path/to/aiconfigurator_core/systems/data

What AIC timed (`gb200/comm/trtllm/1.3.0rc10/trtllm_alltoall_perf.parquet`; its rows say framework TRTLLM, version
1.2.0rc6, device "NVIDIA GB200"): TensorRT-LLM's MoE all-to-all over the NVL72 NVLink domain, hidden 7,168, top-8 of
256 experts (DeepSeek-V3 / R1's MoE), balanced routing, EP 2 / 4 / 8 / 16 / 32 / 64, 1-65,536 tokens per rank,
`latency` in ms. The rows kept: kernel_source NVLinkTwoSided (the backend AIConfigurator's own serving model picks
first for TensorRT-LLM where both are measured: aiconfigurator 0.12.0 sdk/task_v2.py:1437-1440, the registry order of
aiconfigurator_core 0.12.0 sdk/operations/moe_comm.py:173-185, whose `nvlink_two_sided` runs the phases prepare,
dispatch, combine), ops alltoall_prepare / alltoall_dispatch / alltoall_combine / alltoall_combine_low_precision,
moe_dtype bfloat16 / fp8 / nvfp4 (the MoE's quantisation: the dispatched hidden states' format; the combine rows of
the three dtypes are the same bf16 traffic, measured three times). Written unchanged, in microseconds.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow.parquet as pq

TABLE = Path("gb200") / "comm" / "trtllm" / "1.3.0rc10" / "trtllm_alltoall_perf.parquet"
OUT = (Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "nccl"
       / "aiconfigurator_gb200_trtllm_nvlink_alltoall.csv")
KERNEL = "NVLinkTwoSided"
OPS = {"alltoall_prepare": "prepare", "alltoall_dispatch": "dispatch", "alltoall_combine": "combine",
       "alltoall_combine_low_precision": "combine_low_precision"}
HEADER = ("# source: NVIDIA AIConfigurator 0.12.0 (PyPI wheel aiconfigurator_core-0.12.0, Apache-2.0), measured on "
          "GB200 NVL72: aiconfigurator_core/systems/data/gb200/comm/trtllm/1.3.0rc10/trtllm_alltoall_perf.parquet "
          "(rows: framework TRTLLM, version 1.2.0rc6). TensorRT-LLM's MoE all-to-all, kernel_source NVLinkTwoSided, "
          "hidden 7168, top-8 of 256 experts, balanced routing; tokens per rank, latency per call in us. Made by "
          "validation/calibration/aic_trtllm_nvlink_alltoall.py.")


def rows(data: Path) -> list[tuple[str, str, int, int, float]]:
    """(op, moe_dtype, EP, tokens, microseconds) of every NVLinkTwoSided row, sorted."""
    out = []
    for r in pq.read_table(data / TABLE).to_pylist():
        if r["kernel_source"] != KERNEL or r["op_name"] not in OPS:
            continue
        assert (r["hidden_size"], r["topk"], r["num_experts"], r["distribution"]) == (7168, 8, 256, "balanced")
        out.append((OPS[r["op_name"]], r["moe_dtype"], int(r["moe_ep_size"]), int(r["num_tokens"]),
                    float(r["latency"]) * 1e3))
    return sorted(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: aic_trtllm_nvlink_alltoall.py AIC_SYSTEMS_DATA_FOLDER", file=sys.stderr)
        return 2
    lines = [HEADER, "op,moe_dtype,ep,tokens,latency_us"]
    lines += [f"{op},{dtype},{ep},{tokens},{us:.3f}" for op, dtype, ep, tokens, us in rows(Path(argv[0]))]
    OUT.write_text("\n".join(lines) + "\n")
    print(f"{len(lines) - 2} rows -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
