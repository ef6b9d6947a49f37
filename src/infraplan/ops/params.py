"""Per-GPU parameters, KV cache and activation widths of a transformer layer under TP/PP/EP.

One source for what training (`training/memory.py`, `training/step_time.py`) and serving
(`serving/kv_cache.py`, `serving/llm_iteration.py`) hold on a GPU:

* Parameters (Narayanan et al. SC'21; Megatron-LM): Q and output projections are split over TP; K and V
  are split too, but KV heads fewer than TP are replicated so each GPU holds at least one K and one V head
  (GQA, as Megatron and vLLM do); the routed experts are split over EP ranks (`ep`: the expert-parallel
  degree outside the TP group; serving's EP inside the TP group splits the same matrices the TP way, which
  is `ep=1` here) and each expert over TP, or over `etp` ranks when given (MoE parallel folding, Liu et al.
  2025, arXiv:2504.14960); the router is replicated. The embedding and LM head are
  vocab-parallel over TP and sit on the end stages (both on one stage without PP, once if tied).
* Pipeline: the heaviest stage holds ceil(L / PP) layers (layers need not divide evenly); with two layer
  kinds (DeepSeek's first-k dense layers) the heaviest stage holds as many routed layers as there are.
  `split_stage_layers`: the first, middle and last stages of Megatron-Core's even split, where the embedding and
  the loss may count as layers (`training.memory` prices each).
* KV cache (PagedAttention, Kwon et al. SOSP'23, arXiv:2309.06180): `2 * max(n_kv / TP, 1) * head_dim`
  elements per token and layer. MLA (DeepSeek-V2, arXiv:2405.04434, sec. 2.1.2-2.1.3) caches the latent
  c_KV and the shared rotary key: `kv_lora_rank + qk_rope_head_dim` elements per token and layer, one copy
  per GPU whatever the TP (every head reads the whole latent, so TP replicates it).
* MLA parameters: the down projections (W_DQ h x q_lora, W_DKV h x (kv_lora + rope)) are replicated over TP,
  the up projections (W_UQ, W_UK, W_UV) and the output are split by heads. Shared experts are a dense FFN
  split over TP (not over EP).
* Activations stored for backward (Korthikanti et al. 2022, arXiv:2205.05198), generalised to GQA and
  gated FFNs; see `activation_bytes_per_token_layer`. Serving's transient workspace width: see
  `workspace_width`.

All functions accept numpy arrays (one element per configuration) or scalars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.identity_memo import IdentityMemo
from infraplan.ops.gpt_oss_experts import clamp_saved_elements
from infraplan.ops.sparse_attention import cache_bytes_per_token_layer, is_sparse, saved_bytes_per_token
from infraplan.scalar_path import larger, ops_of, pick, smaller, to_float

ArrayLike = np.ndarray | float | int
_NUMBERS = (int, float)  # a one-plan row's numbers (`PlanArrays.one_row`)
_PLAIN = (int, float, bool)  # ... and its flags

ACT_BYTES = 2.0  # bf16 activations and communication payloads
# CUDA context (~0.5 GB) + NCCL and cuBLAS workspaces (~1 GB): one reserve for training and serving
RUNTIME_RESERVE_BYTES = 1.5e9

# One plan's counts that a model and a few plan axes fix, by the model's identity and a key of what each reads:
# `training.memory`'s parameter counts (per stage kind, kept on a `PlanArrays.one_row` and here) by (what, TP, PP, EP,
# ETP) - every parameter count of this module reads the model and those four axes only (the embedding / loss split
# flags and the stage kind are in `what`), never the sequence length, batch, micro-batch, DP, CP, recompute, ZeRO or
# precision -, `training.activation_memory`'s stored bytes per token and layer by (stack, TP, SP, recompute,
# precision; the sequence only for unfused attention's scores) and `training.memory`'s weights, gradients and optimizer
# state per stage kind by (stack, parameter copies, stage kinds, TP, PP, DP, CP, EP, ETP, VPP, ZeRO, precision,
# schedule). Plans that differ in nothing else (a sweep, the benchmark's never-seen plans at their own sequence
# lengths) count them once (issue 18). Also (hP13): a plan's DP collective times (`training.step_time.
# _one_plan_dp_collectives`, by the model and every input they read) and, by the stack's identity, its precision's
# layer terms (`training.layer_recipe.one_plan_terms`). Python floats (immutable); emptied with the one-plan memo's
# pricings (`training.one_plan_memo.clear_one_plan_memo`).
PLAN_SHAPE_COUNTS: IdentityMemo[Any] = IdentityMemo(bound=1024)


def forget_plan_shape_counts() -> None:
    """Forget every kept `PLAN_SHAPE_COUNTS` entry (tests that patch the parameter formulas)."""
    PLAN_SHAPE_COUNTS.clear()


def stage_layers(num_layers: int, pp: ArrayLike) -> np.ndarray:
    """Layers on the heaviest pipeline stage: ceil(L / PP)."""
    return ops_of(pp).ceil(num_layers / to_float(pp))  # type: ignore[no-any-return]


def split_stage_layers(num_layers: int, pp: ArrayLike, embedding_is_layer: bool = False,
                       loss_is_layer: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Layers built on a middle, the first and the last pipeline stage of Megatron-Core's even split: L' / p of
    L' = L (+1 where the embedding counts as a layer, +1 where the loss does) on every stage, the first one fewer
    where the embedding counts and the last one fewer where the loss counts (megatron-core 0.16.1
    transformer/transformer_block.py:146-200, `get_num_layers_to_build`); ceil(L' / p) where p does not divide L'
    (Megatron asserts it does; the heaviest stage of the nearest split, as `training.stage_split`). One stage
    (p = 1) builds all L layers."""
    emb, loss = float(embedding_is_layer), float(loss_is_layer)
    p = to_float(pp)
    per = ops_of(pp).ceil((num_layers + emb + loss) / larger(p, 1.0))
    single = p <= 1.0
    whole = float(num_layers)
    return pick(single, whole, per), pick(single, whole, per - emb), pick(single, whole, per - loss)


def kv_heads_local(shape: TransformerShape, tp: ArrayLike) -> np.ndarray:
    """KV heads on one GPU: n_kv / TP, at least one (replicated below TP)."""
    return larger(shape.num_kv_heads / to_float(tp), 1.0)  # type: ignore[no-any-return]


def q_width(shape: TransformerShape, tp: ArrayLike) -> np.ndarray:
    """Query (and attention output) width on one GPU: heads * head_dim / TP."""
    return shape.num_heads * shape.head_dim / to_float(tp)  # type: ignore[no-any-return]


def kv_width(shape: TransformerShape, tp: ArrayLike) -> np.ndarray:
    """K plus V width on one GPU: 2 * max(n_kv / TP, 1) * head_dim."""
    return 2.0 * kv_heads_local(shape, tp) * shape.head_dim


def mla_latent_width(shape: TransformerShape) -> int:
    """MLA cache width per token and layer: the KV latent plus the shared rotary key."""
    return shape.kv_lora_rank + shape.qk_rope_head_dim


def kv_bytes_per_token_layer(shape: TransformerShape, tp: ArrayLike, bytes_per_element: float) -> np.ndarray:
    """K and V bytes one token adds to one layer on one GPU (MLA: the latent, replicated over TP; DeepSeek Sparse
    Attention: its latent format and the indexer's key, `ops.sparse_attention.cache_bytes_per_token_layer`)."""
    if is_sparse(shape):
        return np.full(np.shape(np.asarray(tp)), cache_bytes_per_token_layer(shape, bytes_per_element))
    if shape.is_mla:
        return np.full(np.shape(np.asarray(tp)), mla_latent_width(shape) * bytes_per_element, dtype=np.float64)
    return kv_width(shape, tp) * bytes_per_element


def attention_params_local(shape: TransformerShape, tp: ArrayLike) -> np.ndarray:
    """Q, K, V and output projection parameters of one layer on one GPU."""
    tp = to_float(tp)
    h, q = shape.hidden_size, shape.num_heads * shape.head_dim
    if shape.is_mla:
        nope = shape.head_dim - shape.qk_rope_head_dim
        down = h * (shape.q_lora_rank + mla_latent_width(shape))
        up = ((shape.q_lora_rank or h) * q + shape.kv_lora_rank * shape.num_heads * (nope + shape.v_head_dim)
              + shape.num_heads * shape.v_head_dim * h)
        return down + up / tp + shape.indexer_params_per_layer()  # type: ignore[return-value]  # indexer: replicated
    return (h * q + q * h) / tp + 2.0 * h * kv_heads_local(shape, tp) * shape.head_dim


def expert_params_local(shape: TransformerShape, tp: ArrayLike, ep: ArrayLike = 1,
                        etp: ArrayLike | None = None) -> np.ndarray:
    """FFN parameters of one layer on one GPU: E / EP experts (one dense FFN), each split over ETP (None: TP),
    and the shared experts split over TP."""
    experts_local = shape.num_experts / to_float(ep)
    routed = experts_local * shape.expert_params() / to_float(tp if etp is None else etp)
    if not shape.shared_ffn_hidden_size:
        return routed  # type: ignore[no-any-return]
    return routed + shape.shared_expert_params() / to_float(tp)  # type: ignore[no-any-return]


def router_params(shape: TransformerShape) -> float:
    """The replicated router of an MoE layer (h x E), zero for a dense layer."""
    return float(shape.hidden_size * shape.num_experts) if shape.is_moe else 0.0


def local_layer_params(shape: TransformerShape, tp: ArrayLike, ep: ArrayLike = 1,
                       etp: ArrayLike | None = None) -> np.ndarray:
    """Matrix parameters of one layer held by one GPU: attention + local experts + router."""
    layer = attention_params_local(shape, tp) + expert_params_local(shape, tp, ep, etp) + router_params(shape)
    return to_float(layer)  # type: ignore[no-any-return]


def end_params_local(shape: TransformerShape, tp: ArrayLike, pp: ArrayLike) -> np.ndarray:
    """Embedding/LM-head parameters on the heaviest stage: one vocab-parallel table, two without PP if untied."""
    embed = shape.vocab_size * shape.hidden_size / to_float(tp)
    return pick(to_float(pp) > 1, embed, embed * (1 if shape.tied_embeddings else 2))  # type: ignore[no-any-return]


def routed_stage_layers(shape: TransformerShape, pp: ArrayLike, layers: ArrayLike | None = None) -> np.ndarray:
    """Routed (first-kind) layers on the heaviest stage (or on a stage of `layers` layers): all of its layers, or
    all routed layers there are; where the dense layers are interleaved (Llama 4 Maverick: every other layer routed,
    `TransformerShape.dense_layers_interleaved`), the routed share of them rounded up."""
    held = stage_layers(shape.num_layers, pp) if layers is None else layers
    routed = float(shape.num_routed_layers)
    if shape.dense_layers_interleaved:
        held = to_float(held)
        return to_float(smaller(ops_of(held).ceil(held * routed / shape.num_layers), routed))  # type: ignore[no-any-return]
    return to_float(smaller(held, routed))  # type: ignore[no-any-return]


def layer_kind_params(shape: TransformerShape, tp: ArrayLike, ep: ArrayLike = 1,
                      etp: ArrayLike | None = None) -> tuple[np.ndarray, ...]:
    """`local_layer_params` of each layer kind of `stage_params_local`: the routed (first) kind at (EP, ETP), the
    further kinds (dense) at EP 1. The same for every stage of a plan, so a caller pricing several stages (the
    stage kinds of `training.memory`) computes them once and passes them as `per_layer`."""
    return (local_layer_params(shape, tp, ep, etp),
            *(local_layer_params(kind, tp, 1) for kind, _ in shape.layer_kinds()[1:]))


def stage_params_local(shape: TransformerShape, tp: ArrayLike, pp: ArrayLike, ep: ArrayLike = 1,
                       etp: ArrayLike | None = None, layers: ArrayLike | None = None,
                       per_layer: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """Layer parameters of one GPU on the heaviest stage, or on a stage of `layers` layers (no embedding): routed
    layers first, then dense. `per_layer`: `layer_kind_params` of the same (tp, ep, etp), computed already."""
    held_layers = stage_layers(shape.num_layers, pp) if layers is None else layers
    routed = routed_stage_layers(shape, pp, held_layers)
    routed_layer, *dense_layers = layer_kind_params(shape, tp, ep, etp) if per_layer is None else per_layer
    held = routed * routed_layer
    for params in dense_layers:
        held = held + (held_layers - routed) * params
    return to_float(held)  # type: ignore[no-any-return]


def local_params(shape: TransformerShape, tp: ArrayLike, pp: ArrayLike, ep: ArrayLike = 1,
                 etp: ArrayLike | None = None, layers: ArrayLike | None = None,
                 tables: bool = True, per_layer: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
    """Parameters of one GPU on the heaviest stage, embedding or LM head included; or of a stage of `layers`
    layers, with the end stages' table (`end_params_local`) where `tables` (a middle stage holds none).
    `per_layer`: as `stage_params_local`."""
    held = stage_params_local(shape, tp, pp, ep, etp, layers, per_layer)
    return to_float(held + end_params_local(shape, tp, pp) if tables else held)  # type: ignore[no-any-return]


def local_expert_params(shape: TransformerShape, tp: ArrayLike, pp: ArrayLike, ep: ArrayLike,
                        etp: ArrayLike | None = None, layers: ArrayLike | None = None) -> np.ndarray:
    """The routed-expert part of `local_params` (zero for a dense model; shared experts are not in it)."""
    # one plan's numbers (`PlanArrays.one_row`; spelled out, not `all` over a generator: a single estimate asks thrice)
    plain = type(tp) in _NUMBERS and type(pp) in _NUMBERS and type(ep) in _NUMBERS
    if not shape.is_moe:
        return 0.0 if plain else np.zeros(np.broadcast(np.asarray(tp), np.asarray(pp), np.asarray(ep)).shape)  # type: ignore[return-value]
    split = tp if etp is None else etp
    routed = shape.num_experts / to_float(ep) * shape.expert_params() / (split if plain else np.asarray(split))
    return to_float(routed_stage_layers(shape, pp, layers) * routed)  # type: ignore[no-any-return]


def activation_terms_per_token_layer(shape: TransformerShape, tp: ArrayLike, sequence_parallel: ArrayLike,
                                     seq_len: ArrayLike, keep_scores: ArrayLike) -> dict[str, np.ndarray]:
    """Activation bytes stored for backward per token and layer on one GPU (no recompute), by tensor.

    Terms (bf16; Korthikanti's 34 s b h / t for a GPT block: q = h, kv = h, f = 4h, g = 1, k = 1):
      norm_inputs 2h (the residual stream into both norms), qkv_input h and mlp_input h (the norm outputs,
      inputs of the QKV projection and of the MLP / router), dropout_masks 2h (GPT family), all split over TP
      only with sequence parallelism; qkv: Q, K, V (MLA: the up-projection outputs q, q and v, split over TP;
      GQA: q split plus 2 kv with at least one head); attn_out: the output-projection input (q; MLA v);
      latents (MLA): the inputs of the up projections (q_lora + kv_lora + rope, replicated over TP);
      scores: unfused attention's softmax output, dropout mask and output of every score (5 a s / t, 2 a s / t
      without dropout) where `keep_scores`; ffn_fc1_out g*f and ffn_act_out f (the dense FFN);
      not counted: the grouped FC1 GEMM's input, the k routed copies of each token (k*h; Megatron-Core
      `token_dispatcher.py` permute; DeepSeek-V3 sec. 3.3.3 caches it in fp8): adding it moves the frontier
      training set through `recompute: auto` (11.6 -> 12.5 %; 10.1 -> 10.5 % with the quantised GEMM inputs
      of `quantized_gemm_inputs`), left for a calibrated round;
      expert_fc1_out k*g*f and expert_act_out k*f; expert_clamped_fc1_out k*g*f where the activation is clamped
      (GPT-OSS: the clamp's input and its clamped copy are both saved, `ops.gpt_oss_experts.clamp_saved_elements`);
      shared_fc1_out g*f_s and shared_act_out f_s (shared experts, split over TP); indexer (DeepSeek Sparse
      Attention): its q, k, head weights and top-k indices, replicated (`ops.sparse_attention.saved_bytes_per_token`).
    """
    tp = to_float(tp)
    plain = (type(tp) in _PLAIN and type(sequence_parallel) in _PLAIN and type(seq_len) in _PLAIN
             and type(keep_scores) in _PLAIN)
    ones = 1.0 if plain else np.ones(np.broadcast(tp, np.asarray(sequence_parallel), np.asarray(seq_len),
                                                  np.asarray(keep_scores)).shape)
    h, d = shape.hidden_size, shape.head_dim
    q = shape.num_heads * d
    f = shape.ffn_hidden_size
    gate = 2 if shape.gated_mlp else 1
    sp = ACT_BYTES / pick(to_float(sequence_parallel) == 1, tp, 1.0) * ones
    split = ACT_BYTES / tp * ones
    scores = pick(keep_scores, (5.0 if shape.uses_dropout else 2.0) * shape.num_heads * to_float(seq_len), 0.0)
    terms = {"norm_inputs": 2 * h * sp, "qkv_input": h * sp, "mlp_input": h * sp,
             "dropout_masks": (2 * h if shape.uses_dropout else 0) * sp / ACT_BYTES,
             "scores": scores / tp * ones}
    if shape.is_mla:
        v = shape.num_heads * shape.v_head_dim
        terms |= {"qkv": (q + q + v) * split, "attn_out": v * split,
                  "latents": ACT_BYTES * (shape.q_lora_rank + mla_latent_width(shape)) * ones}
    else:
        terms |= {"qkv": q * split + ACT_BYTES * kv_width(shape, tp) * ones, "attn_out": q * split}
    k = shape.experts_per_token
    if shape.is_moe:
        terms |= {"expert_fc1_out": k * gate * f * split,
                  "expert_act_out": k * f * split}
        if shape.clamped_swiglu:  # GPT-OSS: the clamp's second fc1-output copy (`ops.gpt_oss_experts`)
            terms["expert_clamped_fc1_out"] = k * clamp_saved_elements(shape) * split
    else:
        terms |= {"ffn_fc1_out": k * gate * f * split, "ffn_act_out": k * f * split}
    s = shape.shared_ffn_hidden_size
    if s:
        terms |= {"shared_fc1_out": gate * s * split, "shared_act_out": s * split}
    if shape.is_sparse_attention:  # DeepSeek-V3.2's indexer, replicated over TP (`ops.sparse_attention`)
        terms["indexer"] = saved_bytes_per_token(shape) * ones
    if plain:  # one plan: every term is already a float (a product of `sp`, `split`, `ones` or `tp`)
        return terms
    return {name: to_float(value) for name, value in terms.items()}


def quantized_gemm_inputs(shape: TransformerShape) -> tuple[str, ...]:
    """Terms of `activation_terms_per_token_layer` that a Transformer Engine stack stores in the GEMM's
    low-precision format under an fp8-family recipe, instead of bf16.

    A TE `Linear` / `LayerNormLinear` / `GroupedLinear` quantises its input for the forward GEMM and saves that
    quantised tensor (only the copy the weight-gradient GEMM reads: `update_usage(rowwise_usage=False)`) for
    backward, not the bf16 input (transformer_engine/pytorch/module/linear.py `_Linear.forward`, "saved_inputmat",
    TE 2.x; the fp8 activation-memory saving of TE's fp8 training). The bytes per element are the recipe's
    operand bytes (`ops.precision`: fp8 1, mxfp8 1 + 1/32, nvfp4 0.5 + 1/16). Narrowed: the QKV input (fused
    norm + QKV projection), the output-projection input, and the FC2 inputs (dense, routed and shared experts);
    the dense MLP input (fused norm + FC1). Kept in bf16: an MoE layer's MLP input (the router, a bf16 / fp32
    GEMM outside TE, saves it too) and MLA's QKV input (read by two down projections, each saving its own copy:
    2 x (1 + 1/32) B, about bf16's 2 B).
    """
    terms = ["attn_out", "expert_act_out" if shape.is_moe else "ffn_act_out"]
    if shape.shared_ffn_hidden_size:
        terms.append("shared_act_out")
    if not shape.is_mla:
        terms.append("qkv_input")
    if not shape.is_moe:
        terms.append("mlp_input")
    return tuple(terms)


def activation_bytes_per_token_layer(shape: TransformerShape, tp: ArrayLike, sequence_parallel: ArrayLike,
                                     seq_len: ArrayLike, keep_scores: ArrayLike) -> np.ndarray:
    """Activation bytes stored for backward per token and layer on one GPU (no recompute): the sum of
    `activation_terms_per_token_layer`."""
    terms = activation_terms_per_token_layer(shape, tp, sequence_parallel, seq_len, keep_scores)
    return np.asarray(sum(terms.values()), dtype=np.float64)


def workspace_width(shape: TransformerShape, tp: ArrayLike) -> np.ndarray:
    """Elements per token of one layer's widest transient tensors at inference (serving workspace).

    Residual and norm output (2h), the FFN inputs of the routed experts, and the Q, K, V projections
    (KV heads counted as n_kv / TP: the workspace is a bound, not a layout).
    """
    tp = np.asarray(tp, dtype=np.float64)
    h = shape.hidden_size
    f = shape.ffn_hidden_size * (shape.experts_per_token if shape.is_moe else 1) + shape.shared_ffn_hidden_size
    if shape.is_mla:  # Q and the decompressed K and V of the local heads
        attn = shape.num_heads * (2 * shape.head_dim + shape.v_head_dim) / tp
        return 2 * h + shape.ffn_matrices * f / tp + attn
    return 2 * h + shape.ffn_matrices * f / tp + (shape.num_heads + 2 * shape.num_kv_heads) * shape.head_dim / tp
