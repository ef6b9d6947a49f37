"""DeepSeek Sparse Attention (DSA; DeepSeek-V3.2-Exp, HF model_type deepseek_v32): what one layer runs, per token,
pair and cached token, for training (`training.attention_core`, `training.flops`) and serving
(`serving.sparse_decode`, `serving.kv_cache`) to price.

The model (DeepSeek-AI, "DeepSeek-V3.2-Exp: Boosting Long-Context Efficiency with DeepSeek Sparse Attention", 2025;
recalled, not re-read here) is DeepSeek-V3's MLA with a lightning indexer: for each query t the indexer scores every
previous key s as I(t, s) = sum_j w(t, j) ReLU(q(t, j) . k(s)) over `index_n_heads` heads of `index_head_dim`, and the
MLA core attends only the `index_topk` best keys. As the engines run it (vLLM 0.12.0, file:line below; SGLang 0.5.6
srt/layers/attention/nsa/ the same shapes):
* projections (model_executor/models/deepseek_v2.py:825-842, `Indexer`): q = wq_b(q-LoRA latent) (q_lora x heads *
  dim), one key k = LayerNorm(wk(hidden)) (h x dim), per-head weights = weights_proj(hidden) (h x heads); replicated,
  not split over TP ("no tensor parallel, just replicated", :824): three GEMMs on every TP rank;
* scores: fp8 MQA logits, q in fp8 with a scale per 128 (:884-892), the key quantised into the cache (:645-651):
  2 x heads x dim FLOPs per (query, key) pair on the fp8 tensor cores (DeepGEMM `fp8_mqa_logits` /
  `fp8_paged_mqa_logits`, :679-685, :731-739) and one fp32 logit per pair written, read back by the top-k
  (`top_k_per_row`, :691-699, :744-752): `LOGIT_BYTES` per pair;
* the core: MLA over the selected keys only, always on the absorbed (MQA, 576 / 512) path, prefill and decode alike
  (v1/attention/backends/mla/flashmla_sparse.py:485-486 "the sparse FlashMLA kernels want to use MQA 576/512 approach
  for both prefill and decode"); its kernels take `index_topk` indices per query whatever the context (invalid ones
  -1; decode passes cache_seqlens = topk, :276-277 / :337), so a query pays `index_topk` keys (`core_keys`); the
  local heads are padded to 64 on Hopper and 128 on Blackwell (:415, :429-439, `padded_heads`);
* the cache: per token and layer the latent, in vLLM's / SGLang's fp8 format 656 B (512 fp8 + 4 fp32 scales + 64
  bf16 rope: flashmla_sparse.py:41-51; sglang srt/mem_cache/memory_pool.py:1745-1751), and the indexer's key, fp8 with
  an fp32 scale per 128: 132 B (deepseek_v2.py:849-856; memory_pool.py:1780-1795), whatever the cache dtype.
Training (the report, recalled): a dense warm-up trains the indexer alone by a KL loss to the dense attention (2.1B
tokens), then the sparse stage (943.7B tokens, top-2048) trains the model with the indexer's input detached and the
indexer by the KL loss over the selected keys only. The sparse stage is priced (`training_pair_flops`): the indexer's
scores forward over every causal pair, backward (dq, dk) over the selected pairs only, and the KL target (the main
attention's probabilities summed over heads on the selected keys) as one more score pass over them (ASSUMPTION: the
report's kernels are not public). The warm-up is `training.dsa_warmup`'s (`train --dsa-stage warmup`).
`SPARSE_ATTENTION` False prices the model as dense MLA with the indexer's
parameters only (before hI60).
"""

from __future__ import annotations

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer_records import ArrayLike, Gemm
from infraplan.scalar_path import larger, pick, to_float

SPARSE_ATTENTION = True  # DSA priced as DSA (module docstring); False: dense MLA over every key, no indexer scores
INDEX_QUANT_BLOCK = 128  # the indexer key's fp8 scale group (deepseek_v2.py:846) and the fp8 latent's (:43-51)
SCALE_BYTES = 4.0  # fp32 scales
ROPE_BYTES = 2.0  # the fp8 latent keeps its rotary part in bf16 (flashmla_sparse.py:50-51)
LOGIT_BYTES = 8.0  # one fp32 logit per (query, key) pair written by the MQA-logits kernel and read by the top-k
# DeepGEMM's `smxx_clean_logits` writes one fp32 -inf per logit outside a row's [ks, ke) key range, and reads none
# (sgl-kernel 0.3.18.post2 deep_gemm/include/deep_gemm/impls/smxx_clean_logits.cuh:20-63: bulk stores from a
# -inf shared buffer; `serving.sparse_decode`)
CLEAN_LOGIT_BYTES = 4.0
# the sparse MLA kernel's head tile: local heads are padded up to it (flashmla_sparse.py:415, :429-439: 128 on
# compute capability 10.0, else 64; the kernel supports sm90 and sm100 only, :89-90), by catalog part (`padded_heads`)
# the indexer's scores run on the fp8 tensor cores at the fused-attention fraction: fp8's peak is twice bf16's on
# Hopper and Blackwell (ASSUMPTION: DeepGEMM's fp8 MQA-logits kernel is not measured here); a part that lists no fp8
# peak (A100, TPU v5p / v6e, MTIA v2) has no fp8 tensor core to run them on: priced at its bf16 rate (hI61: it was
# given the 2x too)
INDEXER_FP8_SPEEDUP = 2.0
# Context parallelism (megatron-core 0.19.0, cp_comm_type allgather: `training.sparse_attention_rules`): every CP rank
# all-gathers the indexer's bf16 key over the whole sequence each layer (dsa.py:1979-1986), its gradient
# reduce-scattered backward, beside the K/V exchange (`ops.layer`); False: no such gather priced (before hN61)
CP_INDEX_KEY_GATHER = True
INDEX_KEY_BYTES = 2.0  # the indexer key's dtype in training (bf16: linear_wk, k_norm, rope and the Hadamard rotation)
HEAD_TILES = {"h100-sxm": 64, "h200": 64, "h800": 64, "b200": 128, "gb200": 128, "b300": 128, "gb300": 128}


def is_sparse(shape: TransformerShape) -> bool:
    """The shape has a lightning indexer and `SPARSE_ATTENTION` prices it."""
    return SPARSE_ATTENTION and shape.index_topk > 0  # (`TransformerShape.is_sparse_attention`, its field read)


def indexer_score_flops_per_s(attention_flops_per_s: float, fp8_tensor_cores: bool) -> float:
    """Tensor-core FLOP/s of the indexer's scores from a part's fused-attention rate (`KernelRates`): the fp8 rate
    (`INDEXER_FP8_SPEEDUP` x it) on a part with fp8 tensor cores, the bf16 rate itself on one without."""
    return attention_flops_per_s * (INDEXER_FP8_SPEEDUP if fp8_tensor_cores else 1.0)


def indexer_gemms(shape: TransformerShape, tokens: ArrayLike) -> list[Gemm]:
    """The indexer's three projections on `tokens` rows, whole on every TP rank (module docstring)."""
    width = shape.index_n_heads * shape.index_head_dim
    return [Gemm("indexer_q", tokens, width, shape.q_lora_rank),
            Gemm("indexer_k", tokens, shape.index_head_dim, shape.hidden_size),
            Gemm("indexer_weights", tokens, shape.index_n_heads, shape.hidden_size)]


def indexer_prologue_bytes(shape: TransformerShape, act_bytes: float) -> float:
    """Bytes per token of one serving layer's indexer passes between its projections and the indexer op, as vLLM
    0.12.0's `Indexer.forward` runs them (deepseek_v2.py:864-899; the launches: `serving.engine_kernels`): the key's
    LayerNorm and rotation (dim read, dim written), the query's rotation and concatenation (heads x dim read and
    written), its per-128 fp8 quantisation (heads x dim read, written in fp8 with an fp32 scale per 128) and the head
    weights' scaling (the bf16 weights and the fp32 query scales read, fp32 weights written); the activations in
    `act_bytes` (bf16). Replicated over TP, as the indexer is; 0 without an indexer."""
    if not is_sparse(shape):
        return 0.0
    heads, dim = float(shape.index_n_heads), float(shape.index_head_dim)
    query = heads * dim
    return (2.0 * dim * act_bytes + 2.0 * query * act_bytes
            + query * (act_bytes + 1.0) + query / INDEX_QUANT_BLOCK * SCALE_BYTES
            + heads * act_bytes + 2.0 * heads * SCALE_BYTES)


def index_key_gather_bytes(shape: TransformerShape) -> float:
    """Bytes per token of the indexer key each CP rank all-gathers in training (`CP_INDEX_KEY_GATHER`; 0 without
    an indexer or with the toggle off): `index_head_dim` in bf16, replicated over TP as the indexer is."""
    return shape.index_head_dim * INDEX_KEY_BYTES if CP_INDEX_KEY_GATHER and is_sparse(shape) else 0.0


def indexer_pair_flops(shape: TransformerShape) -> float:
    """Tensor-core FLOPs of one (query, key) indexer score: heads x dim multiply-adds (fp8 in the engines)."""
    return 2.0 * shape.index_n_heads * shape.index_head_dim


def index_cache_bytes(shape: TransformerShape) -> float:
    """The indexer key one token caches per layer: fp8 `index_head_dim` + an fp32 scale per 128 (132 B)."""
    return shape.index_head_dim + shape.index_head_dim / INDEX_QUANT_BLOCK * SCALE_BYTES


def latent_cache_bytes(shape: TransformerShape, bytes_per_element: float) -> float:
    """The MLA latent one token caches per layer: a one-byte cache in the sparse kernels' fp8 format (fp8 latent, an
    fp32 scale per 128, the rope part bf16: 656 B for DeepSeek-V3.2), else the latent width x the dtype's bytes."""
    if bytes_per_element == 1.0:
        lora = shape.kv_lora_rank
        return lora + lora / INDEX_QUANT_BLOCK * SCALE_BYTES + shape.qk_rope_head_dim * ROPE_BYTES
    return (shape.kv_lora_rank + shape.qk_rope_head_dim) * bytes_per_element


def cache_bytes_per_token_layer(shape: TransformerShape, bytes_per_element: float) -> float:
    """What one token caches per layer on every GPU of a DSA model: its latent and its indexer key."""
    return latent_cache_bytes(shape, bytes_per_element) + index_cache_bytes(shape)


def core_keys(shape: TransformerShape, seq_len: ArrayLike) -> ArrayLike:
    """Keys per query at half weight (`ops.layer.attention_keys`' unit) of the core attention over a causal sequence
    of s: a query at i attends min(i + 1, k) keys, k s - k^2 / 2 pairs for s > k, i.e. 2 k - k^2 / s (s if s <= k)."""
    s, k = to_float(seq_len), float(shape.index_topk)
    return pick(s > k, 2.0 * k - k * k / larger(s, 1.0), s)  # type: ignore[no-any-return]


def padded_heads(local_heads: float, part: str) -> float:
    """Local heads the sparse MLA kernel runs on catalog part `part`: padded up to its head tile where fewer
    (`HEAD_TILES`; a part without the kernel runs the heads as they are: ASSUMPTION, its engine's own kernel)."""
    return float(max(local_heads, HEAD_TILES.get(part, 0)))


def absorbed_key_flops(shape: TransformerShape) -> float:
    """FLOPs per (query, selected key, head) of the absorbed core: 2 (kv_lora + rope) score + 2 kv_lora value."""
    return 2.0 * (2.0 * shape.kv_lora_rank + shape.qk_rope_head_dim)


def training_pair_flops(shape: TransformerShape, seq_len: ArrayLike) -> tuple[ArrayLike, ArrayLike, ArrayLike]:
    """(forward, backward, KL target) indexer FLOPs per token of a sparse-stage training layer (module docstring):
    forward its scores over the s / 2 causal keys of a token, backward dq and dk over its selected keys (2 x the score
    each), and the KL target's score pass over them (2 d_qk per head of the MLA core, all heads: the caller splits
    them over TP; the indexer itself is replicated, as the engines run it)."""
    s = to_float(seq_len)
    selected = core_keys(shape, s) / 2.0  # the selected keys per query on average (half weight -> pairs)
    score = indexer_pair_flops(shape)
    return score * s / 2.0, 2.0 * score * selected, 2.0 * shape.head_dim * shape.num_heads * selected


def saved_bytes_per_token(shape: TransformerShape) -> float:
    """What a sparse-stage training layer saves per token for the indexer's backward: its q (heads x dim), k and
    head weights in bf16 and the top-k indices (int32); ASSUMPTION: the KL's two distributions over the selected keys
    are recomputed in backward, not saved (the report's kernels are not public)."""
    if not shape.is_sparse_attention:
        return 0.0
    return (2.0 * (shape.index_n_heads * shape.index_head_dim + shape.index_head_dim + shape.index_n_heads)
            + 4.0 * shape.index_topk)
