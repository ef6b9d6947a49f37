"""One transformer layer as a table of operations, for a layer shape and a parallel layout.

The table says WHAT one GPU runs for one layer; the consumers (training step time, serving iteration
cost) price it with `hardware.kernels` (GEMMs, attention, element-wise) and `network.collectives`.
This module imports neither: it sits beside them (import layer `ops`). Its records (`Layout`, `Gemm`,
`AttentionCore`, `Elementwise`, `Collective`, `LayerOps`) are `ops.layer_records`', importable from here.

For M tokens per GPU (training: micro_batch * seq_len / CP; serving: prefill tokens + decode sequences):
* GEMMs (m, n, k, count, role) from the real shapes (Narayanan et al. SC'21): QKV with GQA widths (KV heads
  below TP replicated), output projection, FFN (two matrices, or three fused as gate/up + down for SwiGLU);
  MoE: at most E experts are active, each fed M * top_k * EP / active tokens (times the expert load factor:
  the busiest EP rank under imbalanced routing, or the capacity factor with token dropping, which sets the
  pace); the local experts run as one grouped GEMM (`grouped`, priced by `hardware.grouped_gemm_time`);
  E / EP local experts (EP outside the TP group, training) or active / EP experts each EP times wider (EP
  inside the TP group, serving);
  MoE parallel folding (Liu et al. 2025, arXiv:2504.14960; Megatron-Core `--expert-tensor-parallel-size`):
  the experts are split over ETP ranks, not TP, and the EP x ETP group is laid over the stage's TP x CP x DP
  ranks; each rank dispatches its sequence-parallel shard (M / TP tokens), so a local expert serves
  M * top_k * EP * ETP / (TP * E) tokens at width f / ETP (the per-rank routed rows times width, and so the
  activation and cast bytes, are those of the unfolded layout);
  the router (M x E x h). LM head: vocab-parallel (M x V/TP x h).
* The attention core (query tokens, keys, local heads, head_dim, causal), priced by the caller.
* Element-wise passes as bytes and kernel counts. Training (Korthikanti et al. 2022, arXiv:2205.05198):
  norms, residuals and dropout on the sequence-parallel shard (10 h per token), rotary on Q and K
  (2 (q + kv/2)), the FFN activation ((g + 1) f per routed token), 8 kernels; backward moves twice the bytes
  in 12 kernels; low precision (`ops.precision`) adds the cast of every GEMM input forward and output
  gradient backward. Inference (the serving engine's count): 10 h + 3 f per token in 6 kernels (norms,
  rotary, activation, residuals; no SP). The two counts disagree (rotary bytes, non-gated FFNs) and are kept
  as each consumer had them.
* Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, sec. 2.1; DeepSeek-V3, arXiv:2412.19437):
  the down projections [W_DQ; W_DKV; W_KR] (M x (q_lora + kv_lora + rope) x h, replicated over TP; one fused GEMM
  serving, q_down and kv_down apart in training as Megatron-Core runs them, `ops.mla_gemms`; in
  training under SP on the rank's sequence shard M / TP, its latents then gathered in place of the attention's
  M x h gather: Megatron-Core 0.16.1, `MLA_DOWN_ON_SEQUENCE_SHARD`, `mla_gemms.mla_sp_collectives`), the
  query up projection (M x heads*(nope + rope)/TP x q_lora), the KV up projection to the decompressed heads
  (M x heads*(nope + v)/TP x kv_lora) and the output (M x h x heads*v/TP); the attention core over the
  decompressed heads (qk width nope + rope, v width v_head_dim). Inference absorbs W_UK into the query and
  W_UV into the output (DeepSeek-V2 sec. 2.1.2, "weight absorption"): per local head a (M x kv_lora x nope)
  and a (M x v x kv_lora) GEMM, batched over the heads in one kernel (torch.bmm in SGLang's and vLLM's MLA),
  the same FLOPs and weight bytes as the KV up projection of the new tokens,
  so attention reads only the latent cache.
* Shared experts (DeepSeekMoE, arXiv:2401.06066): a dense FFN of the shared width beside the routed experts,
  split over TP. Two layer kinds (first-k dense layers): each kind's table, weighted by its share of the
  layers (GEMM and collective counts, element-wise bytes and kernels), so that L x the table is the sum.
* Sliding-window attention (Beltagy et al. 2020, arXiv:2004.05150; GPT-OSS): a causal query at position i
  attends min(i + 1, W) keys; `attention_keys` is the mean over layers of the keys to price at half weight.
  Chunked attention (Llama 4): a query at i attends the (i mod C) + 1 keys of its own chunk of C; DeepSeek Sparse
  Attention its top-k (`ops.attention_keys`, `ops.sparse_attention`: the indexer's GEMMs are in `ops.mla_gemms`).
* GPT-OSS (model card 2025; HF `GptOssExperts`): the clamped SwiGLU and the expert biases in training as
  Megatron-Core 0.16 runs them (`ops.gpt_oss_experts`), YaRN's RoPE unfused (`ops.rotary`); the attention
  projections' biases in the GEMM epilogue (Transformer Engine Linear). Sinks and windows: how the attention kernel
  runs is the stack's (`catalog.stacks` `sink_attention`).
* Collectives (kind, bytes, group, stride, count, mask): TP with SP all-gathers and reduce-scatters the
  M x h activation twice per direction, without SP all-reduces it twice (inference is always the latter);
  CP all-gathers K and V forward and reduce-scatters their gradients backward (a DSA model's indexer keys too:
  `ops.sparse_attention.index_key_gather_bytes`); EP all-to-all dispatch and
  combine of the routed tokens (times the expert load factor: the busiest rank receives the most); none when
  serving with EP only inside the TP group (no attention DP): the MoE input is replicated over the TP ranks after
  the attention all-reduce, each rank runs its local experts on the tokens routed to them and the layer's TP
  all-reduce sums the partial outputs (TensorRT-LLM `FusedMoE` `reduce_results` without attention DP; vLLM
  `FusedMoE` with EP and DP 1 all-reduces over the TP group; SGLang EP MoE without a2a backend). Folded, or
  unfolded on Megatron's alltoall dispatcher in training (`ROUTED_GATHER_AT_EXPERT_TP`): the MoE layer takes the
  sequence-parallel shard as it is, so a routed layer without shared experts has only the attention's TP pair (the
  shared expert keeps the FFN's, `SHARED_OVERLAP_MEGATRON_GATHERS`); with ETP > 1 the received copies are
  all-gathered over ETP before the experts, reduce-scattered after (Megatron's `MoEAlltoAllTokenDispatcher`,
  `tp_size` = ETP). Serving, folded (attention DP with MoE TP: the EP x MoE-TP group over the attention DP x TP GPUs,
  `serving.host_overhead.inference_layout`): no all-to-all; the group's tokens, h each (not the k routed copies), are
  all-gathered over the whole group before the experts and the partial outputs reduce-scattered back after
  (TensorRT-LLM under attention DP: AIConfigurator 0.8.0 sdk/operations.py `MoEDispatch`,
  `validation.campaign_settings` "MoE layouts").
"""

from __future__ import annotations

from typing import Any

import numpy as np

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.attention_keys import attention_keys as attention_keys
from infraplan.ops.eager_passes import eager_passes
from infraplan.ops.gpt_oss_experts import gpt_oss_expert_passes
from infraplan.ops.layer_records import ArrayLike as ArrayLike
from infraplan.ops.layer_records import AttentionCore as AttentionCore
from infraplan.ops.layer_records import Collective as Collective
from infraplan.ops.layer_records import CollectiveKind as CollectiveKind
from infraplan.ops.layer_records import Elementwise as Elementwise
from infraplan.ops.layer_records import Gemm as Gemm
from infraplan.ops.layer_records import LayerOps as LayerOps
from infraplan.ops.layer_records import Layout as Layout
from infraplan.ops.layer_records import Phase as Phase
from infraplan.ops.mla_casts import mla_cast_deltas
from infraplan.ops.mla_gemms import down_grad_add_bytes, mla_attention_gemms, mla_sp_collectives
from infraplan.ops.moe_routing import moe_routing_passes, routed_copy_casts
from infraplan.ops.params import ACT_BYTES, kv_width, q_width
from infraplan.ops.qk_norm import QK_NORM_MODELS, qk_norm_passes, qkv_split_copies
from infraplan.ops.rotary import unfused_rope_passes
from infraplan.ops.sparse_attention import index_key_gather_bytes, is_sparse
from infraplan.scalar_path import anywhere, larger, negate, pick, to_bool, to_float

# Megatron-Core's MLA under sequence parallelism (module docstring): the replicated down projections run on the rank's
# sequence shard and the latents are gathered; False = the down projections on all T tokens and a T x h gather
MLA_DOWN_ON_SEQUENCE_SHARD = True
# ... its latents gathered as Megatron-Core 0.16.1 runs them (`mla_gemms.mla_sp_collectives`, hA57): the q and kv
# latents by the up projections' TE LayerNormLinear, each its own gather of its fused norm's output (quantised under an
# fp8 recipe: `Collective.te_gather`), the rope key by Megatron's bf16 gather; False = one bf16 record of the three
# (hV56).
# Delivered OFF: the two extra launches cost more than the fp8 bytes save on H018 (frontier 8.6923 -> 8.6942 %)
MLA_LATENT_TE_GATHERS = False
# MLA's q / kv latent RMSNorms (q_layernorm, kv_layernorm) as passes, read + write per element over q_lora + kv_lora,
# on the tokens the down projection ran on, backward twice the bytes (as `main`'s norms): in Megatron-Core 0.16.1's
# TE spec they run inside the up projections' LayerNormLinear (qk_layernorm, gpt_layer_specs.py:235-244; the
# attention's q/kv_layernorm IdentityOp, :260-261), a norm kernel of their own there (TE 2.14 layernorm_linear.py:
# 217-229). False = unpriced (before hA57)
MLA_LATENT_NORMS = True
# The T x h SP gathers (QKV / FC1 inputs forward, projection / FC2 output gradients backward) are TE modules' in every
# layer kind (TE 2.14 layernorm_linear.py:241-275, module/base.py:1186-1234): marked `Collective.te_gather` for
# `training.tp_quantised_collectives.te_gather_records` (False: by the first kind's payload object only, before hH58)
TE_GATHERS_EVERY_KIND = True
# Megatron-Core's all-to-all dispatcher gathers its received routed copies over expert TP > 1 and scatters them back,
# ETP = TP or not (megatron-core 0.10.0 transformer/moe/token_dispatcher.py:51, :508-516, :560-567; 0.16.1 :71-76,
# :691-701, :774-783): no T x h FFN pair then (hH, session 60; False: a dense FFN's pair, as before)
ROUTED_GATHER_AT_EXPERT_TP = True
# A shared expert is a TP-split MLP on the attention's TP group (megatron-core 0.16.1 transformer/moe/shared_experts.py
# :52, mlp.py:91; 0.10.0 shared_experts.py:40): its T x h SP pair beside the routed copies' expert-TP gather (hO61).
# Under `moe_shared_expert_overlap` its linears lose their SP mode (0.16.1 :92-104, 0.10.0 :55-62) and the pair is
# Megatron's bf16 gather / reduce-scatter (0.16.1 :167-170, :250-253; 0.10.0 :121-126, :200-205): not TE's quantised
# gather, and no wgrad input re-gather (`training.sp_regather`). False: TE's gathers, as without the overlap
SHARED_OVERLAP_MEGATRON_GATHERS = True
MISSED_EXPERT_FLOOR = 1e-9  # inference MoE: below this P(expert missed), every expert counts as hit (`_ffn_gemms`)


def _attention_gemms(shape: TransformerShape, lay: Layout) -> list[Gemm]:
    """Q/K/V and output projections: GQA widths, or MLA down/up projections (`ops.mla_gemms`)."""
    tp, tokens, h = to_float(lay.tp), lay.tokens, shape.hidden_size
    if not shape.is_mla:
        q_local, kv_local = q_width(shape, tp), kv_width(shape, tp)
        return [Gemm("qkv", tokens, q_local + kv_local, h), Gemm("attention_out", tokens, h, q_local)]
    # training under SP: the replicated (TELinear "duplicated") down projections take the norm's sequence shard
    shard = (tokens / pick(to_bool(lay.sequence_parallel), tp, 1.0)
             if lay.phase == "training" and MLA_DOWN_ON_SEQUENCE_SHARD else tokens)
    return mla_attention_gemms(shape, lay, shard)


def _ffn_gemms(shape: TransformerShape, lay: Layout) -> list[Gemm]:
    h, tp = shape.hidden_size, to_float(lay.tp)
    up = float(shape.ffn_matrices - 1)  # gate and up fused into one GEMM for SwiGLU
    if not shape.is_moe:
        f_local = shape.ffn_hidden_size / tp
        return [Gemm("ffn_up", lay.tokens, up * f_local, h), Gemm("ffn_down", lay.tokens, h, f_local)]
    shared: list[Gemm] = []
    if shape.shared_ffn_hidden_size:
        s_local = shape.shared_ffn_hidden_size / tp
        shared = [Gemm("shared_up", lay.tokens, up * s_local, h), Gemm("shared_down", lay.tokens, h, s_local)]
    routed = lay.tokens * shape.experts_per_token
    etp = tp if lay.etp is None else to_float(lay.etp)
    # tokens of the EP group (outside TP) that the local experts serve; folded: every rank's SP shard
    gathered = pick(lay.folded, routed * lay.ep * etp / tp, routed * lay.ep)
    if lay.phase == "training":
        active: ArrayLike = float(shape.num_experts)  # every expert sees tokens at training batch sizes
    else:  # expected experts hit by T = gathered / k tokens, each picking k of E uniformly: E (1 - (1 - k/E)^T)
        e, k = float(shape.num_experts), float(shape.experts_per_token)
        missed = (1.0 - k / e) ** (gathered / k)  # P(an expert gets none of the T tokens)
        # below MISSED_EXPERT_FLOOR every expert is hit (< 1e-6 experts missed): E exactly, so a per-expert count
        # of T k / E = 32 is 32 rows, not 32 + 1e-13 padded to the next M tile by `hardware.grouped_gemm_time`
        active = np.minimum(gathered, np.where(missed < MISSED_EXPERT_FLOOR, e, e * (1.0 - missed)))
    per_expert = gathered / larger(active, 1.0) * lay.expert_load_factor  # the busiest rank sets the pace
    f_local = shape.ffn_hidden_size * lay.ep_inside_tp / etp
    count = active / lay.ep / lay.ep_inside_tp
    return [Gemm("expert_up", per_expert, up * f_local, h, count, grouped=True),
            Gemm("expert_down", per_expert, h, f_local, count, grouped=True),
            Gemm("router", lay.tokens, shape.num_experts, h), *shared]


def layer_ops(shape: TransformerShape, lay: Layout) -> LayerOps:
    """The operation table of one (mean) layer on one GPU (see module docstring)."""
    kinds = shape.layer_kinds()
    if len(kinds) == 1:
        return _kind_ops(shape, lay, shape)
    weighted = [(_kind_ops(kind, lay, shape), count / shape.num_layers) for kind, count in kinds]
    return _mean_ops(weighted)


def _mean_ops(weighted: list[tuple[LayerOps, float]]) -> LayerOps:
    """The layer-weighted mean of layer kinds' tables: counts, bytes and kernels scaled by each kind's share."""
    gemms = tuple(Gemm(g.role, g.m, g.n, g.k, g.count * (1.0 if g.grouped else w), g.grouped,
                       g.share * (w if g.grouped else 1.0)) for ops, w in weighted for g in ops.gemms)

    def elementwise(passes: list[tuple[tuple[Elementwise, ...], float]]) -> tuple[Elementwise, ...]:
        first = passes[0][0]  # every kind runs the same passes; only their sizes differ
        return tuple(Elementwise(e.role, sum(p[i].bytes * w for p, w in passes),
                                 sum(p[i].kernels * w for p, w in passes), e.mask) for i, e in enumerate(first))

    def collectives(records: list[tuple[tuple[Collective, ...], float]]) -> tuple[Collective, ...]:
        return tuple(Collective(c.kind, c.role, c.bytes, c.group, c.stride, c.count * w, c.mask, c.te_gather,
                                c.outside_te) for cs, w in records for c in cs)

    return LayerOps(gemms, weighted[0][0].attention,
                    elementwise([(ops.elementwise_fwd, w) for ops, w in weighted]),
                    elementwise([(ops.elementwise_bwd, w) for ops, w in weighted]),
                    collectives([(ops.collectives_fwd, w) for ops, w in weighted]),
                    collectives([(ops.collectives_bwd, w) for ops, w in weighted]))


def _kind_ops(shape: TransformerShape, lay: Layout, model: TransformerShape) -> LayerOps:
    """The table of one layer kind; `model` (the whole model) sets the attention keys (sliding layers)."""
    tp, tokens, h = to_float(lay.tp), lay.tokens, shape.hidden_size
    # (the model's fields and properties read once: each read of a spec goes through pydantic's attribute hook)
    moe, mla, per_token, shared = shape.is_moe, shape.is_mla, shape.experts_per_token, shape.shared_ffn_hidden_size
    model_moe = moe if model is shape else model.is_moe
    q_local, kv_local = q_width(shape, tp), kv_width(shape, tp)
    if mla:  # rotary, casts and CP gathers see the decompressed K and V of the local heads
        kv_local = shape.num_heads * (shape.head_dim + shape.v_head_dim) / tp
    gemms = (*_attention_gemms(shape, lay), *_ffn_gemms(shape, lay))
    keys = (lay.seq_len if not (model.num_sliding_layers or model.num_chunked_layers or is_sparse(model))
            else attention_keys(model, lay.seq_len))
    head_dim = shape.head_dim if not mla else shape.attention_head_dim
    attention = AttentionCore(tokens, keys, shape.num_heads / tp, head_dim, lay.batch)

    sp = to_bool(lay.sequence_parallel)
    sp_tokens = tokens / pick(sp, tp, 1.0)  # norms, residuals, dropout run on the SP shard
    f_local = shape.ffn_hidden_size / tp
    routed = float(per_token)
    elementwise_fwd: tuple[Elementwise, ...]
    elementwise_bwd: tuple[Elementwise, ...]
    if lay.phase == "training":
        gate = 2.0 if shape.gated_mlp else 1.0
        ffn_elements = tokens * f_local * (gate + 1.0) * per_token
        if shared:  # the shared expert's activation
            ffn_elements = ffn_elements + tokens * shared / tp * (gate + 1.0)
        # TE 2.14's fused grouped MLP (`MoeRouting.fused_grouped_mlp`): the routed experts' SwiGLU (and dGLU) and the
        # casts of FC2's input / FC1's output gradient run in the grouped GEMMs' epilogues, which write the quantised
        # copies (ops/fused/forward_grouped_mlp.py:327-410): the activation pass and the casts' bf16 read go
        epilogue = tokens * f_local * per_token * pick(lay.fused_grouped_mlp, 1.0, 0.0) if moe else 0.0 * tokens
        ffn_elements = ffn_elements - epilogue * (gate + 1.0)
        main = ACT_BYTES * (10.0 * sp_tokens * h + 2.0 * tokens * (q_local + kv_local / 2.0) + ffn_elements)
        # fp8: read 2 B, write a 1 B copy and a 1 B transposed copy of every GEMM input / output gradient; norm-made
        # inputs (QKV, FC1) and row-parallel output gradients (projection, FC2) cast on the sequence shard, their
        # amax reads here ("fp8_cast_shard", `ops.precision.shard_cast_terms`), the others' by the consumer
        # (routed experts: their fc1 input / fc2 output gradient over the k routed copies, `ops.moe_routing`, whose
        # bytes hold their own amax read and padding copies: priced with the shard casts, which carry their amax, not
        # in "fp8_cast", whose bytes `training.layer_kernels.elementwise_time` scales by the recipe's amax reads)
        rows = sum((g.m * g.count for g in gemms if g.role == "expert_up"), 0.0 * tokens)
        routed_casts, replaced = routed_copy_casts(shape, rows, lay.cast_bytes, lay.amax_bytes,
                                                   lay.quantization_padding)
        cast_fwd = lay.cast_bytes * tokens * (q_local + routed * f_local) - ACT_BYTES * epilogue
        cast_bwd = (lay.cast_bytes * tokens * (q_local + kv_local + routed * gate * f_local)
                    - ACT_BYTES * gate * epilogue)
        operands = 2.0 - replaced
        shard, gathered, transpose = sp_tokens * operands * h, to_bool(sp) & (tp > 1.0), lay.gathered_transpose_bytes

        def shard_cast(amax_bytes: ArrayLike) -> Any:
            return ((lay.cast_bytes - transpose + amax_bytes) * shard
                    + transpose * pick(gathered, 2.0 * tokens * operands * h, shard) + routed_casts)

        # MLA: its down projections' own casts and the latents' (`ops.mla_casts`)
        mla_fwd, mla_bwd = mla_cast_deltas(shape, lay, tokens, sp_tokens, gemms[0].m,
                                           gathered if MLA_DOWN_ON_SEQUENCE_SHARD else False) if mla else (0.0, 0.0)
        elementwise_fwd = (Elementwise("norms_residuals_rotary_activation", main, 8.0),
                           Elementwise("fp8_cast", cast_fwd, 2.0, lay.fp8_casts),
                           Elementwise("fp8_cast_shard", shard_cast(lay.norm_amax_bytes) + mla_fwd, 2.0, lay.fp8_casts))
        elementwise_bwd = (Elementwise("norms_residuals_rotary_activation", 2.0 * main, 12.0),
                           Elementwise("fp8_cast", cast_bwd + mla_bwd, 2.0, lay.fp8_casts),
                           Elementwise("fp8_cast_shard", shard_cast(lay.amax_bytes), 2.0, lay.fp8_casts))
        if model_moe:  # every kind lists the same passes (`_mean_ops`): zero bytes in the dense layers
            routing = Elementwise("moe_routing", *moe_routing_passes(shape, sp_tokens, lay.ep, lay.expert_load_factor,
                                                                  lay.moe_dispatcher))
            elementwise_fwd, elementwise_bwd = (*elementwise_fwd, routing), (*elementwise_bwd, routing)
        if model_moe and (model.linear_biases or model.clamped_swiglu):  # GPT-OSS experts (same in every kind)
            passes = gpt_oss_expert_passes(shape, tokens * routed, gate * f_local, lay.ep, lay.fused_grouped_mlp)
            elementwise_fwd, elementwise_bwd = ((*elementwise_fwd, Elementwise("gpt_oss_experts", *passes[0])),
                                                (*elementwise_bwd, Elementwise("gpt_oss_experts", *passes[1])))
        if model.rope_mscale != 1.0:  # YaRN's scaled RoPE runs eagerly in Megatron (`ops.rotary`)
            fwd, bwd = unfused_rope_passes(model, tokens, q_local + kv_local / 2.0, lay.seq_len / to_float(lay.cp))
            elementwise_fwd, elementwise_bwd = (*elementwise_fwd, Elementwise("unfused_rope", *fwd)), (
                *elementwise_bwd, Elementwise("unfused_rope", *bwd))
        if model.model_type in QK_NORM_MODELS or model.qk_norm_layers:  # per-head Q / K norm (`ops.qk_norm`)
            fwd, bwd = qk_norm_passes(model, tokens, q_local, kv_local / 2.0)
            elementwise_fwd, elementwise_bwd = (*elementwise_fwd, Elementwise("qk_norm", *fwd)), (
                *elementwise_bwd, Elementwise("qk_norm", *bwd))
        if lay.unfused_elementwise:  # the stack's eager element-wise passes beyond the fused count (`ops.eager_passes`)
            fwd_e, bwd_e = eager_passes(shape, lay.unfused_elementwise, tokens, sp_tokens, q_local, kv_local,
                                        ffn_elements)
            elementwise_fwd, elementwise_bwd = (*elementwise_fwd, fwd_e), (*elementwise_bwd, bwd_e)
        if mla and any(g.role == "q_down" for g in gemms):  # q_down's and kv_down's input gradients summed
            add = Elementwise("mla_down_grad_add", down_grad_add_bytes(shape, gemms), 1.0)
            elementwise_bwd = (*elementwise_bwd, add)
        if mla and MLA_LATENT_NORMS:  # the latent norms on the down projection's tokens (every kind is MLA)
            norm = 2.0 * ACT_BYTES * (shape.q_lora_rank + shape.kv_lora_rank) * gemms[0].m
            kernels = 2.0 if shape.q_lora_rank else 1.0
            elementwise_fwd, elementwise_bwd = (*elementwise_fwd, Elementwise("mla_latent_norms", norm, kernels)), (
                *elementwise_bwd, Elementwise("mla_latent_norms", 2.0 * norm, 2.0 * kernels))
        if lay.qkv_split_copies:  # Megatron-Core's GQA query copy and QKV-gradient cat (`ops.qk_norm`)
            fwd, bwd, grouped = qkv_split_copies(shape, tokens, tp, q_local, kv_local)
            elementwise_fwd, elementwise_bwd = (*elementwise_fwd, Elementwise("qkv_split", *fwd, grouped)), (
                *elementwise_bwd, Elementwise("qkv_split", *bwd, grouped))
    else:
        f_act = (shape.ffn_hidden_size * (per_token if moe else 1) + shared) / tp
        main = tokens * (10.0 * h + 3.0 * f_act) * ACT_BYTES
        elementwise_fwd = elementwise_bwd = (Elementwise("norms_residuals_rotary_activation", main, 6.0),)

    act_full = tokens * h * ACT_BYTES
    # a folded (or expert-TP-gathering) routed layer without shared experts: no FFN TP pair (module docstring)
    routed_gather = to_bool(lay.folded) | (to_bool(lay.routed_gather_at_expert_tp) & ROUTED_GATHER_AT_EXPERT_TP)
    attention_only = routed_gather & moe & (not shared)
    not_sp, not_only = negate(sp), negate(attention_only)
    te = TE_GATHERS_EVERY_KIND  # the T x h gathers are TE modules' (`TE_GATHERS_EVERY_KIND`)
    # the shared expert's gathers under `moe_shared_expert_overlap`: Megatron's bf16 ones (`SHARED_OVERLAP_...`)
    ffn_te = te and not (moe and bool(shared) and lay.shared_expert_overlap and SHARED_OVERLAP_MEGATRON_GATHERS)
    # the pair's FFN half outside TE's linears (`Collective.outside_te`) in a routed layer but a TE shared expert's
    apart = 0.5 if moe and (not shared or ffn_te != te) else 0.0
    gathers = ((Collective("all_gather", "tp", act_full, tp, 1, 2.0, sp & not_only, te, apart),) if ffn_te == te else
               (Collective("all_gather", "tp", act_full, tp, 1, 1.0, sp & not_only, te),
                Collective("all_gather", "tp", act_full, tp, 1, 1.0, sp & not_only, ffn_te, 1.0)))
    tp_ops: tuple[Collective, ...] = (*gathers,
                                      Collective("reduce_scatter", "tp", act_full, tp, 1, 2.0, sp & not_only, False,
                                                 apart),
                                      Collective("all_reduce", "tp", act_full, tp, 1, 2.0, not_sp & not_only, False,
                                                 apart))
    if anywhere(attention_only):
        tp_ops = (*tp_ops, Collective("all_gather", "tp", act_full, tp, 1, 1.0, sp & attention_only, te),
                  Collective("reduce_scatter", "tp", act_full, tp, 1, 1.0, sp & attention_only),
                  Collective("all_reduce", "tp", act_full, tp, 1, 1.0, not_sp & attention_only))
    tp_fwd = tp_bwd = tp_ops
    if mla and lay.phase == "training" and MLA_DOWN_ON_SEQUENCE_SHARD:
        tp_fwd, tp_bwd = mla_sp_collectives(shape, tokens, act_full, tp, (sp, not_sp, not_only, attention_only),
                                            gathers, apart, MLA_LATENT_TE_GATHERS, TE_GATHERS_EVERY_KIND)
    kv_full = lay.batch * lay.seq_len * kv_local * ACT_BYTES
    ep_ops: tuple[Collective, ...] = ()
    if moe:
        dispatch = sp_tokens * per_token * h * ACT_BYTES * lay.expert_load_factor
        ep_group = (lay.ep if type(lay.ep) in (int, float) else np.asarray(lay.ep)) * lay.ep_inside_tp
        # serving with EP only inside the TP group: every rank already holds all M tokens, runs its local experts
        # on them and the TP all-reduce sums the partial outputs, so there is no all-to-all (module docstring)
        a2a = (np.asarray(lay.ep) > 1) if lay.phase == "inference" else True
        etp = tp if lay.etp is None else to_float(lay.etp)
        gather = to_bool(lay.folded) if lay.phase == "inference" else False
        if anywhere(gather):  # attention DP + MoE TP: the group's tokens gathered in, the partial outputs
            group = to_float(lay.ep) * etp  # reduce-scattered back over the EP x MoE-TP GPUs (module docstring)
            ep_ops = (Collective("all_gather", "ep", act_full * group / tp, group, 1, 1.0, gather),
                      Collective("reduce_scatter", "ep", act_full * group / tp, group, 1, 1.0, gather),
                      Collective("all_to_all", "ep", dispatch, ep_group, lay.ep_stride, 2.0, a2a & negate(gather)))
        else:
            ep_ops = (Collective("all_to_all", "ep", dispatch, ep_group, lay.ep_stride, 2.0, a2a),)
            expert_tp = routed_gather & (etp > 1)
            if anywhere(expert_tp):  # the received tokens gathered over ETP (gathered size), scattered back after
                received = dispatch * etp
                etp_ops = (Collective("all_gather", "tp", received, etp, 1, 1.0, expert_tp, False, 1.0),
                           Collective("reduce_scatter", "tp", received, etp, 1, 1.0, expert_tp, False, 1.0))
                tp_fwd, tp_bwd = (*tp_fwd, *etp_ops), (*tp_bwd, *etp_ops)
    cp_fwd: tuple[Collective, ...] = (Collective("all_gather", "cp", kv_full, lay.cp, tp),)
    cp_bwd: tuple[Collective, ...] = (Collective("reduce_scatter", "cp", kv_full, lay.cp, tp),)
    index_key = index_key_gather_bytes(model) if lay.phase == "training" else 0.0
    if index_key:  # DSA's indexer keys, gathered over CP beside K and V (`ops.sparse_attention.CP_INDEX_KEY_GATHER`)
        keys = lay.batch * lay.seq_len * index_key
        cp_fwd, cp_bwd = (*cp_fwd, Collective("all_gather", "cp", keys, lay.cp, tp)), (
            *cp_bwd, Collective("reduce_scatter", "cp", keys, lay.cp, tp))
    collectives_fwd = (*tp_fwd, *cp_fwd, *ep_ops)
    collectives_bwd = (*tp_bwd, *cp_bwd, *ep_ops)
    return LayerOps(gemms, attention, elementwise_fwd, elementwise_bwd, collectives_fwd, collectives_bwd)
