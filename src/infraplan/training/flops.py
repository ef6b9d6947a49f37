"""Model FLOPs in the Megatron convention, for TFLOP/s per GPU, MFU and HFU; and the FLOPs the kernels execute.

Model FLOPs count the forward + backward (3x forward) matmuls of the model, attention scores included
at full (non-causal) s x s as Narayanan et al. (SC'21) do, plus the LM head; recomputation is excluded.
For a GPT block this is Megatron's 72 B s l h^2 (1 + s/(6h) + V/(12 l h)). GQA, SwiGLU and MoE (routed
experts only) are counted from the real shapes. Hardware FLOPs add what recomputation re-does:
the whole forward (full) or the attention scores (selective), Megatron's HFU convention.

The full s x s is a convention, not what a causal kernel runs: PaLM (Chowdhery et al. 2022, appendix B:
6N + 12 L H Q T) and torchtitan 0.3.0 (torchtitan/models/utils.py:438-451, "we follow the convention and do not
account for sparsity in causal attention") count it too, while Megatron-Bridge 0.1.0rc4-0.3.1 (whose
performance-summary model TFLOP/s the Hopper / Blackwell published MFUs are) counts the causal half
(megatron/bridge/training/utils/flop_utils.py:340-347 MLA, :362-363 GQA: "Only half of the attention matrix is
non-zero"). `MODEL_FLOP_CONVENTION` names the one `mfu` / `hfu` use; `causal_flops_ratio` converts to the other.
At long sequences the convention counts more than the hardware runs (a FlashAttention kernel runs the causal
triangle, 1 + 2.5 of its forward), so an ideal part can show MFU / HFU above 1; `executed_flops_per_step` counts
what the priced kernels run (`training.attention_core`), its utilisation never above 1.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.identity_memo import IdentityMemo
from infraplan.ops.layer import attention_keys
from infraplan.ops.sparse_attention import indexer_pair_flops, is_sparse, training_pair_flops
from infraplan.scalar_path import pick, to_float
from infraplan.training.attention_core import FLASH_BACKWARD_OVER_FORWARD, flash_keys
from infraplan.training.enums import Attention, Recompute
from infraplan.training.memory import recomputed_fraction
from infraplan.training.plan import PlanArrays

_UNFUSED, _FULL, _SELECTIVE = int(Attention.UNFUSED), int(Recompute.FULL), int(Recompute.SELECTIVE)  # enum codes

MODEL_FLOP_CONVENTION = ("megatron-sc21: forward + 2x backward matmuls, full s x s attention scores (not the "
                         "causal half), LM head, no recompute")


def forward_flops_per_token_layer(shape: TransformerShape, seq_len: np.ndarray | int) -> tuple[float, np.ndarray]:
    """(matmul FLOPs with weights, attention-score FLOPs) per token per layer, forward."""
    dense = _mean_layer_params(shape)
    # 2 (d_qk + d_v) per pair and head (MLA: nope + rope and v widths); sliding layers see fewer keys; DeepSeek Sparse
    # Attention: the core over its selected keys, and its indexer's scores over every key (the convention's full s)
    scores = 4.0 * attention_keys(shape, seq_len) * shape.num_heads * shape.attention_head_dim
    if is_sparse(shape):
        scores = scores + indexer_pair_flops(shape) * to_float(seq_len)
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


def causal_flops_ratio(shape: TransformerShape, seq_len: np.ndarray | int) -> np.ndarray:
    """Model FLOPs with the attention scores' causal half (Megatron-Bridge's convention, module docstring) over
    those of `MODEL_FLOP_CONVENTION`: an MFU in that convention is the `mfu` times this (< 1, -> 1 at short s)."""
    weights, scores = forward_flops_per_token_layer(shape, seq_len)
    head = 2.0 * shape.hidden_size * shape.vocab_size
    full = shape.num_layers * (weights + scores) + head
    return to_float((shape.num_layers * (weights + 0.5 * scores) + head) / full)  # type: ignore[no-any-return]


def executed_flops_per_step(shape: TransformerShape, plan: PlanArrays, stack: Stack | None = None) -> np.ndarray:
    """FLOPs the priced kernels run per step (`training.layer_time`, `training.attention_core`): the weight GEMMs
    forward and backward; the attention core as its kernel runs it, fused over the causal keys the kernel visits
    (`flash_keys`, 2 x keys x heads x d forward, `FLASH_BACKWARD_OVER_FORWARD` x that backward) or unfused over the
    full s x s (4 s heads d forward, 2x backward; also attention with learned sinks where `stack` runs them
    unfused); the LM head; and recomputation's re-run forward (full: the recomputed layers' GEMMs and attention;
    selective: the attention core when the stack's `recompute_modules` list core_attn). ASSUMPTION: the other
    modules a selective recompute may re-run (mlp, moe, mla_up_proj ...) are left out, so this is a lower bound."""
    weights = 2.0 * _mean_layer_params(shape)  # (`forward_flops_per_token_layer`'s first term; no scores needed)
    per_key = 2.0 * shape.num_heads * shape.attention_head_dim  # forward FLOPs per (query, key) pair
    sinks_unfused = bool(shape.attention_sinks) and stack is not None and stack.sink_attention != "fused"
    unfused = (plan.attention == _UNFUSED) | sinks_unfused
    selective_core = stack is None or "core_attn" in stack.recompute_modules
    if type(unfused) is bool:  # one plan's ints (`PlanArrays.one_row`): the branch `pick` keeps, alone (issue 18)
        core_fwd = 2.0 * per_key * to_float(plan.seq_len) if unfused else per_key * flash_keys(shape, plan.seq_len)
        core = core_fwd * (3.0 if unfused else 1.0 + FLASH_BACKWARD_OVER_FORWARD)
        rerun = ((weights + core_fwd) * recomputed_fraction(shape, plan) if plan.recompute == _FULL
                 else (core_fwd if selective_core else 0.0) if plan.recompute == _SELECTIVE else 0.0)
    else:
        core_fwd = pick(unfused, 2.0 * per_key * to_float(plan.seq_len), per_key * flash_keys(shape, plan.seq_len))
        core = core_fwd * pick(unfused, 3.0, 1.0 + FLASH_BACKWARD_OVER_FORWARD)
        rerun = pick(plan.recompute == _FULL, (weights + core_fwd) * recomputed_fraction(shape, plan),
                     pick(plan.recompute == _SELECTIVE, core_fwd if selective_core else 0.0, 0.0))
    if is_sparse(shape):  # DSA's indexer in its sparse training stage (`training.attention_core.indexer_times`)
        core = core + sum(training_pair_flops(shape, plan.seq_len))
    per_token = shape.num_layers * (3.0 * weights + core + rerun) + 3.0 * 2.0 * shape.hidden_size * shape.vocab_size
    total: np.ndarray = per_token * plan.global_batch * plan.seq_len
    return total


def flop_convention_note(mfu: float, hfu: float, executed: float) -> str | None:
    """The note of a plan whose MFU or HFU is above 1: the convention counts more than the kernels run (module
    docstring), said with the executed FLOPs' utilisation, so no impossible figure is shown silently."""
    if max(mfu, hfu) <= 1.0:
        return None
    return (f"MFU {100 * mfu:.1f} % / HFU {100 * hfu:.1f} % are above 100 % because their model FLOPs count the full "
            f"s x s attention scores ({MODEL_FLOP_CONVENTION.split(':')[0]} convention) where the causal kernels run "
            f"about half of them; the FLOPs the kernels execute use {100 * executed:.1f} % of peak "
            f"(`executed_flops_utilisation`)")
