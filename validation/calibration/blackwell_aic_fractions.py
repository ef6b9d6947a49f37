"""Blackwell matmul / attention fractions from NVIDIA AIConfigurator 0.12.0's measured kernel tables (issues 12/13).

Reproduces validation/calibration/blackwell_aic_fractions.json and blackwell_aic_gemm_shapes.csv, the figures the
b200 / gb200 / b300 / gb300 accelerator files quote. Input: the aiconfigurator-core 0.12.0 wheel (Apache-2.0),
unpacked; pass its `aiconfigurator_core/systems/data` folder:

    python validation/calibration/blackwell_aic_fractions.py /path/to/aiconfigurator_core/systems/data

Method (one basis for every accelerator): the catalog's H100 fractions were measured on a lent H100 over
training-shaped GEMMs (bf16 0.70, fp8 0.63, sustained at the power cap; h100-sxm.yaml). AIC measured the same GEMM
shapes with one collector (TensorRT-LLM 1.3.0rc20, `gemm/trtllm/1.3.0rc20/gemm_perf.parquet`) on H100 and on each
Blackwell part, so per shape

    fraction_B = catalog_fraction_H100 x (AIC fraction_B / AIC fraction_H100)

and the catalog takes the median over the shapes. Each AIC fraction is the one the planner's kernel model implies
(`hardware.kernels`: tile-padded FLOPs over 128 x 128 tiles and whole waves of the part's SMs, 4 us launch cost):

    fraction = padded_flops / ((latency - activation_quantisation - 4 us) x dense_peak)

AIC's timed Linear quantises its bf16 activation inside the measurement: per-tensor fp8 runs `compute_scale` (amax)
and `scale_matrix` (the cast), which AIC itself subtracts to get static fp8 (sdk/perf_database.py `_gemm_key_names`:
"fp8_static ... derived from the dynamic fp8 GEMM minus compute_scale/scale_matrix overhead") and which the
same wheel measures (`quantize/trtllm/1.3.0rc20/{computescale,scale_matrix}_perf.parquet`); the training model
prices its casts apart (ops.precision), so they are removed. The block-scaled formats (fp8_block, nvfp4) quantise in
one fused read-and-write pass with no separate amax: ASSUMPTION, its cost equals the measured `scale_matrix` pass.
H100 fp8 is the base of every low-precision format (no H100 fp4 / block-scaled-MMA table).

Shapes: the layer GEMMs of Llama 3 8B (TP1), 70B (TP1, TP2), 405B (TP4, TP8), DeepSeek-V3, GPT-OSS-120B and
Qwen3-235B at M = 4,096 / 8,192 / 16,384 tokens: fprop (M, N, K), dgrad (M, K, N) and wgrad (K, N, M), N and K
snapped to the table's grid (nearest on a log scale, capped at 16,384); shapes with N or K < 1,024 are skipped.

Attention: AIC's `attention/trtllm/1.3.0rc20/context_attention_perf.parquet` (TensorRT-LLM context FMHA, forward
only, bf16, causal, no window) over isl 4,096-16,384, 8-64 query heads, 1-8 KV heads; achieved FLOPs 2 b h s^2 d
(causal QK^T and PV) over the dense bf16 peak; the catalog's attention fraction (fwd+bwd) = H100's 0.50 (measured
SDPA flash fwd+bwd) x the median Blackwell/H100 ratio at head_dim 128. Training runs forward and backward (cuDNN /
FlashAttention kernels, not TensorRT-LLM's): the ratio, not the level, is carried over (an ASSUMPTION).
"""

from __future__ import annotations

import csv
import json
import math
import statistics
import sys
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).parent
VERSION = "1.3.0rc20"
SYSTEMS = ("h100_sxm", "h200_sxm", "b200_sxm", "gb200", "b300_sxm", "gb300")
CATALOG = {"h100_sxm": "h100-sxm", "h200_sxm": "h200", "b200_sxm": "b200", "gb200": "gb200", "b300_sxm": "b300",
           "gb300": "gb300"}
# dense peaks of the catalog files (TF/s), which the fractions multiply
PEAK_TFLOPS = {
    "h100_sxm": {"bfloat16": 989, "fp8": 1979, "fp8_block": 1979},
    "h200_sxm": {"bfloat16": 989, "fp8": 1979, "fp8_block": 1979},
    "b200_sxm": {"bfloat16": 2250, "fp8": 4500, "fp8_block": 4500, "nvfp4": 9000},
    "gb200": {"bfloat16": 2500, "fp8": 5000, "fp8_block": 5000, "nvfp4": 10000},
    "b300_sxm": {"bfloat16": 2250, "fp8": 4500, "fp8_block": 4500, "nvfp4": 13500},
    "gb300": {"bfloat16": 2500, "fp8": 5000, "fp8_block": 5000, "nvfp4": 15000},
}
SMS = {"h100_sxm": 132, "h200_sxm": 132, "b200_sxm": 148, "gb200": 148, "b300_sxm": 160, "gb300": 160}
# parts whose catalog file sets `matmul_stream_k` (hardware.kernels), priced with no partial-wave idling: none yet.
# With ("b200_sxm", "gb200", "b300_sxm", "gb300") the derived fractions fall 2-4 % (B200 bf16 0.616 -> 0.590, fp8 0.570
# -> 0.548, fp8_block 0.568 -> 0.559, nvfp4 AIC 0.458 -> 0.443; hB86, validation/notes/serving_blackwell_tried.md)
STREAM_K: tuple[str, ...] = ()
H100_CATALOG = {"bfloat16": 0.70, "fp8": 0.63}  # h100-sxm.yaml, measured on a lent H100
H100_ATTENTION = 0.50
KERNEL_OVERHEAD_S = 4.0e-6
GRID = (1024, 1536, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 16384)
TOKENS = (4096, 8192, 16384)
# (model and sharding, layer, N = output features, K = input features) of one GPU's shard
LAYERS = (
    ("llama3-8b tp1", "qkv", 6144, 4096), ("llama3-8b tp1", "proj", 4096, 4096),
    ("llama3-8b tp1", "fc1", 28672, 4096), ("llama3-8b tp1", "fc2", 4096, 14336),
    ("llama3-70b tp1", "qkv", 10240, 8192), ("llama3-70b tp1", "proj", 8192, 8192),
    ("llama3-70b tp1", "fc1", 57344, 8192), ("llama3-70b tp1", "fc2", 8192, 28672),
    ("llama3-70b tp2", "qkv", 5120, 8192), ("llama3-70b tp2", "proj", 8192, 4096),
    ("llama3-70b tp2", "fc1", 28672, 8192), ("llama3-70b tp2", "fc2", 8192, 14336),
    ("llama3-405b tp4", "qkv", 4608, 16384), ("llama3-405b tp4", "proj", 16384, 4096),
    ("llama3-405b tp4", "fc1", 26624, 16384), ("llama3-405b tp4", "fc2", 16384, 13312),
    ("llama3-405b tp8", "qkv", 2304, 16384), ("llama3-405b tp8", "proj", 16384, 2048),
    ("llama3-405b tp8", "fc1", 13312, 16384), ("llama3-405b tp8", "fc2", 16384, 6656),
    ("deepseek-v3", "q_a", 1536, 7168), ("deepseek-v3", "q_b", 24576, 1536), ("deepseek-v3", "o", 7168, 16384),
    ("deepseek-v3", "expert_fc1", 4096, 7168), ("deepseek-v3", "expert_fc2", 7168, 2048),
    ("deepseek-v3", "dense_fc1", 36864, 7168), ("deepseek-v3", "dense_fc2", 7168, 18432),
    ("gpt-oss-120b", "qkv", 5120, 2880), ("gpt-oss-120b", "o", 2880, 4096),
    ("gpt-oss-120b", "expert_fc1", 5760, 2880), ("gpt-oss-120b", "expert_fc2", 2880, 2880),
    ("qwen3-235b", "qkv", 9216, 4096), ("qwen3-235b", "o", 4096, 8192),
    ("qwen3-235b", "expert_fc1", 3072, 4096), ("qwen3-235b", "expert_fc2", 4096, 1536),
)


def snap(x: int) -> int:
    """The table's N/K grid value nearest to x on a log scale (>= 16,384: 16,384)."""
    return 16384 if x >= 16384 else min(GRID, key=lambda g: abs(math.log(g / x)))


def gemm_shapes() -> list[tuple[int, int, int]]:
    """Unique (M, N, K) grid shapes of fprop, dgrad and wgrad of every layer at every token count."""
    shapes = set()
    for _model, _layer, n, k in LAYERS:
        for m in TOKENS:
            shapes.update({(m, snap(n), snap(k)), (m, snap(k), snap(n)), (snap(k), snap(n), m)})
    return sorted(shapes)


def load_rows(path: Path) -> list[dict[str, object]]:
    return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]


def kernel_source(system: str, dtype: str) -> str:
    # Blackwell's fp8_block rows are DeepGEMM's SM100 kernel (block-scaled tcgen05 MMA, the MXFP8 instruction)
    return "deepgemm" if dtype == "fp8_block" and system not in ("h100_sxm", "h200_sxm") else "torch_flow"


def implied_fraction(system: str, dtype: str, m: int, n: int, k: int, gemm: dict, quant: dict) -> float | None:
    latency_ms = gemm.get((dtype, kernel_source(system, dtype), m, n, k))
    if latency_ms is None:
        return None
    compute_scale, scale_matrix = quant[(m, k)]
    cast_ms = {"fp8": compute_scale + scale_matrix, "fp8_block": scale_matrix, "nvfp4": scale_matrix}.get(dtype, 0.0)
    seconds = (latency_ms - cast_ms) * 1e-3 - KERNEL_OVERHEAD_S
    units = SMS[system]
    tiles = math.ceil(m / 128) * math.ceil(n / 128)
    # whole waves, or the tiles balanced over the SMs on a part whose catalog file sets `matmul_stream_k`
    waves = tiles / units if system in STREAM_K else math.ceil(tiles / units)
    padded = waves * units * 128 * 128 * 2 * k
    return padded / seconds / (PEAK_TFLOPS[system][dtype] * 1e12)


def quartiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=4)
    return {"median": round(statistics.median(values), 4), "q25": round(q[0], 4), "q75": round(q[2], 4)}


def gemm_fractions(data: Path) -> tuple[dict, list[dict]]:
    shapes = gemm_shapes()
    table: dict[tuple[str, str], dict] = {}
    per_shape: list[dict] = [{"m": m, "n": n, "k": k} for m, n, k in shapes]
    for system in SYSTEMS:
        rows = load_rows(data / system / "gemm" / "trtllm" / VERSION / "gemm_perf.parquet")
        gemm = {(r["gemm_dtype"], r["kernel_source"], r["m"], r["n"], r["k"]): r["latency"] for r in rows}
        qdir = data / system / "quantize" / "trtllm" / VERSION
        scale = {(r["m"], r["k"]): r["latency"] for r in load_rows(qdir / "computescale_perf.parquet")}
        cast = {(r["m"], r["k"]): r["latency"] for r in load_rows(qdir / "scale_matrix_perf.parquet")}
        quant = {key: (scale[key], cast[key]) for key in scale}
        for dtype in PEAK_TFLOPS[system]:
            for row, (m, n, k) in zip(per_shape, shapes, strict=True):
                value = implied_fraction(system, dtype, m, n, k, gemm, quant)
                row[f"{system}:{dtype}"] = None if value is None else round(value, 4)
    for system in SYSTEMS:
        for dtype in PEAK_TFLOPS[system]:
            base = "bfloat16" if dtype == "bfloat16" else "fp8"
            pairs = [(r[f"{system}:{dtype}"], r[f"h100_sxm:{base}"]) for r in per_shape]
            pairs = [(a, b) for a, b in pairs if a and b]
            ratio = quartiles([a / b for a, b in pairs])
            table[(system, dtype)] = {
                "shapes": len(pairs), "aic_fraction": quartiles([a for a, _ in pairs]),
                "ratio_to_h100_" + base: ratio, "h100_catalog_" + base: H100_CATALOG[base],
                "derived_fraction": round(H100_CATALOG[base] * ratio["median"], 3),
            }
    return table, per_shape


def attention_fractions(data: Path) -> dict:
    def load(system: str) -> dict:
        rows = load_rows(data / system / "attention" / "trtllm" / VERSION / "context_attention_perf.parquet")
        return {(r["batch_size"], r["isl"], r["num_heads"], r["num_key_value_heads"], r["head_dim"]): r["latency"]
                for r in rows if r["kernel_source"] == "torch_flow" and r["window_size"] == 0
                and r["attn_dtype"] == "bfloat16" and r["kv_cache_dtype"] == "bfloat16"}

    tables = {s: load(s) for s in SYSTEMS}
    out: dict = {}
    for head_dim in (128, 64):
        keys = [key for key in tables["h100_sxm"] if key[4] == head_dim and key[1] in (4096, 8192, 16384)
                and key[2] in (8, 16, 32, 64) and key[3] in (1, 2, 4, 8) and key[3] <= key[2]]

        def fraction(system: str, key: tuple) -> float | None:
            latency_ms = tables[system].get(key)
            if latency_ms is None:
                return None
            b, s, h, _kv, d = key
            return 2.0 * b * h * s * s * d / (latency_ms * 1e-3) / (PEAK_TFLOPS[system]["bfloat16"] * 1e12)

        for system in SYSTEMS:
            pairs = [(fraction(system, key), fraction("h100_sxm", key)) for key in keys]
            pairs = [(a, b) for a, b in pairs if a and b]
            ratio = quartiles([a / b for a, b in pairs])
            out[f"{system}:head_dim_{head_dim}"] = {
                "shapes": len(pairs), "aic_forward_fraction": quartiles([a for a, _ in pairs]),
                "ratio_to_h100": ratio, "derived_fraction": round(H100_ATTENTION * ratio["median"], 3)}
    return out


def main(data: Path) -> None:
    table, per_shape = gemm_fractions(data)
    result = {
        "source": "NVIDIA AIConfigurator 0.12.0 (aiconfigurator-core wheel, Apache-2.0) systems/data/<system>/"
                  f"{{gemm,quantize,attention}}/trtllm/{VERSION}/; method in blackwell_aic_fractions.py",
        "layers": [list(layer) for layer in LAYERS], "tokens": list(TOKENS),
        "gemm": {f"{CATALOG[s]}:{d}": v for (s, d), v in table.items()},
        "attention": attention_fractions(data),
    }
    (HERE / "blackwell_aic_fractions.json").write_text(json.dumps(result, indent=1) + "\n")
    with (HERE / "blackwell_aic_gemm_shapes.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(per_shape[0]))
        writer.writeheader()
        writer.writerows(per_shape)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
