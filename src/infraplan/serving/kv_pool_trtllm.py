"""TensorRT-LLM's memory outside the KV cache and its sliding layers' pool, as NVIDIA's AIConfigurator models them.

TensorRT-LLM sizes its KV pool as `free_gpu_memory_fraction` (0.9 by default) of the memory left after the
weights and what the engine holds besides (`serving.engines`, convention `free_after_weights`). What it holds
besides is taken here from NVIDIA AIConfigurator 0.12.0's TensorRT-LLM memory model (aiconfigurator-core wheel,
Apache-2.0), the one its sweeps use to decide whether a configuration's KV cache fits:

* activations (sdk/backends/base_backend.py `_get_memory_usage`, :1711-1736): 2 x max_num_tokens x h x c bytes,
  h = attention heads x head dim (the HF config's `head_dim`, else hidden / heads: utils.py:571), c a coefficient
  by model family and TP (trtllm_backend.py:40-54, "tuned for TRT-LLM's measurement workflow"; TP clamped to 8):
  MoE families 22 / 13 / 10 / 10 at TP 1 / 2 / 4 / 8, Llama / Qwen dense 11 / 6.5 / 5 / 5; at least 70 MiB.
  The tokens are the engine's max_num_tokens (BuildConfig default 8192; trtllm_backend.py:25-27, :125-140: the
  activation memory "tracks BuildConfig.max_num_tokens"), the model's `token_budget`. MLA MoE families (DeepSeek,
  Kimi-K2.5, GLM-5: `MOE_WORKSPACE_FAMILIES`, base_backend.py:58-65) add the block-scale dispatch workspace
  max_num_tokens x h x attention-DP x experts x top-k / MoE-EP / 128 x 4 bytes (:1721-1734);
* NCCL buffers by TP: 0 / 342 / 392 / 392 MB at TP 1 / 2 / 4 / 8 (`misc.nccl_mem` of every NVIDIA data-centre
  system file, systems/{h100_sxm,h200_sxm,b200_sxm,...}.yaml:24-28, "starting from 2.22");
* CUDA context, cuBLAS and the rest: 3.5 GiB (`misc.other_mem`, ibid. :29, "increase from 551MB to 3.5GB for safer
  deployment, this will cover part of the inaccurate mem calc": NVIDIA's figure for what its terms miss);
* not taken: its 1.5 % block-allocator share of the KV budget (trtllm_backend.py:14-17
  `KV_CACHE_MEMORY_RESERVED_FRACTION`, "Applied in production to make the KV OOM check conservative; set to 0 in tests
  to validate the raw formula") and its 2 % `KV_CACHE_MEMORY_TOLERANCE` (:19-21, "Acceptable formula error relative
  to real TRT-LLM benchmark measurements", the band of its KV-capacity tests): its tests hold the raw formula above
  to TensorRT-LLM's measured capacity, so the two are margins (with the 1.5 %: dense 21.726 %, TensorRT-LLM
  perf-overview / MLPerf v4.1 section 6.34 %, MLPerf v5.1 24.572 %).

These replace, for TensorRT-LLM only, the model's generic reserve (`ops.params.RUNTIME_RESERVE_BYTES`, 1.5 GB) and
workspace (`serving.kv_cache.workspace_bytes`). ASSUMPTIONS: dense models other than Llama / Qwen take the Llama
coefficients (AIConfigurator's default table is within 10 % of them); without attention DP the MoE EP of the
dispatch workspace is the TP group (the pool function does not know EP inside TP; a MoE-TP deployment's real
workspace is TP times larger); TP sizes between the table's take the smaller entry.

Sliding-window layers (`window_capped_pool`, toggle `SLIDING_WINDOW_POOL`): AIConfigurator bills a GPT-OSS
sequence min(tokens, 128) on its sliding layers and its full length on the others (sdk/models/moe.py:59-85, "Without
this, gpt-oss is billed full context on every layer (~2x at long ISL), which false-OOMs configs that fit on real
GPUs"; sdk/memory.py's HYBRID estimator the same for any hybrid model). The pool's tokens are then the full layers'
(per-token bytes x the full layers' share), and the window part of the sequences that can run (the batch cap or
fewer: `serving.kv_pool_window.window_sequences`) is held back (exact when every running sequence holds at least
the window; a bound otherwise). Evidence outside the sets: AIConfigurator's
silicon sample (systems/silicon_sample.csv) has TensorRT-LLM 1.2.0rc2.post2 GPT-OSS-120B on one B200 at 256 clients
of 1,024 + 8,192 tokens with a 190 ms TTFT (no queue): 2.36 M tokens resident, over the ~1.4 M a bf16 cache on
every layer holds there (modelled TTFT 46.7 s without the cap, 0.19 s with it; 8,192 + 1,024 at 256 clients:
1.14 s measured, 20.3 / 1.06 s). It moves no row of any set (round 26).
Toggle `NVIDIA_MEMORY_MODEL` (False: the generic reserve and workspace, no window cap). Measured (round 26, one
tree): MoE 15.137 % and disaggregated 14.095 % unchanged (no TensorRT-LLM row of theirs is bound by its pool),
dense 21.791 -> 21.743 % (Qwen3-32B H100 1.0.0rc3 fp8 TP1 TTFT 23.1 -> 21.3 %: at 128 clients its Dynamo row
holds 111 requests at the template's 0.80, 116 before, ~107 by Little's law on the measurement), MLPerf v5.1 8-GPU
24.661 -> 24.574 % (DeepSeek-R1 B200 Server +69.4 -> +67.9 %), and worse: the `inference` section (TensorRT-LLM
perf-overview trtllm-bench Llama 3.1 8B H100, MLPerf v4.1 Llama 2 70B) 5.571 -> 5.972 % (every row under-predicted,
by up to 2.2 points more: 1000 / 1000 -1.3 -> -3.4 %): sourced and worse there, on by the lead's policy.
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.serving.kv_pool_window import windows_held

NVIDIA_MEMORY_MODEL = True  # AIConfigurator's TensorRT-LLM non-KV memory (module docstring; toggle to compare)
MOE_COEFFICIENTS = {1: 22.0, 2: 13.0, 4: 10.0, 8: 10.0}  # trtllm_backend.py:43 "MOE" (and DEEPSEEK, KIMIK25)
DENSE_COEFFICIENTS = {1: 11.0, 2: 6.5, 4: 5.0, 8: 5.0}  # trtllm_backend.py:42 "LLAMA" (Llama, Qwen2/3)
NCCL_BYTES = {1: 0.0, 2: 358_612_992.0, 4: 411_041_792.0, 8: 411_041_792.0}  # systems/*.yaml misc.nccl_mem
OTHER_BYTES = 3_758_096_384.0  # systems/*.yaml misc.other_mem: 3.5 GiB
MIN_ACTIVATION_BYTES = 70.0 * 2**20  # base_backend.py:68
BLOCK_SCALE = 128  # base_backend.py:1719-1720: "128 = block scale; 4 = float bytes"
SLIDING_WINDOW_POOL = True  # sliding layers hold their window only (module docstring; toggle to compare)


def _tp_key(tp: int) -> int:
    """The table's TP entry: TP clamped to 8, else the largest listed TP not above it."""
    return max(k for k in (1, 2, 4, 8) if k <= max(min(tp, 8), 1))


def attention_width(shape: TransformerShape) -> int:
    """AIConfigurator's h: heads x the HF config's head dim, hidden / heads where the config has none (MLA)."""
    return shape.hidden_size if shape.is_mla else shape.num_heads * shape.head_dim


def activation_bytes(shape: TransformerShape, tp: int, max_num_tokens: int, attention_dp: int = 1) -> float:
    """Activation memory of one GPU at max_num_tokens tokens (module docstring), MoE dispatch workspace included."""
    key = _tp_key(tp)
    h = attention_width(shape)
    coefficient = (MOE_COEFFICIENTS if shape.is_moe else DENSE_COEFFICIENTS)[key]
    total = 2.0 * max_num_tokens * h * coefficient
    if shape.is_moe and shape.is_mla:  # MOE_WORKSPACE_FAMILIES; MoE EP = attention DP x TP (ASSUMPTION)
        moe_ep = max(attention_dp, 1) * max(tp, 1)
        total += (max_num_tokens * h * max(attention_dp, 1) * shape.num_experts * shape.experts_per_token
                  / moe_ep / BLOCK_SCALE * 4.0)
    return max(total, MIN_ACTIVATION_BYTES)


def reserve_bytes(tp: int) -> float:
    """NCCL buffers and the CUDA context / library reserve of one GPU (module docstring)."""
    return NCCL_BYTES[_tp_key(tp)] + OTHER_BYTES


def window_capped_pool(shape: TransformerShape, free_bytes: float, per_token_bytes: float,
                       max_batch: int) -> tuple[float, float]:
    """(KV bytes left for the full layers, bytes a token takes on them) when the sliding layers hold their window
    only (module docstring); the inputs unchanged for a model without sliding layers or with the toggle off, and
    for one whose every layer slides (Mistral 7B v0.1's config.json: `sliding_window` 4096 on all 32 layers): the
    cap is AIConfigurator's estimator for hybrid models (full and sliding layers, sdk/memory.py HYBRID), as vLLM's
    and SGLang's window pools are (`serving.kv_pool_window`, "full and sliding"); with no full layer its pool of
    full-layer tokens would be empty (per-token bytes 0), so such a model is billed its full length on every layer."""
    if not (SLIDING_WINDOW_POOL and shape.sliding_window and 0 < shape.num_sliding_layers < shape.num_layers):
        return free_bytes, per_token_bytes
    sliding = shape.sliding_fraction()
    return windows_held(free_bytes, per_token_bytes, max_batch, 1.0 - sliding, sliding, shape.sliding_window)
