"""The routed experts' grouped GEMM of one serving MoE layer, with the router's spread of tokens over experts.

`ops.layer` gives the expert GEMMs of M tokens as `count` hit experts of `m` tokens each (m = M k / hit experts,
the mean over the experts that get any token). Priced as `count` equal problems (`hardware.grouped_gemm_time`),
every expert runs ceil(m / tile) M tiles of the mean: at M = 8192 GPT-OSS-120B (128 experts, top-4) feeds 256
tokens to each expert, exactly two 128-row tiles, while a real batch gives about half the experts more than 256
tokens (three tiles); and the cost steps wherever the mean crosses a whole tile (GPT-OSS at TP1 on an H200:
92.4 ms of body at 4096 tokens, a mean of 128.0, and 156.1 ms at 4100, 128.1). A grouped kernel pads each
expert's own rows: vLLM's fused MoE pads every expert's token segment to its BLOCK_SIZE_M
(`moe_align_block_size`), DeepGEMM's contiguous layout to its M block, and CUTLASS grouped GEMMs (TensorRT-LLM's
MoE runner) tile each problem at its own size.

Per-expert counts. Under uniform routing (each of the M tokens picks k of the E experts; the balanced default of
`ops.layer`) an expert's tokens are Binomial(M, k / E), here Poisson with the same mean lambda = M k / E per
expert (balls into bins; the limit for E >> k, E >= 128 for every catalog MoE), and with EP the same lambda per
local expert. An expert with X tokens runs ceil(X / t) M tiles of t rows, so the E_local experts of one GPU run
E_local * E[ceil(X / t)] tiles, with E[ceil(X / t)] = sum_{j >= 0} P(X > j t) and, for the Poisson tail,
P(X > n) = P(n + 1, lambda), the regularised lower incomplete gamma function (Abramowitz & Stegun 26.4.21 with
6.5.2). The tile t is the one `hardware.kernels` gives a problem of the mean m rows (a power of two >= 16,
at most tile_m), as a launch is configured from the batch (vLLM's tuned fused-MoE configs and TensorRT-LLM's MoE
autotuner pick it by the token count). The compute time is those tiles in waves over the SMs
(`grouped_gemm_time` of one-tile problems); the memory time reads the weights of the hit experts and their
activations, as before; one launch. Decode batches (lambda << 1: one 16-row tile per hit expert, bound by the
weight bytes) are unchanged to within the Poisson vs binomial count of hit experts in the compute term.

Below a mean of tile_m rows the tile itself still steps at powers of two, as `hardware.kernels` sizes any skinny
GEMM (GPT-OSS: 34.1 ms at 1024 tokens, a mean of 32: 1.3 tiles of 32 rows; 43.0 ms at 1030: one of 64).

Effect (toggle `ROUTED_TOKEN_SPREAD`; every row of the MoE serving set, mean |error| TTFT / TPOT / both): 29.21 /
15.11 / 22.16 % -> 28.75 / 15.02 / 21.89 %; GPT-OSS-120B at TP1 on H200, body at 2048 / 4096 / 4100 / 8192
tokens: 47.9 / 92.4 / 156.1 / 180.4 ms -> 62.9 / 122.3 / 123.3 / 211.3 ms. By group (TTFT mean |error|, median):
vLLM GPT-OSS H200 0.23 (-0.16) -> 0.20 (-0.12), H100 0.28 (-0.15) -> 0.26 (-0.12), vLLM / SGLang Qwen3-235B
-0.40 / -0.39 -> -0.38 / -0.38 median, TensorRT-LLM GPT-OSS H200 0.40 (+0.25) -> 0.42 (+0.30); TPOT within
0.01 per group. The dense and inference sets have no routed layers and do not move (27.64 %, 7.24 %).

Padded workspace and DeepGEMM's per-tile depth (vLLM 0.12's DeepGEMM MoE, a stack profile's
`moe_fp8_padded_workspace`): `serving.deepgemm_moe`.

Block-scaled fp8 (`FP8_BLOCK_TILE_COST`; the accelerator's `fp8_block_grouped_depth` D, a stack profile's
`moe_fp8_block_tile_cost`). NVIDIA AIConfigurator 0.12.0's measured TensorRT-LLM 1.3.0rc20 fused-MoE tables
(aiconfigurator-core wheel, Apache-2.0: systems/data/{h100_sxm,h200_sxm}/moe/trtllm/1.3.0rc20/moe_perf.parquet,
moe_dtype fp8_block = 128 x 128 block-scaled weights, balanced routing) are far slower than the fp8 rate where the
experts are split by TP: DeepSeek-V3's experts at 16,384 tokens on H100 take 10.674 ms at MoE TP8 (135 TF/s, each
GPU's down GEMM only 256 deep) and 2.805 ms at EP8 (515 TF/s); Qwen3-235B 6.649 ms at TP4, 2.789 ms at EP4. The
dense table (gemm/trtllm/1.3.0rc20/gemm_perf.parquet) runs fp8_block at 0.9x per-tensor fp8 (M 8192, N 7168,
K 16384 on H100: 1,133 vs 1,225 TF/s), so block scaling does not cost the MMA rate: it costs each output tile a
fixed time, as if K were D deeper (the per-128-K scale loads and fp32 promotion, pipeline fill and epilogue of
the grouped kernel; the mechanism is ASSUMPTION, the size measured). An expert GEMM of depth K therefore runs at
the fp8 rate x K / (K + D). D is the one value that fits the model (tiles, Poisson counts, routing) to the 85
DeepSeek-V3 / Qwen3-235B rows of 4,096-16,384 tokens at MoE TP x EP 2-8: 3,800 on H100 (mean |error| 6.6 %),
3,300 on H200 (7.6 %), from 55 % too fast before (the catalog files copy the numbers). It applies to the model
families whose FP8 checkpoints are block-scaled (`FP8_BLOCK_MODEL_TYPES`; recalled, not re-read: the
`quantization_config` of deepseek-ai/DeepSeek-V3 / R1 and moonshotai/Kimi-K2 config.json, `weight_block_size`
[128, 128], and the Qwen3-MoE -FP8 model cards, "fine-grained fp8 quantization with block size of 128"), not to
per-tensor fp8 (MLPerf's and ModelOpt's Mixtral): the same wheel's per-tensor fp8 table of Mixtral 8x7B's experts
on H200 (1.3.0rc10, balanced, 16,384 tokens) measures 1.351 ms at MoE TP8 and 4.055 ms at TP2, and the model
without the tile cost gives 1.417 / 4.955 ms (with it 2.790 / 8.218). Only TensorRT-LLM's profile sets the flag:
the SGLang 0.5.14 and vLLM 0.24.0 tables of the same wheel (Triton MoE) do not follow the rule (DeepSeek-V3 at MoE
TP8 on H100: 4.097 / 4.924 ms, faster than TensorRT-LLM; at EP8 11.857 / 13.891 ms, 4-5x slower): below.

Triton block-fp8 (`TRITON_FP8_BLOCK_RATE`; a stack profile's `moe_fp8_block_rate_fraction` f). SGLang runs
block-fp8 experts on Hopper through its Triton `fused_moe_kernel` (moe_runner_backend auto -> TRITON unless the
DeepEP / Mooncake all-to-all: sglang 0.5.6.post2 layers/quantization/fp8.py:1101-1107, 0.5.9 :1347-1351; the
kernel with per-128-K block scales, 0.5.6.post2 layers/moe/fused_moe_triton/fused_moe_triton_kernels.py:308,
586-650, 0.5.9 the same with swap_ab below 64-row M tiles), vLLM where DeepGEMM does not (MoE TP >= 8 or DeepGEMM
off: vllm 0.12.0 model_executor/layers/quantization/fp8.py:170-203, "default to Triton"). Its measured layers
(AIConfigurator 0.12.0 {h100_sxm,h200_sxm}/moe/sglang/0.5.10/moe_perf.parquet, sglang_fused_moe_triton, the
nearest measured version to the rows' 0.5.6.post2 / 0.5.9) run 35-47 % slower than this model at 4,096-16,384
tokens whatever the MoE TP (DeepSeek-V3 TP8 on H200: 4.441 ms at 16,384, model 2.354; Qwen3-235B TP4 3.129 vs
1.670) and within 1-25 % of it at <= 1,024 tokens (weight-bound): the kernel sustains a fraction of the fp8 MMA
rate, K-independent (unlike TensorRT-LLM's per-tile cost). f = 0.5 fits DeepSeek-V3 and Qwen3-235B at MoE TP 2 /
4 / 8, 2,048-16,384 tokens: mean |error| 35 -> 10 % on H200, 27 -> 8 % on H100 (0.5.14's table: 0.6-0.65;
vLLM's Triton fused MoE, 0.19.0 / 0.24.0 H200 tables: 0.45 / 0.5); the catalog's SGLang and vLLM profiles copy
it. The rate only: the memory term and the tiles are as above; DeepGEMM's padded workspace keeps the full rate.
Effect (toggle; the MoE serving set, every expressible row): SGLang 0.5.6.post2 Qwen3-235B-FP8 H200 (24 rows)
TTFT median -42 -> -33 % (mean |error| 0.40 -> 0.37), TPOT mean |error| 0.16 -> 0.15; SGLang 0.5.9 DeepSeek-R1
/ V3 (45 rows) TTFT median +3 -> +7 % (0.10 -> 0.12), TPOT +1 -> +2 %; vLLM 0.12 (DeepGEMM) unchanged; all rows
18.81 -> 18.86 % (`validate`'s sample 19.31 -> 19.25 %). Disaggregated set 26.12 -> 26.82 % (sample 28.02 ->
29.64): its SGLang 0.5.8.post1 DeepSeek-V3 rows (3, 8192-token prompts, one TP8 prefill worker) TTFT median -31 ->
+35 %; the 256-client row, queued on prefill throughput, 29.8 -> 40.1 s vs 29.6 measured: without the rule the
model's whole prefill matched there although its MoE layer is 1.5-2x faster than the kernel's table, so another
term of DeepSeek's prefill compensates (not found). Dense, MLPerf v5.1 sets: unchanged. The Qwen3 TTFT left is
not the MoE kernel (`validation.serving_hopper_moe`, "Evidence left").

INT4 Marlin (`MARLIN_INT4_RATE`; a stack profile's `moe_int4_marlin_rate_fraction` f). INT4 group-quantised experts
(compressed-tensors WNA16: Kimi K2's INT4 release) run vLLM's Marlin MoE on Hopper (vllm 0.12.0 compressed_tensors/
compressed_tensors_moe.py:146-170). AIConfigurator 0.12.0's vLLM 0.24.0 table of that kernel (h200_sxm moe_perf,
int4_wo, balanced; Kimi K2's 384 experts 7168 x 2048 at MoE TP8) runs 1.5-1.9x this model at 2,048-16,384 tokens
(16,384: 8.59 ms vs 4.62): f = 0.6 of the weight-only rate fits it (mean |error| 40 -> 10 %), in the vLLM profiles.
Not MXFP4 (GPT-OSS's Triton matmul_ogs tables run 0.6-0.8x this model at prefill sizes). The 0.19.0 table
(`vllm_marlin_int4_moe`) fits f = 0.25, which the serving rows contradict (Kimi TTFT / TPOT median +40 / +42 %).
Effect (toggle, every expressible row, 540): 17.04 -> 16.57 %; vLLM 0.16 Kimi TTFT median -24 -> -10 % (mean
|error| 0.26 -> 0.13), TPOT -4 -> -2 % (0.06 -> 0.08); no other row of the serving sets has INT4 experts.

Local routed copies (`LOCAL_ROUTED_COPIES`, `moe_routing_time`): the permutation into expert order and the
weighted sum move only the routed copies of the GPU's own experts, k T / EP of the k T with EP inside TP (a
fused MoE with EP drops the copies routed elsewhere), k T attention_DP / EP with wide EP; the T x E logits and
the T h activations in and out stay per token. Without it the routing alone took 1.40 ms of DeepSeek-V3's
16,384-token EP8 layer on H100, half the measured 2.805 ms.
Effect (both toggles, one tree; every expressible row): MoE serving set (540 rows) 19.45 -> 19.16 %; TensorRT-LLM
DeepSeek-V3/R1 H200 TTFT median -39 -> -23 %, TPOT -16 -> -9 %; Qwen3-235B H100 TTFT -14 -> -7 %; 1.1 DeepSeek-R1
-63 -> -63 % (attention DP -78 -> -74 %); no SGLang / vLLM group moves. Disaggregated 30.42 -> 26.06 %; MLPerf
v5.1 8-GPU, dense: unchanged. The local copies alone: 19.45 -> 19.80 % (Qwen3 H100 TTFT -14 -> -17 %).

MXFP4 experts (`MXFP4_TOKEN_COST`, `mxfp4_moe_token_time`; the accelerator's `w4a16_mxfp4_moe_fixed_s` /
`w4a16_mxfp4_moe_token_s`, a stack profile's `moe_w4a16_mxfp4_token_cost`). GPT-OSS's MXFP4 experts run on Hopper
as W4A16 (weight-only mxfp4, `serving.deployment`). AIConfigurator 0.12.0's measured TensorRT-LLM 1.3.0rc20 tables
(moe_perf.parquet, moe_dtype w4a16_mxfp4, balanced routing, MoE TP 1, EP 1-16) split, for each token count T,
into a(T) + b(T) / EP: b(T) is the grouped GEMM at 440 TF/s on H100 and H200 (0.44 x bf16 peak; the catalog's
weight-only 0.47 prices it), a(T) = 68 us + 63 ns x T whatever the EP (GPT-OSS-20B and -120B, H100 and H200
alike, so SM work, not HBM traffic; 1.11 ms at 16,384 tokens, where EP8 measures 2.05 ms and the EP-split work
alone 1.12). The other moe_dtypes of the same tables have a(T) of 3-15 ns per token, what the routing traffic
above gives. The mechanism is ASSUMPTION (work over all T input rows in TensorRT-LLM's W4A16 MXFP4 MoE path,
e.g. activation staging or the finalize, launched beside the grouped GEMMs); the size is measured. The catalog
holds a(T) less what this module already charges whatever the EP (8 launches; the logits and activations):
36 us and 59-60 ns per token, added to every routed layer of a model family released in MXFP4
(`MXFP4_MODEL_TYPES`) at W4A16 where the stack's profile sets the flag (TensorRT-LLM's; vLLM's Triton matmul_ogs
MXFP4 tables, 0.24.0, scale with EP: a(16,384) ~ 0.2 ms, and stay off). Kernel tables (GPT-OSS-120B, the 70
H100 / H200 points of 1-16,384 tokens at EP 1-16, mean |error|): 44.2 -> 20.5 % (>= 1,024 tokens 36.5 ->
21.9 %, <= 256 tokens 48.8 -> 19.6 %; EP8 16,384 tokens on H200 2.051 ms measured, 1.121 -> 2.140 ms; one token
0.073 ms, 0.039 -> 0.075); GPT-OSS-20B 39.9 -> 14.8 %. At 4,096 tokens the model stays +20-35 %: the balanced
tables give every expert exactly T k / E rows, the model Poisson counts (above).
Not adopted (a decode dequantisation ceiling): `validation/notes/serving_hopper_moe_tried.md`.
Effect (toggle; every expressible row of the MoE serving set, 540): mean |error| TTFT + TPOT 19.22 -> 18.86 %
(TTFT 25.81 -> 26.43, TPOT 12.62 -> 11.30); TensorRT-LLM GPT-OSS-120B H200, the 45-row campaign: TPOT median -17
-> +4 % (mean |error| 0.17 -> 0.08), TTFT +23 -> +33 % (0.29 -> 0.34); the 32-row campaign: TPOT -21 -> -1 %
(0.21 -> 0.12), TTFT +34 -> +40 % (0.52 -> 0.55). The TTFT excess is not the MoE: at 1,024-token prompts and
4-8 clients those rows measure 80-117 ms, about the stack's front-end time alone (`request_latency_s`: 0.12 s then,
0.089 s since the closed-loop client round trip, 0.080 s since its first wave in order).
No vLLM / SGLang row moves; the disaggregated, dense and MLPerf v5.1 sets are bit-identical (no TensorRT-LLM
GPT-OSS row).

Fused shared expert (`SGLANG_FUSED_SHARED_EXPERT`, `shared_expert_fused`). SGLang 0.5.6.post2 / 0.5.9 run
DeepSeek-V3/R1's shared expert as expert 257 of the routed fused MoE (top_k 8 + 1) on CUDA when the config has 256
routed and one shared expert and the MoE has no EP (models/deepseek_v2.py `determine_num_fused_shared_experts`,
0.5.9 :2853-2895; the dual-stream shared MLP only without it, :570-580): its GEMMs at the fused MoE's rate, no
launches of their own. Not counted: its copies in the permutation (~1 us a layer at decode), the host's launches.

Per local expert (`FP8_BLOCK_EXPERT_S`, where `fp8_block_depth` applies). The same TensorRT-LLM 1.3.0rc20 tables
at 1-8 tokens cost ~0.2 us per expert the GPU holds, hit or not, in fp8_block only (per-tensor fp8, 4096 x 2048
experts: 39 / 34 us at MoE TP8 / EP8): one token, H200, DeepSeek-V3 115 us at MoE TP8 (256 local experts) vs 40
at EP8 (32), Qwen3-235B 68 / 29 us at TP4 / EP8. Least squares over the 72 decode points per GPU (both models, EP x
TP 1-8): 0.215 us (H200), 0.179 (H100); mean |table - model| 23.6 -> 8.4 us (H200), 19.8 -> 9.1 (H100); 4,096-16,384
tokens 9.3 -> 9.6 % (the D fit). Mechanism ASSUMPTION (per-expert set-up of the block-scaled grouped GEMM).

Fused fp4 MoE on Blackwell: the trtllm-gen fused MoE's launches beside its GEMMs (`serving.trtllm_gen_moe`, passed
to `moe_routing_time` as `kernels`).

Release extra (`RELEASE_MOE_EXTRA`, `release_moe_time`): a stack release's block-fp8 fused MoE measured slower than
the 1.3.0rc20 kernel the rules above are fitted to, by `fixed_s` + `token_expert_s` x tokens x routed experts per
routed layer (`moe_release_extra` in its profile, `catalog.serving_profile`): TensorRT-LLM 1.2.0rc5 (AIConfigurator
0.7.0's tables; validation/data/stacks/trtllm-1.2.0rc6.yaml) at the same shapes, 15.5 us + 0.049 ns per (token,
expert) on H200, within 1.6 % of its 2,106 cells of >= 160 experts.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammainc

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.schemas import Accelerator
from infraplan.hardware.kernels import KernelRates, gemm_time, grouped_gemm_time, memory_bound_time
from infraplan.ops.layer import Gemm
from infraplan.ops.params import ACT_BYTES
from infraplan.serving import deepgemm_moe, expert_slots, release_tables
from infraplan.serving.deployment import mxfp4_weight_only
from infraplan.serving.engines import serving_profile

ROUTED_TOKEN_SPREAD = True  # price per-expert counts spread by the router (module docstring; toggle to compare)
MOE_ROUTING_KERNELS = 6  # launches per routed layer beside the expert GEMMs (`moe_routing_time`; ASSUMPTION)
# The fused top-k reads the T x E router logits once, in the gate GEMM's output dtype (which writes them, priced
# with that GEMM): bf16 in vLLM 0.12.0 (the gate a ReplicatedLinear in the model dtype, models/deepseek_v2.py:261,
# qwen3_moe.py:178; `topk_softmax` / the sigmoid `grouped_topk` kernel take the raw logits, fused_moe.py:1082,
# :1331) and SGLang 0.5.9 (F.linear, models/deepseek_v2.py:362; fp32 only from the <= 16-token dsv3_router_gemm,
# :353-355); it writes k fp32 weights and k int32 ids per token (fused_moe.py:1112-1119), read again by the
# permutation and the weighted sum. Bytes per token: 2 E + 2 x 8 k.
ROUTER_LOGIT_BYTES = 2.0  # bf16, read once (above)
TOPK_BYTES = 16.0  # per routed copy: fp32 weight + int32 id, written once and read once (above)
EXPERT_GEMMS = ("expert_up", "expert_down")  # the `ops.layer` roles of the routed experts' grouped GEMMs
SMALLEST_M_TILE = 16.0  # `hardware.kernels`' narrowest M tile for skinny GEMMs
TAIL_SDS = 7.0  # E[ceil(X / t)] is evaluated within 7 standard deviations of the mean count (P < 1e-11)
FP8_BLOCK_TILE_COST = True  # block-fp8 grouped GEMMs pay the catalog's per-tile depth (module docstring; toggle)
TRITON_FP8_BLOCK_RATE = True  # a stack's `moe_fp8_block_rate_fraction` applies (module docstring; toggle)
LOCAL_ROUTED_COPIES = True  # the permute moves only the GPU's own experts' copies (module docstring; toggle)
# HF model_types whose FP8 releases are 128x128 block-scaled (deepseek_v32: DeepSeek-V3.2's quantization_config,
# weight_block_size [128, 128]; kimi_k2: Kimi-K2-Instruct's, the same; aiconfigurator-core 0.12.0 model_configs/
# deepseek-ai--DeepSeek-V3.2_config.json:35-44, moonshotai--Kimi-K2-Instruct_config.json:38-46)
FP8_BLOCK_MODEL_TYPES = ("deepseek_v3", "deepseek_v32", "kimi_k2", "qwen3_moe")
MXFP4_TOKEN_COST = True  # W4A16 MXFP4 MoE pays the catalog's EP-independent token cost (docstring; toggle)
MXFP4_MODEL_TYPES = ("gpt_oss",)  # HF model_types released with MXFP4 expert weights
MARLIN_INT4_RATE = True  # a stack's `moe_int4_marlin_rate_fraction` applies to INT4 experts (docstring; toggle)
SGLANG_FUSED_SHARED_EXPERT = True  # SGLang runs DeepSeek-V3/R1's shared expert inside the fused MoE (docstring)
SHARED_GEMMS = ("shared_up", "shared_down")  # the `ops.layer` roles of a shared expert's GEMMs
FP8_BLOCK_EXPERT_S = 0.2e-6  # s per local expert of a block-fp8 fused MoE (TensorRT-LLM tables; 0: off; docstring)
RELEASE_MOE_EXTRA = True  # a stack release's measured extra fused-MoE time (`release_moe_time`; docstring; toggle)


def expected_tiles(tokens_per_expert: np.ndarray, tile: float) -> np.ndarray:
    """E[ceil(X / tile)] for X ~ Poisson(tokens_per_expert): the sum over j >= 0 of P(X > j tile).

    Terms with j tile more than `TAIL_SDS` standard deviations below the mean count are 1 and are counted, those
    as far above it are 0; only the window between is evaluated."""
    lam = np.asarray(tokens_per_expert, dtype=np.float64)
    if lam.size == 0:
        return lam.copy()
    spread = TAIL_SDS * np.sqrt(lam) + 1.0
    certain = np.floor(np.maximum(lam - spread, 0.0) / tile)  # j < certain: j tile < lambda - spread, P = 1
    window = int(np.max(np.ceil(2.0 * spread / tile))) + 2
    total = certain.copy()
    for r in range(window):
        total = total + gammainc((certain + r) * tile + 1.0, lam)  # P(X > n) = P(n + 1, lambda), lower gamma
    return total


def routed_grouped_gemm_time(rates: KernelRates, m: np.ndarray, n: np.ndarray | float, k: np.ndarray | float,
                             count: np.ndarray | float, local_experts: float, bytes_per_element: np.ndarray | float,
                             rate: np.ndarray | float) -> np.ndarray:
    """Seconds of one grouped expert GEMM: `count` hit experts (of the GPU's `local_experts`) of `m` tokens on
    average, (m x k) @ (k x n) each, every expert's own rows padded to the M tile of the mean (module docstring)."""
    m = np.asarray(m, dtype=np.float64)
    hit = np.broadcast_to(np.asarray(count, dtype=np.float64), m.shape)
    chosen, tiles = _m_tiles(m, hit, local_experts, float(rates.tile_m))
    # problems of exactly one tile each: waves over the SMs, the launch; no bytes (priced below)
    compute = grouped_gemm_time(rates, chosen, n, k, tiles, 0.0, rate)
    memory = hit * (m * k + k * n + m * n) * bytes_per_element / rates.memory_bytes_per_s
    busy = np.maximum(compute - rates.kernel_overhead_s, memory) + rates.kernel_overhead_s
    return np.asarray(np.where(m * hit > 0, busy, 0.0), dtype=np.float64)


_LAST_TILES: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}  # the up and down GEMMs of a layer share their tiles


def _m_tiles(m: np.ndarray, hit: np.ndarray, local_experts: float, tile_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(the kernel's M tile for the mean count, as `hardware.kernels` picks it for one problem of m rows; the
    M tiles of the GPU's `local_experts` experts with Poisson counts of mean m * hit / local_experts)."""
    key = b"".join((m.tobytes(), hit.tobytes(), np.array([local_experts, tile_m]).tobytes()))
    if key not in _LAST_TILES:
        lam = m * hit / local_experts  # tokens per local expert, hit or not
        chosen = np.clip(2.0 ** np.ceil(np.log2(np.maximum(m, 1.0))), SMALLEST_M_TILE, tile_m)
        tiles = np.zeros_like(lam)
        for tile in np.unique(chosen):
            at = chosen == tile
            tiles[at] = local_experts * expected_tiles(lam[at], float(tile))
        _LAST_TILES.clear()
        _LAST_TILES[key] = (chosen, tiles)
    return _LAST_TILES[key]


def fp8_block_depth(accelerator: Accelerator, stack: str, dtype: str, model_type: str) -> float:
    """The per-output-tile cost, in K elements, of a block-scaled fp8 grouped expert GEMM (module docstring,
    "Block-scaled fp8"): the accelerator's `fp8_block_grouped_depth` for the fp8 weights of a model family released
    block-scaled (`FP8_BLOCK_MODEL_TYPES`) where the stack's MoE kernel is the measured one
    (`moe_fp8_block_tile_cost` in its serving profile), else 0."""
    depth = accelerator.efficiency.fp8_block_grouped_depth
    if not (FP8_BLOCK_TILE_COST and dtype == "fp8" and depth and model_type in FP8_BLOCK_MODEL_TYPES):
        return 0.0
    profile = serving_profile(stack)
    return float(depth) if profile is not None and profile.moe_fp8_block_tile_cost else 0.0


def fp8_block_rate_fraction(accelerator: Accelerator, stack: str, dtype: str, model_type: str, tp: int, ep: int,
                            attention_dp: int) -> float:
    """The fraction of the fp8 rate a block-scaled fp8 fused MoE sustains (module docstring, "Triton block-fp8"):
    the stack profile's `moe_fp8_block_rate_fraction` for the fp8 weights of a block-scaled model family
    (`FP8_BLOCK_MODEL_TYPES`) on a GPU whose block-fp8 MoE was measured (Hopper: those with
    `fp8_block_grouped_depth`; Blackwell runs other kernels) where the experts do not run DeepGEMM's padded
    workspace (`deepgemm_moe.contiguous_alignment`), else 1; for INT4 weight-only experts of a model not released
    in MXFP4, the profile's `moe_int4_marlin_rate_fraction` (module docstring, "INT4 Marlin")."""
    if MARLIN_INT4_RATE and dtype == "int4" and model_type not in MXFP4_MODEL_TYPES:  # "INT4 Marlin" (docstring)
        profile = serving_profile(stack)
        return float(profile.moe_int4_marlin_rate_fraction) if profile is not None else 1.0
    if not (TRITON_FP8_BLOCK_RATE and dtype == "fp8" and model_type in FP8_BLOCK_MODEL_TYPES
            and accelerator.efficiency.fp8_block_grouped_depth):
        return 1.0
    if deepgemm_moe.contiguous_alignment(accelerator, stack, tp, ep, attention_dp, dtype):
        return 1.0
    profile = serving_profile(stack)
    return float(profile.moe_fp8_block_rate_fraction) if profile is not None else 1.0


def mxfp4_moe_token_time(shape: TransformerShape, accelerator: Accelerator, stack: str, dtype: str,
                         m: np.ndarray) -> np.ndarray:
    """Seconds per (mean) layer that a weight-only MXFP4 fused MoE adds for M input tokens, whatever the EP
    (module docstring, "MXFP4 experts"): the accelerator's `w4a16_mxfp4_moe_fixed_s` + M x `w4a16_mxfp4_moe_token_s`
    per routed layer, for W4A16 (int4 or weight-only mxfp4) weights of a model family released in MXFP4 where the
    stack's MoE is the measured one (`moe_w4a16_mxfp4_token_cost`), else 0."""
    eff = accelerator.efficiency
    fixed_s, token_s = eff.w4a16_mxfp4_moe_fixed_s or 0.0, eff.w4a16_mxfp4_moe_token_s or 0.0
    weight_only = dtype == "int4" or mxfp4_weight_only(accelerator, dtype)
    if not (MXFP4_TOKEN_COST and weight_only and shape.model_type in MXFP4_MODEL_TYPES
            and (fixed_s or token_s)):
        return np.zeros_like(m)
    profile = serving_profile(stack)
    if profile is None or not profile.moe_w4a16_mxfp4_token_cost:
        return np.zeros_like(m)
    routed = shape.routed_layer_share
    return np.where(m > 0, routed * (fixed_s + token_s * m), 0.0)


def release_moe_time(shape: TransformerShape, accelerator: Accelerator, stack: str, block_depth: float,
                     m: np.ndarray) -> np.ndarray:
    """Seconds per (mean) layer that the stack release's block-fp8 fused MoE (`block_depth` > 0: `fp8_block_depth`)
    takes beyond the catalog's kernel for M input tokens of one GPU (module docstring, "Release extra"): its
    profile's `moe_release_extra` for this accelerator, for models of at least its `min_experts`; else 0."""
    profile = serving_profile(stack) if RELEASE_MOE_EXTRA and block_depth > 0 and stack else None
    extra = profile.moe_release_extra.get(release_tables.kernel_key(accelerator)) if profile is not None else None
    if extra is None or shape.num_experts < extra.min_experts:
        return np.zeros_like(m)
    per_layer = extra.fixed_s + extra.token_expert_s * m * shape.num_experts
    return np.where(m > 0, shape.routed_layer_share * per_layer, 0.0)


def shared_expert_fused(shape: TransformerShape, engine: str, ep: int) -> bool:
    """Whether the engine runs the shared expert as one more expert of its fused MoE kernel (module docstring,
    "Fused shared expert"): SGLang with DeepSeek-V3/R1's 256 routed experts and one shared expert, no EP."""
    return (SGLANG_FUSED_SHARED_EXPERT and engine == "sglang" and shape.model_type == "deepseek_v3"
            and shape.num_experts == 256 and shape.shared_ffn_hidden_size == shape.ffn_hidden_size and ep == 1)


def layer_gemm_time(rates: KernelRates, g: Gemm, bytes_per_element: np.ndarray | float, rate: float,
                    local_experts: float, contiguous_align: int = 0, block_depth: float = 0.0,
                    block_rate_fraction: float = 1.0, shared_fused: bool = False, spare: float = 0.0) -> np.ndarray:
    """Seconds of one GEMM record of a serving layer's op table (`ops.layer`): the routed experts by
    `routed_grouped_gemm_time` (the GPU holding `local_experts` = E / EP of them on average, priced on the busiest
    GPU's ceil(E / EP): `serving.expert_slots`; with a block-fp8 `block_depth` D at the
    rate x K / (K + D), and at `block_rate_fraction` of the rate), other grouped GEMMs (MLA's per-head
    absorption) and plain GEMMs by `hardware.kernels`; a shared expert fused into the routed kernel
    (`shared_fused`) at the experts' rate and without a launch of its own."""
    if g.role in EXPERT_GEMMS:  # the busiest GPU's ceil(E / EP) experts where EP does not divide E
        g, local_experts = expert_slots.busiest_rank_gemm(g, local_experts, spare)  # `spare`: EPLB's R / EP
    depth = np.asarray(g.k, dtype=np.float64)  # the GEMM's K: h (up) or the expert width / TP (down)
    expert_rate = rate * depth / (depth + block_depth) if block_depth > 0 else rate
    expert_rate = expert_rate * block_rate_fraction
    if shared_fused and g.role in SHARED_GEMMS:  # one more expert of all T rows inside the routed GEMM's launch
        fused = gemm_time(rates, g.m, g.n, g.k, bytes_per_element, expert_rate) - rates.kernel_overhead_s
        return np.asarray(g.count * np.where(np.asarray(g.m) > 0, np.maximum(fused, 0.0), 0.0))
    if g.role in EXPERT_GEMMS and contiguous_align:
        return deepgemm_moe.expert_gemm_time(rates, g, bytes_per_element, expert_rate, local_experts, contiguous_align)
    if g.role in EXPERT_GEMMS and ROUTED_TOKEN_SPREAD:
        per_expert = FP8_BLOCK_EXPERT_S * local_experts if block_depth > 0 and g.role == "expert_up" else 0.0
        return np.asarray(g.share * (routed_grouped_gemm_time(rates, np.asarray(g.m), g.n, g.k, g.count, local_experts,
                                                              bytes_per_element, expert_rate)
                                     + np.where(np.asarray(g.m) > 0, per_expert, 0.0)))
    if g.grouped:
        return np.asarray(g.share * grouped_gemm_time(rates, g.m, g.n, g.k, g.count, bytes_per_element,
                                                      expert_rate if g.role in EXPERT_GEMMS else rate))
    return np.asarray(g.count * gemm_time(rates, g.m, g.n, g.k, bytes_per_element, rate))


def moe_routing_time(shape: TransformerShape, rates: KernelRates, m: np.ndarray,
                     local_fraction: float = 1.0, kernels: int = MOE_ROUTING_KERNELS) -> np.ndarray:
    """Seconds of the routing kernels around the expert GEMMs of one (mean) layer for M tokens
    (`serving.llm_iteration` docstring, "MoE").

    Top-k over the router logits, the token permutation into expert order, the weighted sum of the k expert
    outputs: `kernels` launches per routed layer (`trtllm_gen_moe.routing_kernels`), reading the T x E bf16 logits once
    (`ROUTER_LOGIT_BYTES`), writing and reading the k T top-k weights and ids (`TOPK_BYTES`) and moving the
    T h activations in and the k T h routed copies out and back, of which a GPU holding `local_fraction` of the
    routed copies (attention DP / EP) moves only its own (`LOCAL_ROUTED_COPIES`). Zero for a dense model.
    """
    routed = shape.routed_layer_share
    if not routed or not kernels:
        return np.zeros_like(m)
    k, h = float(shape.experts_per_token), float(shape.hidden_size)
    copies = k * (local_fraction if LOCAL_ROUTED_COPIES else 1.0)
    moved = m * (ROUTER_LOGIT_BYTES * shape.num_experts + TOPK_BYTES * k + ACT_BYTES * h * (2.0 + 2.0 * copies))
    return np.where(m > 0, routed * memory_bound_time(rates, moved, kernels=float(kernels)), 0.0)
