"""The MoE router and token permutation in training: bytes and kernels of the passes around the expert GEMMs.

Megatron-Core's all-to-all token dispatcher with Transformer Engine's fused permute (`moe_permute_fusion`), as
`moe_routing_passes` details; the layer table (`ops.layer`) lists them as the element-wise role "moe_routing".
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import pick, to_float

ArrayLike = np.ndarray | float | int


def moe_routing_passes(shape: TransformerShape, tokens: ArrayLike, ep: ArrayLike,
                       load_factor: ArrayLike = 1.0) -> tuple[ArrayLike, float]:
    """(bytes, kernels) of the router and token-permutation passes of one MoE layer in training (one direction;
    backward moves the same).

    Megatron-Core's all-to-all token dispatcher (`MoEAlltoAllTokenDispatcher`, Transformer Engine fused
    `moe_permute` / `moe_unpermute`), on the T tokens of the GPU's sequence-parallel shard, top-k, hidden h:
    permute (read T h, write the k T h routed copies in expert order), sort the received chunks by local
    expert after the all-to-all and unsort them before the return (`sort_chunks_by_idxs`, read + write k T h
    each, the busiest rank's share: x the load factor; none with one local expert), unpermute (read k T h,
    weight by the routing probabilities and sum into T h): (2 + 2k + 4k lf) T h bf16 elements. The router
    after its logits GEMM: softmax / sigmoid, top-k, the probability scatter and the load-balancing loss
    statistics over the T x E fp32 logits, ~4 passes of 4 B (16 B per logit). Kernels: row-id map, permute,
    sort, unsort, unpermute (5) and router score, top-k, scatter, aux-loss (4). A dense layer kind: zero.
    """
    if not shape.is_moe:
        return 0.0 * np.asarray(tokens), 0.0
    k, h = float(shape.experts_per_token), float(shape.hidden_size)
    sorts = pick(shape.num_experts / to_float(ep) > 1.0, 4.0 * k * load_factor, 0.0)
    permute = ACT_BYTES * to_float(tokens) * h * (2.0 + 2.0 * k + sorts)
    router = 16.0 * to_float(tokens) * shape.num_experts
    return permute + router, 9.0
