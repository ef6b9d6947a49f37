"""MLA decode attention with absorbed weights: priced by its bytes or its FLOPs, whichever binds.

Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434 sec. 2.1; DeepSeek-V3, arXiv:2412.19437 sec. 2.1.1)
caches one latent c_KV of `kv_lora_rank` elements plus the shared rotary key of `qk_rope_head_dim` per token and
layer (576 for DeepSeek-V3/R1, 576 B in fp8: `ops.params.mla_latent_width`). At decode the up projections are
absorbed (W_UK into the query, W_UV after the attention; DeepSeek-V2 sec. 2.1.2, "absorb"), so every
local head attends the latent itself: per (decode query, cached token, layer, local head)

    score    q_absorbed (kv_lora + rope) . [c_KV; k_rope]   2 (kv_lora + rope) FLOPs
    value    p * c_KV                                       2 kv_lora FLOPs

2 (576) + 2 (512) = 2,176 FLOPs per head, 278,528 for DeepSeek-R1's 128 heads at TP1, against 576 B read: 484
FLOP/B. All heads of a GPU share the one latent, so the arithmetic intensity grows with the local heads (num_heads /
TP; the latent is whole on every TP rank): at TP1 (attention data parallelism, wide EP) the kernel is compute-bound
(ridge points at the fused-attention rate below: ~130 FLOP/B on H200, ~170 on B200), at TP8 (16 heads, 60 FLOP/B) it
reads memory. FlashMLA (DeepSeek, github.com/deepseek-ai/FlashMLA README, Feb 2025; recalled, confidence high)
reports exactly this: "up to 3000 GB/s in memory-bound configuration and 660 TFLOPS in computation-bound
configuration on H800 SXM5" for its bf16 decode kernel at 128 heads. So a decode iteration's cached-token term is
max(bytes / HBM bandwidth, FLOPs / fused-attention rate) per cached token (both linear in the context, so the max
per token is the max of the sums); the rate is the catalog's fused-attention rate (`hardware.kernels`:
attention_max_fraction x bf16 peak, 0.5: 495 TFLOP/s on H200, 1,125 on B200; FlashMLA's 660 on H800 is 0.67 of its
peak, so this is conservative). ASSUMPTION: bf16 MMA although the cache is fp8 (FlashMLA upcasts; an fp8 MLA kernel
would double the rate: measured below and rejected). Speculative decoding multiplies the queries per row (1 + K
verification tokens through every layer, K through the draft layer): `query_layers`.

Effect (toggle `MLA_DECODE_COMPUTE`, same tree; mean |error|): MLPerf v5.1 frontier set 25.80 -> 24.43 %
(DeepSeek-R1 B200 Offline H076 +8.6 -> -11.1 %, Server H077 +94.9 -> +59.5 %); Hopper MoE set, its 142 MLA rows
(DeepSeek-R1/V3 TensorRT-LLM / SGLang, Kimi K2 vLLM) TPOT 10.23 -> 10.20 %, TTFT 27.36 % unchanged: only the six
DeepSeek-R1 TensorRT-LLM attention-DP 8 rows move (TPOT mean |error| 0.109 -> 0.103, median -0.029 -> +0.010;
8192 x 1024 at 256 clients -0.289 -> -0.221; 1024 x 8192 at 256, the one row of nearly pure decode, +0.106 ->
+0.216, suggests a faster kernel on H200 than this rate), the TP8 rows are memory-bound;
disaggregated set, its 28 DeepSeek-V3 rows (attention-DP decode pools) TPOT 21.8 -> 16.7 %, TTFT 56.5 -> 55.7 %.
Dense models (dense, inference sets) have no MLA and do not move. Rejected: the fp8 rate (2x): frontier 25.20 %,
disaggregated TPOT 20.1 %; FlashMLA's 0.67 of peak: frontier 24.65 %, disaggregated TPOT 18.4 %.

Decomposition of the wide-EP decode step that H077 questions (DeepSeek-R1 nvfp4, dgx-b200, attention DP 8 x EP 8,
TensorRT-LLM profile; 155 sequences per GPU at a 2,700-token context, `llm_iteration.decode_time`): 28.0 ms =
GEMMs 12.7 (routed experts 7.8: 32 local experts at ~39 tokens each, bound by their 0.8 GB of fp4 weights per
layer; MLA projections and absorption 3.2; router and shared expert 1.6), EP dispatch + combine 4.4, element-wise
1.8, MoE routing kernels 1.7, this attention term 6.3 (2.2 as a byte read), LM head 0.3, fixed 0.7. The run's
Little's law (4.98 req/s x ~249 s in flight / 8 GPUs) puts ~155 sequences per GPU at a measured TPOT mean of
66.5 ms: ~38 ms per step stay unexplained (see `validation.inference_frontier`). Checked and not adopted: the EP
all-to-all is 38 us per dispatch or combine here (DeepEP's low-latency kernels take 77 / 114 us at EP8 and 128 tokens
over RDMA on H800, an upper bound: +7 ms at most); the experts' ~39 tokens already pad to a 64-row tile and stay
bound by their weights; prefills at the measured 4.98 req/s are ~35 prompt tokens per GPU per step (<= 6 % even
if every rank stalls for all); CUDA graphs captured only up to 128 sequences (the LLM API default) would make this
step eager, max(GPU, 40.5 ms of launches): H077 +42 % but H076 -21 %, and no source states the harness's cap.
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.hardware.kernels import KernelRates

MLA_DECODE_COMPUTE = True  # absorbed MLA decode attention bound by its FLOPs too (module docstring; toggle to compare)


def flops_per_cached_token(shape: TransformerShape, tp: int, query_layers: float) -> float:
    """FLOPs one cached token costs the absorbed MLA decode attention of one GPU over `query_layers` (decode
    query, layer) pairs: per local head 2 (kv_lora + rope) for the score and 2 kv_lora for the latent value sum
    (module docstring). Zero for other attention and with `MLA_DECODE_COMPUTE` off."""
    if not (shape.is_mla and MLA_DECODE_COMPUTE):
        return 0.0
    per_head = 2.0 * (2.0 * shape.kv_lora_rank + shape.qk_rope_head_dim)
    return per_head * shape.num_heads / tp * query_layers


def cached_token_s(shape: TransformerShape, rates: KernelRates, tp: int, query_layers: float) -> float:
    """Seconds one cached token costs the decode attention's tensor cores (`flops_per_cached_token` at the fused-
    attention rate); the iteration takes the larger of this and the token's byte read."""
    return flops_per_cached_token(shape, tp, query_layers) / rates.attention_flops_per_s
