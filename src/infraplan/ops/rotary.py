"""Rotary position embedding in training where Megatron-Core runs it unfused: the eager passes of YaRN's scaled RoPE.

The layer table (`ops.layer`) prices rotary as one fused kernel over Q and K (Transformer Engine's
`fused_apply_rotary_pos_emb`: read and write each element, 4 B). Megatron-Core 0.16.1's `apply_rotary_pos_emb`
(megatron/core/models/common/embeddings/rope_utils.py:250-300) takes that kernel only when YaRN's scale on the
cos / sin (`TransformerShape.rope_mscale`, `_yarn_get_concentration_factor`) is 1: "mscale=... is not supported by
TE's fused RoPE. Using unfused implementation" (:279-284); Megatron-Bridge 0.3.1 also switches `apply_rope_fusion`
off for `position_embedding_type` yarn (utils/fusions.py:53-82, models/gpt_provider.py:210-211). GPT-OSS (factor 32,
scale 0.1 ln 32 + 1 = 1.35) runs the eager `_apply_rotary_pos_emb_bshd` (rope_utils.py:92-126), once on the
queries and once on the keys of every layer (transformer/attention.py:1097-1116). Per call, on the bf16 tensor t:

* forward, per element of t: `t * cos_` (read + write, 4 B), `_rotate_half` (:73-89: the negated half, 2 B, and
  the `cat` of the halves, 4 B), `* sin_` (4 B), the sum (read 2 + 2, write 2: 6 B) and the final `cat` with the
  empty pass-through slice (4 B): 24 B in 6 kernels; the cos / sin themselves, `(torch.cos(freqs) * mscale)
  .to(bf16)` and the same for sin over the fp32 [s, 1, 1, d] frequencies: (4 + 4) + (4 + 4) + (4 + 2) = 22 B per
  position and rotary channel each, in 6 kernels;
* backward, per element: the gradients of the two products (4 B each), of the negation (2 B) and of the chunk
  (the `cat` of the halves' gradients, 4 B), their sum (6 B), and the empty pass-through slice's gradient, which
  autograd materialises as a zero tensor of t's size (`slice_backward`, 2 B) and adds in (6 B): 28 B in 7 kernels.

Counted from PyTorch's dispatcher: the two functions, copied from rope_utils.py, run forward and backward under a
`TorchDispatchMode` (torch 2.13, CPU) list exactly these 12 forward and 7 backward compute ops with these bytes.

Three of those passes each way have a broadcast or strided operand and run PyTorch's legacy elementwise loop, not
the vectorized one (`ops.gpt_oss_experts`, `BROADCAST_PASSES`): forward `t * cos_` and `* sin_` (cos / sin [s, 1, 1,
d] broadcast over batch and heads: 4 B each) and the negation of the `chunk` half (a strided view: 2 B); backward
the gradients of the two products (`grad * cos_`, `grad * sin_`: 4 B each) and of the negation (2 B): 10 B of the
24 / 28 each way (the sum, the zero fill and the `cat`s are contiguous), priced at the clamp's measured share of
the streaming rate (`broadcast_pass_extra`; ASSUMPTION for broadcast operands, as there).

Returned over the fused kernel the layer table already counts (4 B and 1 kernel each way): the extra bytes and
kernels, zero where the scale is 1 (every other model here: DeepSeek-V3 and Kimi K2 state mscale = mscale_all_dim,
a ratio of 1). Serving engines run YaRN in their own fused rotary kernels (not priced here).
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.gpt_oss_experts import broadcast_pass_extra

ArrayLike = np.ndarray | float | int
ROPE_BYTES = (24.0, 28.0)  # per element of Q and K, forward and backward, eager
ROPE_KERNELS = (6.0, 7.0)  # per call (Q, then K), forward and backward
ROPE_BROADCAST_BYTES = (10.0, 10.0)  # of ROPE_BYTES: the passes on the legacy loop (broadcast cos / sin, strided half)
TRIG_BYTES = 2.0 * 22.0  # per position and rotary channel per call: the scaled cos and sin, forward
TRIG_KERNELS = 6.0
FUSED_BYTES, FUSED_KERNELS = 4.0, 1.0  # the fused kernel the layer table prices, each way per call
CALLS = 2.0  # queries, keys


def unfused_rope_passes(shape: TransformerShape, tokens: ArrayLike, rotated_width: ArrayLike,
                        seq_len: ArrayLike) -> tuple[tuple[ArrayLike, float], tuple[ArrayLike, float]]:
    """(bytes, kernels) forward and backward that Megatron's eager YaRN RoPE adds over the fused kernel, for
    `tokens` tokens whose Q and K are `rotated_width` elements wide per token on this GPU (local query + key heads x
    head_dim), whose sequences hold `seq_len` positions on this GPU (the cos / sin tables: s / CP); zeros where
    `rope_mscale` is 1."""
    if shape.rope_mscale == 1.0:
        zero = 0.0 * tokens
        return (zero, 0.0), (zero, 0.0)
    elements = tokens * rotated_width
    trig = CALLS * TRIG_BYTES * seq_len * float(shape.head_dim)
    extra = broadcast_pass_extra()  # the legacy-loop passes' streaming-equivalent surplus (module docstring)
    forward = ((ROPE_BYTES[0] - FUSED_BYTES + ROPE_BROADCAST_BYTES[0] * extra) * elements + trig,
               CALLS * (ROPE_KERNELS[0] + TRIG_KERNELS - FUSED_KERNELS))
    backward = ((ROPE_BYTES[1] - FUSED_BYTES + ROPE_BROADCAST_BYTES[1] * extra) * elements,
                CALLS * (ROPE_KERNELS[1] - FUSED_KERNELS))
    return forward, backward
