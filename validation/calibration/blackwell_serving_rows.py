"""Write src/infraplan/validation/data/serving_measured_blackwell.csv from AIConfigurator's silicon sample.

Source: aiconfigurator-core 0.12.0 wheel (PyPI, Apache-2.0), aiconfigurator_core/systems/silicon_sample.csv.
Kept: the aggregated (mode agg) rows on Blackwell systems (b200_sxm, b300_sxm, gb200, gb300) of the checkpoints with
a catalog preset (`KEPT`); the others are counted in the file's header by checkpoint. Columns as
serving_measured_hopper_moe.csv: `concurrency` is the source's `silicon_concurrency` (empty where it states none).
Usage: python validation/calibration/blackwell_serving_rows.py path/to/silicon_sample.csv
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from pathlib import Path

SYSTEMS = ("b200_sxm", "b300_sxm", "gb200", "gb300")
KEPT = ("meta-llama/Llama-3.1-70B", "Qwen/Qwen3-32B", "deepseek-ai/DeepSeek-R1", "deepseek-ai/DeepSeek-V3",
        "openai/gpt-oss-120b", "moonshotai/Kimi-K2.5")
COLUMNS = ("id", "backend", "backend_version", "model_path", "system", "precision", "gemm_quant_mode", "moe_quant_mode",
           "isl", "osl", "batch_size", "tp_size", "pp_size", "attention_dp_size", "moe_tp_size", "moe_ep_size",
           "silicon_ttft_ms", "silicon_tpot_ms", "concurrency", "silicon_data_source")
OUT = Path(__file__).resolve().parents[2] / "src/infraplan/validation/data/serving_measured_blackwell.csv"


def main(sample: str) -> None:
    with open(sample, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["system"] in SYSTEMS and r["mode"] == "agg"]
    kept = [r for r in rows if r["model_path"] in KEPT]
    others = Counter(r["model_path"] for r in rows if r["model_path"] not in KEPT)
    left = "; ".join(f"{m} {n}" for m, n in sorted(others.items()))
    header = ("# source: NVIDIA AIConfigurator silicon sample (aiconfigurator-core 0.12.0 wheel, PyPI, Apache-2.0 "
              "data: aiconfigurator_core/systems/silicon_sample.csv), github.com/ai-dynamo/aiconfigurator: the "
              f"{len(rows)} aggregated (colocated) rows on Blackwell systems (b200_sxm, b300_sxm, gb200; the sample "
              f"has no aggregated gb300 row), of which the {len(kept)} of checkpoints with a catalog preset are kept "
              f"here (Llama 3.1 70B, Qwen3 32B, DeepSeek-R1 / V3, GPT-OSS 120B, Kimi-K2.5); not kept, no preset: "
              f"{left}. Measured mean TTFT and TPOT (ms) of closed-loop benchmark clients by TensorRT-LLM, vLLM and "
              "SGLang. concurrency = the benchmark's clients (`silicon_concurrency` of silicon_data_source; empty "
              "where none is stated); batch_size = one attention-DP rank's sequences; columns as "
              "serving_measured_hopper_moe.csv; empty precision = bf16. Written by "
              "validation/calibration/blackwell_serving_rows.py; read by validation.serving_blackwell.\n")
    with open(OUT, "w", newline="") as f:
        f.write(header)
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in kept:
            found = re.search(r"silicon_concurrency=(\d+)", r["silicon_data_source"])
            writer.writerow([(found.group(1) if found else "") if c == "concurrency" else r[c] for c in COLUMNS])
    print(f"{len(kept)} rows of {len(rows)} -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
