"""The decoder-only transformer shape the performance models use, and its parameter counts.

`TransformerShape` is the one internal form of a model (`catalog.model_config` reads Hugging Face configs of
any common family into it). It has at most two layer kinds (DeepSeek's first-k dense layers beside the routed
ones; Llama 4 Maverick's dense layers between its MoE layers) and counts parameters from the matrices of the block:
* attention: Q, K, V, output projections; multi-head latent attention (MLA, DeepSeek-V2 arXiv:2405.04434
  eq. 9-14) as its down and up projections; GPT-OSS attention sinks (model card, 2025) one per head;
* FFN: 3 matrices when gated (SwiGLU/GeGLU), else 2; routed experts, shared experts (DeepSeekMoE,
  arXiv:2401.06066; Qwen2-MoE) and the router;
* DeepSeek Sparse Attention (DeepSeek-V3.2-Exp, model_type deepseek_v32): the lightning indexer's projections
  (`ops.sparse_attention`: q from the q-LoRA latent, one key and the per-head weights from the hidden state);
* embeddings (tied or not), and the multi-token-prediction modules (DeepSeek-V3 arXiv:2412.19437 sec. 2.2)
  counted apart. Norms and biases are below 0.1 % of the parameters and left out.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from infraplan.catalog.schemas import Spec
from infraplan.identity_memo import IdentityMemo

_DROPOUT_FAMILIES = {"gpt2", "opt", "bloom", "xglm"}  # trained with hidden and attention dropout
# How a config's quantization_config says its checkpoint stores weights and KV cache for serving
# (`catalog.model_config_quantization`, `model_config.checkpoint_kv_dtype`; read by `serving/` and `ops.precision`'s
# serving formats only): not the architecture, so a training recipe keyed by a model's figures
# (`catalog.model_recipes.recipe_key`) leaves them out, as Megatron-Bridge's recipes take no checkpoint format
CHECKPOINT_FORMAT_FIELDS = frozenset({"checkpoint_kv_dtype", "checkpoint_weight_dtype", "checkpoint_weight_scope",
                                      "checkpoint_weight_bytes", "checkpoint_lm_head_quantised"})


class TransformerShape(Spec):
    """Decoder-only transformer shape, as the performance models need it.

    A model has at most two layer kinds: `num_layers - num_dense_layers` layers with the FFN described by
    `ffn_hidden_size` / `num_experts` (routed experts of an MoE model, or the one FFN of a dense model) and
    `num_dense_layers` dense-FFN layers of `dense_ffn_hidden_size` (DeepSeek's first-k dense layers).
    """

    name: str
    model_type: str
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0, description="query/key head width (MLA: nope + rope)")
    ffn_hidden_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    max_seq_len: int = Field(gt=0)
    gated_mlp: bool = Field(description="SwiGLU/GeGLU: three FFN matrices instead of two")
    num_experts: int = Field(1, gt=0)
    experts_per_token: int = Field(1, gt=0)
    tied_embeddings: bool = False
    source: str = ""
    # multi-head latent attention (0 = standard MHA/GQA)
    v_head_dim_override: int = Field(0, ge=0, description="value head width when it differs from head_dim")
    q_lora_rank: int = Field(0, ge=0, description="MLA query compression rank (0: full-rank query)")
    kv_lora_rank: int = Field(0, ge=0, description="MLA key/value latent width (0: no MLA)")
    qk_rope_head_dim: int = Field(0, ge=0, description="MLA decoupled rotary key/query width per head")
    # shared experts and dense layers of an MoE model
    num_shared_experts: int = Field(0, ge=0)
    shared_ffn_hidden_size: int = Field(0, ge=0, description="total width of the shared expert(s)")
    num_dense_layers: int = Field(0, ge=0, description="dense-FFN layers of an MoE model")
    dense_ffn_hidden_size: int = Field(0, ge=0)
    dense_layers_interleaved: bool = Field(False, description="the dense layers are spread evenly between the MoE "
                                           "layers (Llama 4 `interleave_moe_layer_step`), not first (DeepSeek)")
    # attention over part of the sequence, sinks, multi-token prediction
    sliding_window: int = Field(0, ge=0, description="keys of a sliding-window layer (0: none)")
    num_sliding_layers: int = Field(0, ge=0)
    attention_chunk_size: int = Field(0, ge=0, description="tokens of an attention chunk (Llama 4): a query of a "
                                      "chunked layer attends the keys of its own aligned chunk only (0: none)")
    num_chunked_layers: int = Field(0, ge=0)
    qk_norm_layers: int = Field(0, ge=0, description="layers that normalise each head's query and key, read from "
                                "a `use_qk_norm` key (Llama 4's RoPE layers; Qwen3's are priced by its model type, "
                                "`ops.qk_norm`)")
    attention_sinks: bool = False
    clamped_swiglu: bool = Field(False, description="GPT-OSS `swiglu_limit`: clamped SwiGLU with alpha and +1 "
                                 "(element-wise passes, `ops.layer`)")
    linear_biases: bool = Field(False, description="GPT-OSS `attention_bias`: biases on the projections and the "
                                "routed experts, the experts' added as element-wise passes (read on GPT-OSS only, "
                                "`catalog.frontier_config.EXPERT_BIAS_FAMILIES`)")
    num_mtp_layers: int = Field(0, ge=0, description="multi-token-prediction modules (not in num_layers)")
    # DeepSeek Sparse Attention (0: dense attention; `ops.sparse_attention`)
    index_topk: int = Field(0, ge=0, description="keys the lightning indexer selects for each query's MLA core "
                            "attention (HF index_topk; 0: dense)")
    index_n_heads: int = Field(0, ge=0, description="the indexer's query heads (HF index_n_heads)")
    index_head_dim: int = Field(0, ge=0, description="the indexer's query / key width (HF index_head_dim)")
    rope_mscale: float = Field(1.0, gt=0, description="YaRN's scale on the rotary cos / sin (1: none; "
                               "Megatron's unfused RoPE where it is not 1, `ops.rotary`)")
    # group-limited routing (1, 1: none)
    expert_groups: int = Field(1, gt=0, description="routed-expert groups (HF n_group)")
    expert_groups_per_token: int = Field(1, gt=0, description="groups a token's experts come from (topk_group)")
    checkpoint_kv_dtype: str = Field("", description="KV-cache dtype an engine's kv_cache_dtype 'auto' takes from "
                                     "the config's quantization_config (fp8 | bf16; '' without one: "
                                     "`catalog.model_config.checkpoint_kv_dtype`, `serving.kv_default`)")
    checkpoint_weight_dtype: str = Field("", description="the serving format the config's quantization_config stores "
                                         "('' without one: `catalog.model_config_quantization`)")
    checkpoint_weight_scope: str = Field("", description="the weights it stores so: all | experts (routed experts "
                                         "only) | its quantised kinds joined by + (`ops.precision.weight_scope`)")
    checkpoint_weight_bytes: float = Field(0.0, ge=0, description="bytes per stored weight with its group scales "
                                           "where the config states a group size (0: the format's own)")
    checkpoint_lm_head_quantised: bool = Field(False, description="the config stores the LM head in its format too "
                                               "(GPTQ / AWQ lm_head: true; `ops.precision.head_dtype`)")

    @model_validator(mode="after")
    def _consistent(self) -> TransformerShape:
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_attention_heads {self.num_heads} not a multiple of kv heads {self.num_kv_heads}")
        if self.experts_per_token > self.num_experts:
            raise ValueError("num_experts_per_tok exceeds the number of experts")
        if self.num_dense_layers >= self.num_layers and self.is_moe:
            raise ValueError("an MoE model needs at least one MoE layer")
        if self.num_dense_layers and not (self.is_moe and self.dense_ffn_hidden_size):
            raise ValueError("dense layers need an MoE model and a dense intermediate_size")
        if self.num_sliding_layers > self.num_layers or (self.num_sliding_layers and not self.sliding_window):
            raise ValueError("sliding layers need a sliding_window and at most num_hidden_layers of them")
        if self.num_chunked_layers > self.num_layers or (self.num_chunked_layers and not self.attention_chunk_size):
            raise ValueError("chunked layers need an attention_chunk_size and at most num_hidden_layers of them")
        if self.num_chunked_layers and self.num_sliding_layers:
            raise ValueError("a model with both sliding-window and chunked-attention layers is not modelled")
        if self.qk_norm_layers > self.num_layers:
            raise ValueError("more QK-normed layers than num_hidden_layers")
        if self.index_topk and not (self.is_mla and self.q_lora_rank and self.index_n_heads and self.index_head_dim):
            raise ValueError("sparse attention (index_topk) needs MLA with a q_lora_rank, index_n_heads and "
                             "index_head_dim")
        if self.index_topk and (self.num_sliding_layers or self.num_chunked_layers):
            raise ValueError("sparse attention with sliding-window or chunked layers is not modelled")
        if self.kv_lora_rank and self.qk_rope_head_dim >= self.head_dim:
            raise ValueError("MLA needs qk_nope_head_dim > 0")
        if self.expert_groups_per_token > self.expert_groups or self.num_experts % self.expert_groups:
            raise ValueError(f"topk_group {self.expert_groups_per_token} must be <= n_group {self.expert_groups}"
                             f" and n_group must divide the {self.num_experts} routed experts")
        if self.expert_groups_per_token * (self.num_experts // self.expert_groups) < self.experts_per_token:
            raise ValueError("topk_group groups hold fewer experts than num_experts_per_tok")
        return self

    @property
    def is_group_limited(self) -> bool:
        """A token's experts come from fewer than all expert groups (DeepSeek node-limited routing)."""
        return self.is_moe and self.expert_groups_per_token < self.expert_groups

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 1

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank > 0

    @property
    def is_sparse_attention(self) -> bool:
        """DeepSeek Sparse Attention: an indexer picks `index_topk` keys per query (`ops.sparse_attention`)."""
        return self.index_topk > 0

    @property
    def v_head_dim(self) -> int:
        return self.v_head_dim_override or self.head_dim

    @property
    def attention_head_dim(self) -> float:
        """Mean of the query/key and value head widths: attention-core FLOPs are 2 (d_qk + d_v) per pair."""
        return (self.head_dim + self.v_head_dim) / 2.0

    @property
    def num_routed_layers(self) -> int:
        """Layers of the first kind (routed experts in an MoE model, every layer of a dense one)."""
        return self.num_layers - self.num_dense_layers

    @property
    def routed_layer_share(self) -> float:
        """Share of the layers that run routed experts (0 for a dense model)."""
        return self.num_routed_layers / self.num_layers if self.is_moe else 0.0

    @property
    def uses_dropout(self) -> bool:
        return self.model_type in _DROPOUT_FAMILIES

    @property
    def ffn_matrices(self) -> int:
        return 3 if self.gated_mlp else 2

    def indexer_params_per_layer(self) -> int:
        """The lightning indexer's matrices (DeepSeek-V3.2: wq_b q_lora x heads*dim, wk h x dim, weights_proj h x
        heads; vLLM 0.12.0 model_executor/models/deepseek_v2.py:825-842); its k LayerNorm is left out as norms are."""
        if not self.index_topk:
            return 0
        width = self.index_n_heads * self.index_head_dim
        return self.q_lora_rank * width + self.hidden_size * (self.index_head_dim + self.index_n_heads)

    def attention_params_per_layer(self) -> int:
        """Q, K, V, output projections (MLA: down and up projections; DeepSeek-V2 eq. 9-14), plus sinks and a sparse
        attention's indexer."""
        h, heads = self.hidden_size, self.num_heads
        extra = (heads if self.attention_sinks else 0) + self.indexer_params_per_layer()
        if self.is_mla:
            nope = self.head_dim - self.qk_rope_head_dim
            q_proj = (h * self.q_lora_rank + self.q_lora_rank * heads * self.head_dim if self.q_lora_rank
                      else h * heads * self.head_dim)
            kv_proj = (h * (self.kv_lora_rank + self.qk_rope_head_dim)
                       + self.kv_lora_rank * heads * (nope + self.v_head_dim))
            return q_proj + kv_proj + heads * self.v_head_dim * h + extra
        q_out = heads * self.head_dim
        kv_out = 2 * self.num_kv_heads * self.head_dim
        return self.hidden_size * (q_out + kv_out) + q_out * self.hidden_size + extra

    def expert_params(self) -> int:
        """One routed expert (a dense model: its one FFN)."""
        return self.ffn_matrices * self.hidden_size * self.ffn_hidden_size

    def shared_expert_params(self) -> int:
        return self.ffn_matrices * self.hidden_size * self.shared_ffn_hidden_size

    def params_per_layer(self) -> int:
        """Matrix parameters of one layer of the first kind (norms and biases are <0.1 % and left out)."""
        router = self.hidden_size * self.num_experts if self.is_moe else 0
        return (self.attention_params_per_layer() + self.num_experts * self.expert_params()
                + self.shared_expert_params() + router)

    def dense_layer_params(self) -> int:
        """Matrix parameters of one dense-FFN layer of an MoE model (zero when it has none)."""
        if not self.num_dense_layers:
            return 0
        return self.attention_params_per_layer() + self.ffn_matrices * self.hidden_size * self.dense_ffn_hidden_size

    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)

    def total_params(self) -> int:
        """All layers of both kinds and the embeddings (the MTP modules are in `mtp_params`)."""
        return (self.num_routed_layers * self.params_per_layer() + self.num_dense_layers * self.dense_layer_params()
                + self.embedding_params())

    def active_layer_params(self) -> int:
        """Parameters one token touches in one layer of the first kind (MoE: routed top-k + shared)."""
        return self.params_per_layer() - (self.num_experts - self.experts_per_token) * self.expert_params()

    def active_params(self, input_embedding: bool = True) -> int:
        """Parameters touched per token (MoE: only the routed experts; dense layers and shared experts always).

        `input_embedding=False` leaves out the input table, a lookup rather than a matmul (OpenAI's GPT-OSS
        model card counts active parameters so; DeepSeek and Qwen count it).
        """
        embed = self.embedding_params() - (0 if input_embedding or self.tied_embeddings
                                           else self.vocab_size * self.hidden_size)
        return (self.num_routed_layers * self.active_layer_params()
                + self.num_dense_layers * self.dense_layer_params() + embed)

    def mtp_params(self) -> int:
        """Multi-token-prediction modules (DeepSeek-V3 sec. 2.2): each a layer of the first kind, the 2h x h
        projection of [h_i; emb(t_i+k)], and its own copy of the embedding and output head as checkpoints
        store them (shared with the main model in training)."""
        per_module = self.params_per_layer() + 2 * self.hidden_size * self.hidden_size
        return self.num_mtp_layers * (per_module + 2 * self.vocab_size * self.hidden_size)

    def sliding_fraction(self) -> float:
        """Share of the layers with sliding-window attention."""
        return self.num_sliding_layers / self.num_layers

    def chunked_fraction(self) -> float:
        """Share of the layers with chunked attention."""
        return self.num_chunked_layers / self.num_layers

    def layer_kinds(self) -> tuple[tuple[TransformerShape, int], ...]:
        """(shape of one layer kind, layers of it): the shape itself when every layer is alike; else the
        routed layers and the dense-FFN layers, each as a shape whose every layer is of that kind (a constant of the
        frozen model, kept by its identity: a single estimate asks for it a few times, ~4 us each)."""
        if not self.num_dense_layers:
            return ((self, self.num_layers),)
        kept = _LAYER_KINDS.get(self)
        if kept is not None:
            return kept
        whole = {"num_sliding_layers": 0, "num_chunked_layers": 0, "qk_norm_layers": 0}  # the model's, not a kind's
        routed = self.model_copy(update={"num_layers": self.num_routed_layers, "num_dense_layers": 0,
                                         "dense_ffn_hidden_size": 0,
                                         "dense_layers_interleaved": False, **whole})
        dense = self.model_copy(update={"num_layers": self.num_dense_layers, "num_dense_layers": 0,
                                        "dense_ffn_hidden_size": 0,
                                        "dense_layers_interleaved": False, **whole, "num_experts": 1,
                                        "experts_per_token": 1, "ffn_hidden_size": self.dense_ffn_hidden_size,
                                        "num_shared_experts": 0, "shared_ffn_hidden_size": 0,
                                        "expert_groups": 1, "expert_groups_per_token": 1})
        kinds = ((routed, self.num_routed_layers), (dense, self.num_dense_layers))
        return _LAYER_KINDS.put(self, None, kinds)


# `TransformerShape.layer_kinds` of models with two layer kinds, by the model's identity
_LAYER_KINDS: IdentityMemo[tuple[tuple[TransformerShape, int], ...]] = IdentityMemo(256)
