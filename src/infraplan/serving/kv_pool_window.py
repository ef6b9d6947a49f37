"""vLLM's and SGLang's KV pools for models with sliding-window layers (GPT-OSS: 18 of 36 layers keep 128 tokens).

Without this the pool of either engine is priced as if every layer held the whole context. The engines' own rules:

vLLM (v1 hybrid KV cache manager; read in vLLM 0.12.0 and 0.18.0, the releases of the MoE set's GPT-OSS rows,
vllm/v1/core/kv_cache_utils.py): the layers are grouped by KV spec (`_get_kv_cache_groups_uniform_page_size`,
0.18.0 :956-1075): group size = the smaller layer count of the two attention types, or the larger where it is under
1.5x the smaller (GPT-OSS-20B + EAGLE: 12 sw + 13 full), each type split into ceil(count / size) groups, padded.
All groups draw on ONE pool of blocks, each block one page of `group size` layers (`get_kv_cache_config_from_groups`,
:1078-1155: `group_size` tensors of page_size x num_blocks, each shared by one layer of every group). A full-
attention group holds a request's whole length; a sliding group frees the blocks that fall out of its window
(single_type_kv_cache_manager.py `remove_skipped_blocks` :358-398, `SlidingWindowManager.get_num_skipped_tokens`
:575-600: computed - window + 1 tokens skipped) and holds at most ceil((window - 1 + scheduled) / block) + 1 blocks
(kv_cache_interface.py `SlidingWindowSpec.max_memory_usage_bytes` :251-270: "+1 here because the sliding window
may not start from the beginning of the block"). With one scheduled token (decode) that is (ceil(window / block)
+ 1) blocks: 9 x 16 = 144 tokens for GPT-OSS. So the pool's tokens are the full groups' (per-token bytes x their
padded layer share) after the sliding groups' windows of the running sequences are held back (a bound: a sequence
shorter than the window holds less; a prefill chunk more). The hybrid manager is on by default on GPUs
(config/vllm.py 0.18.0 :1126-1194, 0.12.0 :885-929) and off with `--disable-hybrid-kv-cache-manager`, a KV
connector (`--kv-transfer-config`: disaggregated serving), KV events, or chunked local attention; then every layer
holds the whole context (`unify_hybrid_kv_cache_specs`, :1157-1216). NOT modelled: the switch-offs (`kv_capacity`
does not know of a connector or KV events; no disaggregated or Dynamo-routed row of any set serves a windowed
model), and a model whose layers are all windowed (one sliding group: its pool is left uncapped here).

SGLang (0.5.8.post1, srt/model_executor/model_runner_kv_cache_mixin.py `set_num_tokens_hybrid_swa` :206-250): the
memory that would hold T tokens on every layer is split into a full-layer pool of F tokens and a sliding-layer pool
of `swa_full_tokens_ratio` x F tokens (server_args.py:325, default 0.8), F = T x layers / (ratio x swa layers + full
layers); the full pool (`max_total_num_tokens` = F) bounds admission. So a token costs the per-token bytes x (full +
0.8 x sliding layers) / layers. On for `GptOssForCausalLM`, Llama 4 and MiMo-V2 (configs/model_config.py
`is_hybrid_swa_model` :1220-1228); off with `--disable-hybrid-swa-memory`, speculative decoding, or the trtllm_mha
attention backend, GPT-OSS's default on Blackwell (server_args.py :1257-1292; Hopper's default is fa3).
ASSUMPTION: the sliding pool (0.8 F tokens) never binds (it would at max_batch x window > 0.8 F, i.e. sequences
shorter than 160 tokens on average), and the Blackwell / speculative switch-offs are not modelled (no SGLang row of
any set serves a windowed model).

Effect (GPT-OSS-120B, mxfp4 weights, bf16 cache, 64 slots, token budget 8192): vLLM H100 TP2 1.17 M -> 2.33 M
tokens, H200 TP1 0.94 M -> 1.88 M; SGLang x1.111 at every TP. No row of any set is bound by either pool (the MoE
set's GPT-OSS vLLM rows need at most 100 x 9,216 = 0.92 M tokens, under the uncapped 1.17 M), and neither is
AIConfigurator's silicon sample's largest vLLM GPT-OSS row (0.15.1, one B200, 128 clients of 1,024 + 8,192 tokens:
1.18 M needed, 1.30 M uncapped / 2.58 M capped; TTFT 133 ms measured, no queue): the rule moves no row (round 27).

Chunked-attention layers (Llama 4: 36 of 48 keep their current chunk of 8,192 tokens, `serving.chunked_attention`):
SGLang 0.5.8.post1 pools them as sliding layers (`Llama4ForConditionalGeneration`, the checkpoints' architecture, is
in `is_hybrid_swa_model`, configs/model_config.py:1220-1228; its layers (i + 1) mod 4 != 0 the SWA ones, :1236-1242;
`sliding_window_size` = `attention_chunk_size`, model_executor/model_runner.py:939-942): the same x (full + 0.8 x
chunked) / layers, 0.85 for Scout (`sglang_token_bytes`; ASSUMPTION: the chunked pool, 0.8 F tokens, never binds,
as above: it would at max_batch x 8,192 > 0.8 F). SGLang 0.5.6.post2 split it only with --hybrid-kvcache-ratio
(configs/model_config.py:1044-1057; server_args.py:299 default None). vLLM 0.12.0 keeps the whole context there:
it turns the hybrid manager off for chunked local attention unless VLLM_ALLOW_CHUNKED_LOCAL_ATTN_WITH_HYBRID_KV_CACHE
is set ("a latency regression", config/vllm.py:909-929; envs.py:1424-1426 default 0) and its chunked specs become
full ones (kv_cache_utils.py:1150-1177). TensorRT-LLM: ASSUMPTION, the whole context (no window set for Llama 4).

Toggle `ENGINE_WINDOW_POOL` (False: both engines price every layer at the whole context). Measured in round 27 of
validation/notes/serving_hopper_moe_tried.md.

How many windows are held (`window_sequences`, toggle `RUNNING_WINDOWS`; hW, session 52): the engines allocate a
sliding layer's blocks per running request and free those that leave its window (vLLM `remove_skipped_blocks`,
above; TensorRT-LLM's per-layer `max_attention_window` blocks the same, RECALLED: its source is not readable here),
so only sequences that run hold a window, never the batch cap's empty slots. The windows held back are the cap's,
or fewer where fewer sequences can run at once: the most the workload puts on the pool at once (`running`: a closed
loop's clients, an open loop's requests), and the most sequences of the workload's shortest length the pool's bytes
hold, each its length on the full layers and min(length, window) on the sliding ones (`shortest_tokens`; the
shape's own layer shares, vLLM's padded groups left out of this bound). Before, the cap's windows were held
whatever ran: Gemma 2 9B (21 of 42 layers keep 4,096 tokens) on one H100 under TensorRT-LLM at 16 clients of
7,000 + 500 tokens was refused at the default cap of 2,048 and gave 608 tokens/s at --max-batch 16, 458 at 64 (hU,
session 52); now 608 at every cap of at least 16.
"""

from __future__ import annotations

import math

from infraplan.catalog.model_config import TransformerShape

ENGINE_WINDOW_POOL = True  # vLLM / SGLang sliding layers hold their window only (module docstring; toggle to compare)
SWA_FULL_TOKENS_RATIO = 0.8  # SGLang server_args.py:325 `swa_full_tokens_ratio` default
HYBRID_GROUP_SLACK = 1.5  # vLLM 0.18.0 kv_cache_utils.py:1043: the larger count under 1.5x the smaller
RUNNING_WINDOWS = True  # windows held for the sequences that can run, not the whole cap (module docstring; hW52)


def _layer_counts(shape: TransformerShape) -> tuple[int, int]:
    """(full-attention layers, sliding-window layers) of the model; (layers, 0) without a window."""
    if not (shape.sliding_window and shape.num_sliding_layers):
        return shape.num_layers, 0
    return shape.num_layers - shape.num_sliding_layers, shape.num_sliding_layers


def vllm_group_shares(shape: TransformerShape) -> tuple[float, float]:
    """(full groups' layer share, sliding groups' layer share) of vLLM's padded KV-cache groups (module docstring);
    their sum exceeds 1 where a type's count is not a multiple of the group size (padding layers)."""
    full, sliding = _layer_counts(shape)
    size = min(full, sliding)
    if max(full, sliding) < HYBRID_GROUP_SLACK * size:
        size = max(full, sliding)
    return math.ceil(full / size) * size / shape.num_layers, math.ceil(sliding / size) * size / shape.num_layers


def vllm_window_tokens(shape: TransformerShape, block_tokens: int) -> int:
    """Tokens one decoding sequence holds on a sliding layer: (ceil(window / block) + 1) blocks (module docstring)."""
    return (math.ceil(shape.sliding_window / block_tokens) + 1) * block_tokens


def vllm_window_pool(shape: TransformerShape, free_bytes: float, per_token_bytes: float, max_batch: int,
                     block_tokens: int) -> tuple[float, float]:
    """(KV bytes left for the full groups, bytes a token takes on them) of vLLM's hybrid KV cache manager; the
    inputs unchanged without a hybrid (full + sliding) model or with the toggle off."""
    full, sliding = _layer_counts(shape)
    if not (ENGINE_WINDOW_POOL and full and sliding):
        return free_bytes, per_token_bytes
    full_share, sliding_share = vllm_group_shares(shape)
    return windows_held(free_bytes, per_token_bytes, max_batch, full_share, sliding_share,
                        vllm_window_tokens(shape, block_tokens))


def windows_held(free_bytes: float, per_token_bytes: float, max_batch: int, full_share: float,
                 sliding_share: float, window_tokens: float) -> tuple[float, float]:
    """(KV bytes left for the full layers, bytes a pooled token takes on them) once each of `max_batch` sequences
    holds `window_tokens` on the sliding layers (`sliding_share` of a token's bytes), the windows held back first;
    the engines' rules give the shares and the window (vLLM here, TensorRT-LLM `serving.kv_pool_trtllm`)."""
    return free_bytes - max_batch * per_token_bytes * sliding_share * window_tokens, per_token_bytes * full_share


def window_sequences(shape: TransformerShape, free_bytes: float, per_token_bytes: float, max_batch: int,
                     running: int = 0, shortest_tokens: int = 0) -> int:
    """Sequences whose sliding-layer windows the pool holds back (module docstring): the batch cap, or fewer: the
    sequences the workload runs at once (`running`, 0: unknown) and the most sequences of `shortest_tokens` tokens
    (0: unknown) the `free_bytes` hold at `per_token_bytes` a token on every layer (at least 1); the cap itself for a
    model without sliding layers or with the toggle off."""
    if not (RUNNING_WINDOWS and shape.sliding_window and shape.num_sliding_layers):
        return max_batch
    held = min(max_batch, running) if running > 0 else max_batch
    if shortest_tokens > 0 and per_token_bytes > 0:
        sliding = shape.sliding_fraction()
        sequence = per_token_bytes * ((1.0 - sliding) * shortest_tokens
                                      + sliding * min(shortest_tokens, shape.sliding_window))
        held = min(held, max(int(free_bytes // sequence), 1))
    return held


def sglang_token_bytes(shape: TransformerShape, per_token_bytes: float) -> float:
    """Bytes one admitted token costs under SGLang's hybrid SWA pool split (module docstring); unchanged without a
    hybrid model or with the toggle off; chunked layers (Llama 4) pool as sliding ones (module docstring)."""
    full, sliding = _layer_counts(shape)
    if not sliding and shape.num_chunked_layers:
        full, sliding = shape.num_layers - shape.num_chunked_layers, shape.num_chunked_layers
    if not (ENGINE_WINDOW_POOL and full and sliding):
        return per_token_bytes
    return per_token_bytes * (full + SWA_FULL_TOKENS_RATIO * sliding) / shape.num_layers
