"""The low-precision casts of an MLA layer's attention inputs in training, as Megatron-Core 0.16.1 runs them on
Transformer Engine 2.14 (`MLA_CASTS`, hA57), over the generic count `ops.layer` makes for every layer.

The generic count casts one h-wide norm-made input on the attention side (the fused norm + QKV projection's, on
the sequence shard, its transposed copy built after TP's all-gather for per-tensor fp8: `fp8_cast_shard`). An MLA
layer in Megatron-Core's TE spec (models/gpt/gpt_layer_specs.py:233-266) runs instead:
* input_layernorm as its own TENorm, whose bf16 output feeds two TELinear down projections ("duplicated",
  transformer/multi_latent_attention.py:407-454), each quantising that input itself (TE module/linear.py:182-215:
  an amax read first under current scaling, the norm does not find it) with its transposed copy, on the tokens the
  down projection runs on (the sequence shard under SP: `ops.layer.MLA_DOWN_ON_SEQUENCE_SHARD`; never gathered);
  without a q LoRA rank only kv_down is such a linear and q_proj takes the generic gathered input (:391-404);
* the q / kv latents (q_lora, kv_lora) quantised by the up projections' fused norm (TELayerNormColumnParallelLinear
  with qk_layernorm, TE layernorm_linear.py:209-229, `with_quantized_norm`: the norm-made amax), on the same tokens,
  all-gathered quantised under SP and their transposed copy built after the gather for per-tensor fp8 (:241-275);
* backward, the down projections' output gradients (q_lora + kv_lora + rope, on the same tokens) quantised for
  their dgrad and wgrad GEMMs (module/base.py `grad_output_preprocess`), not in the generic count.
Bytes per element as `ops.layer`'s: `cast_bytes` (read 2 B, write the copies), `gathered_transpose_bytes` of them
moved to the gathered tensor (2 T per element there: read and write), the recipe's amax reads. False: the
generic count for MLA layers too (before hA57).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer_records import ArrayLike, Layout
from infraplan.scalar_path import pick

MLA_CASTS = True


def mla_cast_deltas(shape: TransformerShape, lay: Layout, tokens: ArrayLike, sp_tokens: ArrayLike,
                    down_tokens: ArrayLike, gathered: Any) -> tuple[Any, Any]:
    """(forward `fp8_cast_shard`, backward `fp8_cast`) bytes an MLA layer moves over the generic count (module
    docstring); `down_tokens`: the down projection's rows, `gathered`: where TP all-gathers the inputs (SP, TP > 1)."""
    if not MLA_CASTS or not shape.is_mla:
        return 0.0, 0.0
    h, q_lora, transpose = shape.hidden_size, shape.q_lora_rank, lay.gathered_transpose_bytes

    def norm_made(width: float, rows: ArrayLike, spread: ArrayLike) -> Any:  # cast on `rows`, transposed on `spread`
        return ((lay.cast_bytes - transpose + lay.norm_amax_bytes) * rows * width
                + transpose * pick(gathered, 2.0 * spread * width, rows * width))

    down_inputs = 2.0 if q_lora else 1.0  # q_down and kv_down (kv_down alone without a q LoRA rank)
    latents = float(q_lora + shape.kv_lora_rank)
    fwd = ((lay.cast_bytes + lay.amax_bytes) * down_tokens * down_inputs * h
           + norm_made(latents, down_tokens, tokens)
           - (norm_made(h, sp_tokens, tokens) if q_lora else 0.0))  # the generic h-wide input it replaces
    bwd = lay.cast_bytes * down_tokens * (latents + shape.qk_rope_head_dim)
    return fwd, bwd
