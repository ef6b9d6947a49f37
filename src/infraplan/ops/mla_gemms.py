"""Multi-head latent attention's projection GEMMs for one layer (DeepSeek-V2, arXiv:2405.04434, sec. 2.1; DeepSeek-V3,
arXiv:2412.19437), as `ops.layer` lists them (its module docstring has the shapes and weight absorption), and the TP
collectives that their place on the sequence shard gives a training layer under SP (`mla_sp_collectives`).

The down projections W_DQ (h -> q_lora) and [W_DKV; W_KR] (h -> kv_lora + rope):
* training, as Megatron-Core 0.16.1 runs them: two modules, `linear_q_down_proj` and `linear_kv_down_proj`
  (transformer/multi_latent_attention.py:406-436 and :453-481; TELinear "duplicated" in the TE spec, models/gpt/
  gpt_layer_specs.py:254-256; `_backward_kv_proj` / `_backward_q_proj` run their wgrads apart, :952-964), called
  one after the other on the same input (:586, :604). So two GEMMs forward (m x q_lora x h and m x (kv_lora + rope)
  x h), two dgrad and two wgrad GEMMs backward, and the two dgrad outputs, each m x h, summed by autograd into the
  input norm's gradient: one add, read 2 x 2 B and write 2 B per element (`MLA_TWO_DOWN_GEMMS`; False: one fused
  m x (q_lora + kv_lora + rope) x h GEMM, before hH58). Megatron-Core 0.16.1 has no fused `linear_qkv_down` (a
  grep of its megatron/core finds none).
* serving: one fused GEMM, as the engines build it: vLLM 0.15.1 `fused_qkv_a_proj` (model_executor/models/
  deepseek_v2.py:759-766, MergedColumnParallelLinear, disable_tp), SGLang 0.5.8 `fused_qkv_a_proj_with_mqa`
  (srt/models/deepseek_v2.py:1127-1133, ReplicatedLinear of q_lora + kv_lora + rope).
Without a q LoRA rank (DeepSeek-V2-Lite) the query is one column-parallel projection and kv_down the only down GEMM.
A sparse-attention model (DeepSeek-V3.2) adds its lightning indexer's three projections, whole on every TP rank
(`ops.sparse_attention.indexer_gemms`).
"""

from __future__ import annotations

from typing import Any

from infraplan.catalog.model_config import TransformerShape
from infraplan.ops.layer_records import ArrayLike, Collective, Gemm, Layout
from infraplan.ops.params import ACT_BYTES
from infraplan.ops.sparse_attention import indexer_gemms
from infraplan.scalar_path import anywhere, to_float

MLA_TWO_DOWN_GEMMS = True
DOWN_ROLES = ("qkv_down", "q_down", "kv_down")  # the down projections' roles, fused or apart


def mla_attention_gemms(shape: TransformerShape, lay: Layout, down_tokens: ArrayLike) -> list[Gemm]:
    """The MLA attention's GEMMs: the down projection(s) on `down_tokens` rows (the sequence shard in training under
    SP: `ops.layer.MLA_DOWN_ON_SEQUENCE_SHARD`), the query and KV up projections, the output (module docstring)."""
    tp, tokens, h = to_float(lay.tp), lay.tokens, shape.hidden_size
    heads = shape.num_heads / tp
    nope, v, kv_lora = shape.head_dim - shape.qk_rope_head_dim, shape.v_head_dim, shape.kv_lora_rank
    kv_down = Gemm("kv_down", down_tokens, kv_lora + shape.qk_rope_head_dim, h)
    if not shape.q_lora_rank:
        down = [kv_down]
    elif lay.phase == "training" and MLA_TWO_DOWN_GEMMS:
        down = [Gemm("q_down", down_tokens, shape.q_lora_rank, h), kv_down]
    else:
        down = [Gemm("qkv_down", down_tokens, shape.q_lora_rank + kv_lora + shape.qk_rope_head_dim, h)]
    q_up = Gemm("q_up", tokens, heads * shape.head_dim, shape.q_lora_rank or h)
    if lay.phase == "training":
        kv = [Gemm("kv_up", tokens, heads * (nope + v), kv_lora)]
    else:  # weight absorption: W_UK into the query, W_UV into the output, per local head
        kv = [Gemm("q_absorb", tokens, kv_lora, nope, heads, grouped=True),  # one batched kernel (torch.bmm)
              Gemm("v_absorb", tokens, v, kv_lora, heads, grouped=True)]
    indexer = indexer_gemms(shape, tokens) if shape.is_sparse_attention else []  # DeepSeek-V3.2's indexer
    return [*down, q_up, *kv, *indexer, Gemm("attention_out", tokens, h, heads * v)]


def down_grad_add_bytes(shape: TransformerShape, gemms: list[Gemm] | tuple[Gemm, ...]) -> ArrayLike:
    """Bytes of the backward add that sums the two down projections' input gradients (module docstring): 3 x 2 B
    per element of the m x h input, where the layer lists q_down and kv_down apart; 0.0 otherwise."""
    q_down = next((g for g in gemms if g.role == "q_down"), None)
    return 0.0 if q_down is None else 3.0 * ACT_BYTES * q_down.m * shape.hidden_size


def mla_sp_collectives(shape: TransformerShape, tokens: Any, act_full: Any, tp: Any, masks: tuple[Any, Any, Any, Any],
                       t_gathers: tuple[Collective, ...], apart: float, latent_te_gathers: bool, te: bool,
                       ) -> tuple[tuple[Collective, ...], tuple[Collective, ...]]:
    """(forward, backward) TP records of an MLA layer in training (`ops.layer.MLA_DOWN_ON_SEQUENCE_SHARD`),
    megatron-core 0.16.1 transformer/multi_latent_attention.py: the down projections are TELinear "duplicated"
    (:407-409, :453-454) fed the norm's [s/TP, b, h] shard, so no T x h gather precedes them; q_compressed [s/TP,
    q_lora] and kv_compressed [s/TP, kv_lora] (:586, :604-618) are gathered by the column-parallel up projections (SP
    input gather; q_proj gathers h where q_lora_rank is None, :391-404) and k_pos_emb explicitly (:620-622
    `gather_from_sequence_parallel_region`): forward one all-gather of T x (q_lora or h) + kv_lora + rope in place of
    the attention's T x h; backward their reduce-scatters in place of the attention input gradient's. The FFN's pair
    and the output projection's reduce-scatter / gradient all-gather stay T x h. `masks`: (SP, not SP, not
    attention-only, attention-only), as `ops.layer` reads them. `latent_te_gathers` (`ops.layer.MLA_LATENT_TE_GATHERS`):
    three gathers each way (q_up / q_proj and kv_up each gather their own input, TE 2.14 layernorm_linear.py:241-275
    with the input quantizer, rowwise; k_pos_emb in bf16), the first two marked `te_gather`. `t_gathers`: the T x h
    gathers of a GQA layer (the attention's and the FFN's, `ops.layer.SHARED_OVERLAP_MEGATRON_GATHERS`): the FFN's
    forward, both backward. `te`: `ops.layer.TE_GATHERS_EVERY_KIND`.
    `Collective.outside_te` (hD63): k_pos_emb's gather / reduce-scatter are Megatron's own (mappings.py:499-510,
    :296-346, synchronous `all_gather_into_tensor` / `reduce_scatter_tensor` :114-193): its record, or its byte share
    rope / (q + kv_lora + rope) of the one latent record; the FFN's T x h records carry `apart` (the FFN half's
    share outside TE's linears) as in `ops.layer._kind_ops`."""
    sp, not_sp, not_only, attention_only = masks
    q, kv, rope = shape.q_lora_rank or shape.hidden_size, shape.kv_lora_rank, shape.qk_rope_head_dim
    # the up projections' (or q_proj's) TE input gathers and k_pos_emb's bf16 one (`latent_te_gathers`)
    gathers = ((Collective("all_gather", "tp", tokens * q * ACT_BYTES, tp, 1, 1.0, sp, True),
                Collective("all_gather", "tp", tokens * kv * ACT_BYTES, tp, 1, 1.0, sp, True),
                Collective("all_gather", "tp", tokens * rope * ACT_BYTES, tp, 1, 1.0, sp, False, 1.0))
               if latent_te_gathers else (Collective("all_gather", "tp", tokens * (q + kv + rope) * ACT_BYTES, tp,
                                                     1, 1.0, sp, False, rope / (q + kv + rope)),))
    ffn_te, ffn, pair, reduce = t_gathers[-1].te_gather, 2.0 * apart, sp & not_only, not_sp & not_only
    fwd: tuple[Collective, ...] = (Collective("all_gather", "tp", act_full, tp, 1, 1.0, pair, ffn_te, ffn),
                                   Collective("reduce_scatter", "tp", act_full, tp, 1, 2.0, pair, False, apart),
                                   *gathers, Collective("all_reduce", "tp", act_full, tp, 1, 2.0, reduce, False, apart))
    scatters = tuple(Collective("reduce_scatter", "tp", g.bytes, tp, 1, 1.0, sp, False, g.outside_te) for g in gathers)
    bwd: tuple[Collective, ...] = (*t_gathers, Collective("reduce_scatter", "tp", act_full, tp, 1, 1.0, pair, False,
                                                          ffn), *scatters,
                                   Collective("all_reduce", "tp", act_full, tp, 1, 2.0, reduce, False, apart))
    if anywhere(attention_only):  # folded routed layer without shared experts: the attention's side only
        fwd = (*fwd, Collective("reduce_scatter", "tp", act_full, tp, 1, 1.0, sp & attention_only),
               Collective("all_reduce", "tp", act_full, tp, 1, 1.0, not_sp & attention_only))
        bwd = (*bwd, Collective("all_gather", "tp", act_full, tp, 1, 1.0, sp & attention_only, te),
               Collective("all_reduce", "tp", act_full, tp, 1, 1.0, not_sp & attention_only))
    return fwd, bwd
