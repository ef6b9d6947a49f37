"""The LM head as the layer model prices it, and the model's forward GEMM FLOPs per token.

`head_ops`: the vocab-parallel LM head GEMM of `tokens` rows on one GPU (Megatron `parallel_lm_logits`: each TP
rank holds vocab / TP rows of the output embedding) and what follows it: the loss passes in training, the logits
all-gather over TP for sampling in inference. `flops_per_token`: the forward GEMM FLOPs per token of every layer
and the head on one GPU (TP 1), which the catalog tests hold to 2 x the active parameters (`ops.layer`).
`end_table_bytes`: the bytes of the embedding and LM-head tables a serving GPU holds, the head at its stored width
where a checkpoint stores it quantised (`ops.precision.head_dtype`).
"""

from __future__ import annotations

from dataclasses import dataclass

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer import ArrayLike, Collective, Elementwise, Gemm, Layout, Phase, layer_ops
from infraplan.ops.params import ACT_BYTES, end_params_local
from infraplan.scalar_path import fast_frozen_init, to_float


@fast_frozen_init  # (its `__init__` without `object.__setattr__` per field: built once per single estimate)
@dataclass(frozen=True)
class HeadOps:
    """LM head (vocab-parallel) and what follows it: loss (training) or logits gather for sampling."""

    gemm: Gemm
    elementwise: Elementwise
    collectives: tuple[Collective, ...]


def head_ops(shape: TransformerShape, tokens: ArrayLike, tp: ArrayLike, phase: Phase = "training") -> HeadOps:
    """LM head of `tokens` rows on one GPU.

    Training: fp32 logits, softmax cross-entropy forward and backward over the local vocabulary shard
    (16 B per logit, 6 kernels), no gather (vocab-parallel loss). Inference: the sampled rows' logits are
    all-gathered over TP and written + read in fp32 (8 B per local logit, 2 kernels).
    """
    vocab_local = shape.vocab_size / to_float(tp)
    gemm = Gemm("lm_head", tokens, vocab_local, shape.hidden_size)
    if phase == "training":
        return HeadOps(gemm, Elementwise("loss", tokens * vocab_local * 4.0 * 4.0, 6.0), ())
    gather = Collective("all_gather", "tp", tokens * shape.vocab_size * ACT_BYTES, tp, 1)
    return HeadOps(gemm, Elementwise("logits", tokens * vocab_local * 4.0 * 2.0, 2.0), (gather,))


def flops_per_token(shape: TransformerShape) -> float:
    """Forward GEMM FLOPs per token of the whole model on one GPU layout (TP 1): layers + LM head."""
    lay = Layout(tokens=float(shape.num_experts * 1024))  # enough tokens for every expert
    layer = float(layer_ops(shape, lay).gemm_flops()) / float(lay.tokens)
    head = float(head_ops(shape, lay.tokens, 1).gemm.flops()) / float(lay.tokens)
    return shape.num_layers * layer + head


def end_table_bytes(shape: TransformerShape, tp: int, pp: int, head_bytes: float = ACT_BYTES) -> float:
    """Bytes of the embedding / LM-head tables on one GPU of the heaviest stage (`ops.params.end_params_local`): the
    embedding in bf16, an untied LM head at `head_bytes` per weight (its stored width). With PP the end stages hold
    one table each and the first stage's bf16 embedding is the heavier: the head's width does not count there."""
    ends = float(end_params_local(shape, tp, pp))
    if pp > 1 or shape.tied_embeddings:
        return ends * ACT_BYTES
    return ends / 2.0 * (ACT_BYTES + head_bytes)  # one table each
