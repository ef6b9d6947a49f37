"""Fine-grained selective recompute and fp8 activation caching: what each stores and what it re-runs.

Megatron-Core's `recompute_granularity="selective"` re-runs the modules listed in
`TransformerConfig.recompute_modules` (megatron/core/transformer/transformer_config.py; default ["core_attn"];
a stack's `recompute_modules`). Each module drops the tensors it produces from the stored activations
(`ops.params.activation_terms_per_token_layer`) and re-runs its forward in backward:
  core_attn: the unfused attention's score tensors (fused attention stores none, so it saves nothing there);
  layernorm: the norm outputs, i.e. the QKV and MLP/router inputs (`CheckpointWithoutOutput`; the norm inputs
    stay, they are the residual stream); it re-runs the input and pre-MLP norms (transformer_config.py:417), and
    MLA's q / kv latent norms too only under a stack's `layernorm_recompute_norms: all` (DeepSeek-V3's);
  mla_up_proj: Q, K and V of MLA (the up-projections re-run from the stored latents before the attention
    backward; megatron/core/transformer/multi_latent_attention.py `recompute_up_proj`);
  moe_act: the routed experts' SwiGLU output and GPT-OSS's clamped FC1 copy (re-run from the stored FC1 output);
  mlp / moe / shared_experts: everything inside the dense MLP, the MoE layer (routed copies and shared expert)
    or the shared expert only, re-run from the kept MLP input.
  op_sac: torchtitan's op-level selective AC (torchtitan 0.1.0 models/llama3/infra/parallelize.py:218-274, read in
    the PyPI wheel): the layer forward replays in backward with the outputs of SDPA and of every odd `aten.mm`
    cached (`_save_list`, "every second mm" recomputed), so the even mms (Llama: wk, wo, w3 of wq, wk, wv, wo, w1, w3,
    w2; a non-gated FFN: wk, wo, w2) and every element-wise op re-run, the attention core not (`rerun_gemm_shares`;
    layer_time re-runs the whole forward element-wise time); drops the norm outputs and the activation output
    (the mm outputs it also drops are kept in the count: an upper bound on its memory).
DeepSeek-V3 (arXiv:2412.19437 sec. 3.2.3) recomputes all RMSNorms and the MLA up-projections; sec. 3.3.3 caches
the output-projection input in a 12-bit E5M6 format, the MoE up-projection input (the fp8-dispatched tokens) and
the SwiGLU input in fp8 with 1x128 tile scales, and recomputes the SwiGLU output (`moe_act`).

Stacks list the cached tensors in `fp8_activation_cache`; under an fp8-family plan each takes 1 B per element
(attn_out 1.5 B) plus one fp32 scale per 128 elements instead of 2 B.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.catalog.stacks import Stack
from infraplan.identity_memo import IdentityMemo
from infraplan.ops import layer as ops_layer
from infraplan.ops.gpt_oss_experts import clamp_rerun_bytes
from infraplan.ops.params import ACT_BYTES
from infraplan.scalar_path import is_plain, pick, to_float

DROPPED_TERMS: dict[str, tuple[str, ...]] = {
    "core_attn": ("scores",),
    "layernorm": ("qkv_input", "mlp_input"),
    "mla_up_proj": ("qkv",),
    "moe_act": ("expert_act_out", "expert_clamped_fc1_out"),
    "mlp": ("ffn_fc1_out", "ffn_act_out"),
    "moe": ("expert_input", "expert_fc1_out", "expert_act_out", "expert_clamped_fc1_out", "shared_fc1_out",
            "shared_act_out"),
    "shared_experts": ("shared_fc1_out", "shared_act_out"),
    "op_sac": ("qkv_input", "mlp_input", "ffn_act_out"),
}
RERUN_GEMMS: dict[str, tuple[str, ...]] = {  # `ops.layer.Gemm.role`s whose forward a module re-runs
    "mla_up_proj": ("q_up", "kv_up", "q_absorb", "v_absorb"),
    "mlp": ("ffn_up", "ffn_down"),
    "moe": ("expert_up", "expert_down", "router", "shared_up", "shared_down"),
    "shared_experts": ("shared_up", "shared_down"),
}
FP8_SCALE_BYTES_PER_ELEMENT = 4.0 / 128.0  # one fp32 scale per 1x128 tile
CACHED_BYTES_PER_ELEMENT: dict[str, float] = {"attn_out": 1.5}  # E5M6; every other cached tensor: fp8 (1 B)

__all__ = ["cached_bytes_factor", "recompute_gemm_roles", "rerun_elementwise_bytes_per_token", "rerun_gemm_shares",
           "stored_activation_terms"]


def cached_bytes_factor(term: str) -> float:
    """Bytes of an fp8-cached tensor over its bf16 bytes (its scales included)."""
    return (CACHED_BYTES_PER_ELEMENT.get(term, 1.0) + FP8_SCALE_BYTES_PER_ELEMENT) / ACT_BYTES


def stored_activation_terms(terms: dict[str, np.ndarray], selective: np.ndarray, low_precision: np.ndarray,
                            stack: Stack, quantized: tuple[str, ...] = (),
                            operand_bytes: np.ndarray | float = ACT_BYTES) -> dict[str, np.ndarray]:
    """`terms` (bytes per token and layer by tensor) after the stack's selective-recompute drops (where
    `selective`) and fp8 caching (where `low_precision`, an fp8-family GEMM recipe); under a stack with
    `quantized_gemm_inputs` the `quantized` GEMM inputs (`ops.params.quantized_gemm_inputs`) take the plan's
    GEMM `operand_bytes` per element instead of 2 (bf16 plans: 2, unchanged)."""
    dropped, cached, narrowed = _term_sets(stack, quantized)
    out = {}
    for name, value in terms.items():
        kept = pick(selective, 0.0, value) if name in dropped else value
        if name in narrowed:
            kept = kept * operand_bytes / ACT_BYTES
        if name in cached:
            kept = pick(low_precision, kept * cached_bytes_factor(name), kept)
        out[name] = to_float(kept)
    return out


# (stack, quantized) -> (dropped, cached, narrowed): the stack's term sets, built once per stack (a single estimate
# asks once per plan), by the stack's identity
_TERM_SETS: IdentityMemo[tuple[frozenset[str], frozenset[str], frozenset[str]]] = IdentityMemo(256)


def _term_sets(stack: Stack, quantized: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The activation terms the stack's selective recompute drops, those it caches in fp8, and the `quantized` GEMM
    inputs it narrows to the recipe's operand bytes (none without `quantized_gemm_inputs`)."""
    kept = _TERM_SETS.get(stack, quantized)
    if kept is not None:
        return kept
    cached = frozenset(stack.fp8_activation_cache)
    sets = (frozenset(t for m in stack.recompute_modules for t in DROPPED_TERMS[m]), cached,
            frozenset(quantized) - cached if stack.quantized_gemm_inputs else frozenset())
    return _TERM_SETS.put(stack, quantized, sets)


def recompute_gemm_roles(stack: Stack) -> frozenset[str]:
    """GEMM roles whose forward selective recompute re-runs under this stack."""
    return frozenset(r for m in stack.recompute_modules for r in RERUN_GEMMS.get(m, ()))


def rerun_gemm_shares(shape: TransformerShape, stack: Stack) -> dict[str, float]:
    """Share of each GEMM role's forward that selective recompute re-runs: 1 for the roles of the stack's modules
    (`recompute_gemm_roles`); with op_sac the even `aten.mm` calls of torchtitan's layer (module docstring): of the
    fused QKV GEMM the K projection's share of its width, the output projection, and of the FFN the up half of the
    gate / up GEMM (gated) or the down GEMM (wq, wk, wv, wo, w1, w2: the sixth mm). MoE and MLA layers: no GEMM
    share (their mm order is not counted here; only their element-wise replay is priced, a lower bound)."""
    shares = dict.fromkeys(recompute_gemm_roles(stack), 1.0)
    if "op_sac" in stack.recompute_modules and not shape.is_mla and not shape.is_moe:
        kv_each = shape.num_kv_heads * shape.head_dim
        shares["qkv"] = max(shares.get("qkv", 0.0), kv_each / (shape.num_heads * shape.head_dim + 2.0 * kv_each))
        shares["attention_out"] = 1.0
        role, share = ("ffn_up", 0.5) if shape.gated_mlp else ("ffn_down", 1.0)
        shares[role] = max(shares.get(role, 0.0), share)
    return shares


# `CheckpointWithoutOutput._recompute` copies the recomputed output's storage into the discarded output's
# (megatron/core/tensor_parallel/random.py:712-717, Megatron-Core 0.16.1): read + write per element of it
RESTORE_COPY_BYTES = 2.0 * ACT_BYTES


def rerun_elementwise_bytes_per_token(shape: TransformerShape, tp: np.ndarray, sequence_parallel: np.ndarray,
                                      stack: Stack) -> np.ndarray:
    """Bytes the re-run element-wise modules move per token and layer on one GPU (read input, write output):
    layernorm re-runs both RMSNorms (h each, split over TP with sequence parallelism) and, where the stack's
    `layernorm_recompute_norms` is all (DeepSeek-V3's; Megatron-Core re-runs the two only), MLA's two latent norms;
    moe_act re-runs SwiGLU over the k routed copies (reads g f, writes f, split over TP), copies its f-wide output
    into the discarded tensor (`RESTORE_COPY_BYTES`) and, for GPT-OSS, re-runs the clamp before it
    (`ops.gpt_oss_experts.clamp_rerun_bytes`). (Megatron re-runs only the pre-MLP norm where the input norm is fused
    into the QKV linear, plus its output's restore copy: the same bytes as the two norms priced here.)"""
    tp = to_float(tp)
    total = 0.0 if is_plain(tp) else np.zeros(np.shape(tp))  # one plan (`PlanArrays.one_row`): floats
    if "layernorm" in stack.recompute_modules:
        sp = pick(to_float(sequence_parallel) == 1, tp, 1.0)
        # MLA's latent norms: only a stack whose `layernorm` re-runs every norm (`layernorm_recompute_norms` all:
        # DeepSeek-V3's); Megatron-Core 0.16.1 re-runs the input and pre-MLP norms only (hL57)
        mla_norms = shape.is_mla and stack.layernorm_recompute_norms == "all"
        latents = shape.q_lora_rank + shape.kv_lora_rank if mla_norms else 0
        if latents and ops_layer.MLA_LATENT_NORMS and ops_layer.MLA_DOWN_ON_SEQUENCE_SHARD:
            latents = latents / sp  # on the down projection's shard (`ops.layer.MLA_LATENT_NORMS`, hA57)
        total = total + ACT_BYTES * 2.0 * (2.0 * shape.hidden_size / sp + latents)
    if "moe_act" in stack.recompute_modules and shape.is_moe:
        gate = 2 if shape.gated_mlp else 1
        f = shape.ffn_hidden_size
        per_copy = ACT_BYTES * (gate + 1) * f + RESTORE_COPY_BYTES * f + clamp_rerun_bytes(shape)
        total = total + shape.experts_per_token * per_copy / tp
    return total  # type: ignore[return-value]
