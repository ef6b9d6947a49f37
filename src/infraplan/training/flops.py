"""Model FLOPs in the Megatron convention, for TFLOP/s per GPU, MFU and HFU.

Model FLOPs count the forward + backward (3x forward) matmuls of the model, attention scores included
at full (non-causal) s x s as Narayanan et al. (SC'21) do, plus the LM head; recomputation is excluded.
For a GPT block this is Megatron's 72 B s l h^2 (1 + s/(6h) + V/(12 l h)). GQA, SwiGLU and MoE (routed
experts only) are counted from the real shapes. Hardware FLOPs add what recomputation re-does:
the whole forward (full) or the attention scores (selective), Megatron's HFU convention.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.identity_memo import IdentityMemo
from infraplan.ops.layer import attention_keys
from infraplan.scalar_path import pick
from infraplan.training.enums import Recompute
from infraplan.training.memory import recomputed_fraction
from infraplan.training.plan import PlanArrays


def forward_flops_per_token_layer(shape: TransformerShape, seq_len: np.ndarray | int) -> tuple[float, np.ndarray]:
    """(matmul FLOPs with weights, attention-score FLOPs) per token per layer, forward."""
    dense = _mean_layer_params(shape)
    # 2 (d_qk + d_v) per pair and head (MLA: nope + rope and v widths); sliding layers see fewer keys
    scores = 4.0 * attention_keys(shape, seq_len) * shape.num_heads * shape.attention_head_dim
    return 2.0 * dense, scores


def _mean_layer_params(shape: TransformerShape) -> float:
    """Active matmul parameters of the mean layer over the two layer kinds (routed top-k + shared experts +
    router; first-k dense layers): a constant of the model, kept by its identity (the entry holds the frozen
    model, so its id is not reused while it is kept; a single estimate asks twice, issue 18)."""
    kept = _MEAN_LAYER_PARAMS.get(shape)
    if kept is not None:
        return kept
    dense: float = (shape.num_routed_layers * shape.active_layer_params()
                    + shape.num_dense_layers * shape.dense_layer_params()) / shape.num_layers
    _MEAN_LAYER_PARAMS.put(shape, None, dense)
    return dense


_MEAN_LAYER_PARAMS: IdentityMemo[float] = IdentityMemo(256)


def model_flops_per_step(shape: TransformerShape, plan: PlanArrays,
                         forward: tuple[float, np.ndarray] | None = None) -> np.ndarray:
    """Model FLOPs per step; `forward`: `forward_flops_per_token_layer` of the plan's sequence, when at hand."""
    weights, scores = forward_flops_per_token_layer(shape, plan.seq_len) if forward is None else forward
    per_token = 3.0 * (shape.num_layers * (weights + scores) + 2.0 * shape.hidden_size * shape.vocab_size)
    return per_token * plan.global_batch * plan.seq_len


def hardware_flops_per_step(shape: TransformerShape, plan: PlanArrays, model_flops: np.ndarray | None = None,
                            forward: tuple[float, np.ndarray] | None = None) -> np.ndarray:
    """Hardware FLOPs per step; `model_flops`: `model_flops_per_step` of the plan, and `forward`:
    `forward_flops_per_token_layer` of its sequence, when at hand."""
    weights, scores = forward_flops_per_token_layer(shape, plan.seq_len) if forward is None else forward
    extra = pick(plan.recompute == int(Recompute.FULL), (weights + scores) * recomputed_fraction(shape, plan),
                 pick(plan.recompute == int(Recompute.SELECTIVE), scores, 0.0))  # np.select's values
    model = model_flops_per_step(shape, plan, (weights, scores)) if model_flops is None else model_flops
    total: np.ndarray = model + shape.num_layers * extra * plan.global_batch * plan.seq_len
    return total
