"""Qwen3's per-head query / key RMSNorm in training, as Megatron-Core runs it with Transformer Engine.

Qwen3 (dense and MoE; Hugging Face model types `qwen3` / `qwen3_moe`) normalises every attention head's query and
key with an RMSNorm over the head dimension before the rotary embedding. Megatron-Bridge builds the Qwen3 MoE models
with `qk_layernorm = True` (megatron-bridge 0.6.0 models/qwen/qwen3_moe_bridge.py:60, "Qwen3 MoE uses QK
layernorm"), and Megatron-Core 0.16.1 applies `q_layernorm` to the local queries and `k_layernorm` to the local keys
after splitting the QKV output (transformer/attention.py:1477-1481), each a Transformer Engine RMSNorm module of the
head dimension (the TE layer spec's TENorm). Transformer Engine 2.14 runs each forward as one `rmsnorm_fwd` kernel
(read the bf16 input, write the bf16 output and one fp32 rsigma per row) and each backward as two, `rmsnorm_bwd`
(read the output gradient, the input and rsigma, write the input gradient and per-CTA weight-gradient partials) and
`rmsnorm_bwd_finalize` (sum the partials): the kernels `transformer_engine::normalization::rmsnorm_{fwd,bwd}_
{tuned,general}_kernel` and `rmsnorm_bwd_finalize_{tuned,general}_kernel` in the transformer-engine-cu12 2.14.0
wheel's libtransformer_engine.so (their symbols). Per element of Q and K: 4 B forward, 6 B backward, and 4 B of
rsigma per head row each way; two calls (Q, K): 2 kernels forward, 4 backward. The weight-gradient partials (a
few KB) are not counted. The layer table (`ops.layer`) adds these passes to a training layer of such a model;
serving engines run their own QK-norm kernels (`serving.engine_kernels`).

Megatron-Core's GQA query copy (`qkv_split_copies`, round 13h; a stack property, `Stack.qkv_split_copies`). With
`fused_single_qkv_rope` off (the default, megatron-core 0.16.1 / 0.19.2 transformer_config.py:377 / :505; among the
Megatron-Bridge 0.6.0 perf configs only GPT-OSS 20B's set it, perf_recipes/gpt_oss/common.py:88, none of the 120B
ones) the QKV GEMM output [s, b, g, (np/g + 2) d] is split along its last dimension into views by Transformer
Engine's `SplitAlongDim` and the query reshaped to [s, b, np, d] (megatron-core 0.8.0 attention.py:508-526, 0.16.1
:1455-1465, 0.19.2 :1900-1906). Merging the g groups with the np/g heads of each is not a view when the local
groups g > 1 and np > g (the group stride is (np/g + 2) d, not (np/g) d): PyTorch copies the query, 4 B per element
of Q (read + write bf16), one kernel. Backward `SplitAlongDim` concatenates dq with dk / dv (`torch.cat`, TE 2.14
pytorch/utils.py:369-398: a no-op only when the gradients share one storage at matching offsets, which the copied
query's gradient does not): 4 B per element of Q, K and V, one kernel. MHA (g = np) and one local group (MQA, or
n_kv = TP) split into views; MLA has no grouped query. A dense or MoE layer alike.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.params import kv_heads_local

ArrayLike = np.ndarray | float | int
QK_NORM_TRAINING = True  # price Qwen3's QK norm in training (False: as before)
QK_NORM_MODELS = ("qwen3", "qwen3_moe")  # Hugging Face model types with q_norm / k_norm in every attention layer
ELEMENT_BYTES = (4.0, 6.0)  # per element of Q and K, forward (read + write bf16) and backward (read 2, write 1)
RSIGMA_BYTES = 4.0  # fp32 per normalised row (one head of one token), written forward and read backward
KERNELS = (2.0, 4.0)  # per layer: Q and K, one kernel each forward, the norm and its finalize each backward


def qk_norm_passes(shape: TransformerShape, tokens: ArrayLike, query_width: ArrayLike,
                   key_width: ArrayLike) -> tuple[tuple[ArrayLike, float], tuple[ArrayLike, float]]:
    """(bytes, kernels) forward and backward of the QK norm of one layer for `tokens` tokens whose local queries
    and keys are `query_width` and `key_width` elements wide per token on this GPU; zeros for models without it.
    A model whose `use_qk_norm` normalises some layers only (Llama 4's RoPE layers, `TransformerShape.qk_norm_layers`)
    pays their share of the mean layer: ASSUMPTION, its weightless norm as Qwen3's kernels (the same reads and
    writes; its weight-gradient partials are not counted here either)."""
    share = qk_norm_share(shape)
    if not QK_NORM_TRAINING or not share:
        zero = 0.0 * tokens
        return (zero, 0.0), (zero, 0.0)
    elements = tokens * (query_width + key_width) * share
    rows = elements / float(shape.head_dim)
    return ((ELEMENT_BYTES[0] * elements + RSIGMA_BYTES * rows, KERNELS[0] * share),
            (ELEMENT_BYTES[1] * elements + RSIGMA_BYTES * rows, KERNELS[1] * share))


def qk_norm_share(shape: TransformerShape) -> float:
    """Share of the layers that normalise Q and K: every layer of a `QK_NORM_MODELS` model, else the config's
    `qk_norm_layers` (Llama 4)."""
    return 1.0 if shape.model_type in QK_NORM_MODELS else shape.qk_norm_layers / shape.num_layers


QKV_SPLIT_BYTES = 4.0  # per element copied: read + write bf16 (forward Q; backward Q, K and V)


def qkv_split_copies(shape: TransformerShape, tokens: ArrayLike, tp: ArrayLike, query_width: ArrayLike,
                     key_value_width: ArrayLike) -> tuple[tuple[ArrayLike, float], tuple[ArrayLike, float], ArrayLike]:
    """((bytes, kernels) forward, (bytes, kernels) backward, where it runs) of Megatron-Core's GQA query copy and
    QKV-gradient concatenation for `tokens` tokens whose local Q and K + V are `query_width` / `key_value_width`
    elements wide per token (module docstring); the mask is False for MHA, one local group and MLA."""
    grouped = (not shape.is_mla) and shape.num_heads > shape.num_kv_heads
    mask = (kv_heads_local(shape, tp) > 1.0) & grouped
    return ((QKV_SPLIT_BYTES * tokens * query_width, 1.0),
            (QKV_SPLIT_BYTES * tokens * (query_width + key_value_width), 1.0), mask)
