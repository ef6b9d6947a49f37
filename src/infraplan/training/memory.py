"""Per-GPU training memory: weights, gradients, optimizer state, activations, runtime overhead.

Activations follow Korthikanti et al. 2022 (arXiv:2205.05198), generalised from the GPT block to the
real shapes (GQA K/V widths, SwiGLU's two FFN inputs). Fused (flash) attention stores no s x s score
matrix, so there "selective" recompute saves nothing; unfused attention adds 5 a s / t bytes per token.
Per layer and token, with sequence parallelism every tensor is split over TP:
    bytes = 2 * (2h [LN inputs] + h [QKV input] + q + 2kv [Q, K, V] + q [proj input] + h [MLP input]
                 + g*f [FC1 out] + f [act out]) + 2h [dropout masks, GPT-family only]
which is Korthikanti's 34 s b h / t for a GPT block (q = h, kv = h, f = 4h, g = 1); without sequence
parallelism the norm inputs, QKV and MLP inputs and dropout masks (10 s b h) are not split: 10 + 24 / t.
Full recompute keeps only each layer's input (2 s b h / t) plus one layer's working set.

Pipeline: the first stage of 1F1B holds min(p, m) micro-batches in flight; the interleaved schedule with
v > 1 chunks holds (1 + (p-1)/(p v)) times that (Korthikanti Sec. 4.2.3, Megatron's warm-up count).
Mixed precision with Adam (Megatron): bf16 weights,
fp32 gradient accumulation, fp32 master weights + two moments = 12 B/param; ZeRO 1/2/3 shard the
optimizer, then gradients, then weights over DP.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.training.plan import PlanArrays

WEIGHT_BYTES = 2.0  # bf16 weights (fp8 training adds a 1-byte copy)
GRAD_BYTES = 4.0  # fp32 gradient accumulation buffer (Megatron main_grad)
OPTIMIZER_BYTES = 12.0  # fp32 master weights + Adam m and v
ACTIVATION_BYTES = 2.0
RUNTIME_OVERHEAD_BYTES = 1.5e9  # CUDA context (~0.5 GB) + NCCL and cuBLAS workspaces (~1 GB)


def stage_layers(num_layers: int, pp: np.ndarray) -> np.ndarray:
    """Layers on the heaviest pipeline stage (layers need not divide evenly)."""
    return np.ceil(num_layers / pp)


def local_layer_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Matrix parameters of one layer held by one GPU (TP shards; KV heads below TP are replicated)."""
    tp = plan.tp.astype(np.float64)
    h, d = shape.hidden_size, shape.head_dim
    q = shape.num_heads * d
    kv_heads_local = np.maximum(shape.num_kv_heads / tp, 1.0)
    attention = (h * q + q * h) / tp + 2.0 * h * kv_heads_local * d
    experts_local = shape.num_experts / plan.ep
    ffn = experts_local * shape.expert_params() / tp
    router = h * shape.num_experts if shape.is_moe else 0.0
    return attention + ffn + router


def local_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Parameters on the heaviest stage of one GPU, embedding or LM head included."""
    embed = shape.vocab_size * shape.hidden_size / plan.tp
    ends = np.where(plan.pp > 1, embed, embed * (1 if shape.tied_embeddings else 2))
    return stage_layers(shape.num_layers, plan.pp) * local_layer_params(shape, plan) + ends


def local_expert_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """The part of `local_params` that is routed experts: replicated only over DP/EP ranks, not all of DP."""
    if not shape.is_moe:
        return np.zeros(len(plan))
    per_layer = shape.num_experts / plan.ep * shape.expert_params() / plan.tp
    return stage_layers(shape.num_layers, plan.pp) * per_layer


def sharded_params(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Local parameters after sharding over their data-parallel replicas (DP for dense, DP/EP for experts)."""
    experts = local_expert_params(shape, plan)
    return (local_params(shape, plan) - experts) / plan.dp + experts * plan.ep / plan.dp


def activation_bytes_per_token_layer(shape: TransformerShape, plan: PlanArrays) -> np.ndarray:
    """Stored activation bytes per token per layer per GPU without recompute (TP + SP sharded)."""
    h, d = shape.hidden_size, shape.head_dim
    q = shape.num_heads * d
    f = shape.ffn_hidden_size
    gate = 2 if shape.gated_mlp else 1
    ffn_tokens = shape.experts_per_token  # each routed token keeps its FFN activations per expert
    # LN inputs, QKV input, MLP input and dropout masks: split over TP only with sequence parallelism
    shared = ACTIVATION_BYTES * (2 * h + h + h) + (2 * h if shape.uses_dropout else 0)
    # Q, attention output, FFN activations: always split over TP
    split = ACTIVATION_BYTES * (q + q + ffn_tokens * (gate * f + f))
    # K and V: KV heads fewer than TP are replicated, so a GPU holds at least one K and one V head
    kv_local = 2.0 * np.maximum(shape.num_kv_heads / plan.tp, 1.0) * d
    # unfused attention keeps the softmax output (2 B), dropout mask (1 B) and dropout output (2 B) of
    # every score: Korthikanti's 5 a s / t per token; selective recompute drops exactly this term
    scores = np.where((plan.attention == 1) & (plan.recompute == 0),
                      (5.0 if shape.uses_dropout else 2.0) * shape.num_heads * plan.seq_len, 0.0)
    sp_split = np.where(plan.sequence_parallel == 1, plan.tp, 1.0)
    return shared / sp_split + (split + scores) / plan.tp + ACTIVATION_BYTES * kv_local


def memory_breakdown(shape: TransformerShape, plan: PlanArrays) -> dict[str, np.ndarray]:
    """Bytes per GPU on the heaviest stage: weights, gradients, optimizer, activations, overhead."""
    params = local_params(shape, plan)
    shard = sharded_params(shape, plan)
    zero = plan.zero
    fp8 = plan.dtype == 1
    weight_bytes = WEIGHT_BYTES + np.where(fp8, 1.0, 0.0)
    one_layer = local_layer_params(shape, plan) * weight_bytes
    weights = np.where(zero >= 3, shard * weight_bytes + 2.0 * one_layer, params * weight_bytes)
    grads = np.where(zero >= 2, shard * GRAD_BYTES, params * GRAD_BYTES)
    optimizer = np.where(zero >= 1, shard * OPTIMIZER_BYTES, params * OPTIMIZER_BYTES)

    tokens = plan.micro_batch * plan.seq_len / plan.cp
    layers = stage_layers(shape.num_layers, plan.pp)
    per_layer = tokens * activation_bytes_per_token_layer(shape, plan)
    layer_input = tokens * ACTIVATION_BYTES * shape.hidden_size / np.where(plan.sequence_parallel == 1, plan.tp, 1)
    stored = np.where(plan.recompute == 2, layer_input, per_layer)
    working = np.where(plan.recompute == 2, per_layer, 0.0)  # one layer rebuilt during backward
    interleave = np.where(plan.vpp > 1, 1.0 + (plan.pp - 1) / (plan.pp * plan.vpp), 1.0)
    in_flight = np.minimum(plan.pp, plan.micro_batches) * interleave
    logits = np.where(plan.pp == 1, tokens * shape.vocab_size / plan.tp * 4.0, 0.0)  # fp32 logits
    activations = in_flight * layers * stored + working + logits
    overhead = np.full(len(plan), RUNTIME_OVERHEAD_BYTES)
    return {"weights": weights, "gradients": grads, "optimizer": optimizer,
            "activations": activations, "overhead": overhead}
