"""Read Hugging Face `config.json` files of any common family into one transformer shape.

Families name the same quantity differently (GPT-2 `n_embd`, OPT `ffn_dim`, BLOOM `n_head`, XGLM
`d_model`, ...). `TransformerShape` is the one internal form the performance models use. Only shapes
are read: no weights, no network.

Nothing is ignored silently. Every key of a config falls in one of three documented tables:
* `_ALIASES` and `_MODELLED_KEYS`: read into the shape;
* `HARMLESS_KEYS`: known not to change FLOPs, bytes or memory at the resolution modelled here (token ids,
  dtypes, dropout rates, norm epsilons, rotary base and scaling, biases below 0.1 % of the parameters, ...);
* `UNMODELLED_KEYS`: change the math but are not modelled yet (chunked attention, a narrow embedding). Each
  has a predicate: a value that leaves the standard block unchanged (e.g. `attention_chunk_size: null`) is not
  reported.
A config with unmodelled or unknown keys still loads, and one `ModelConfigWarning` line names them.

Frontier families are read exactly (`_read_frontier`):
* Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, sec. 2.1; DeepSeek-V3, arXiv:2412.19437):
  `q_lora_rank`, `kv_lora_rank`, `qk_rope_head_dim`, `qk_nope_head_dim`, `v_head_dim`; `head_dim` becomes the
  query/key head width nope + rope, `v_head_dim` the value width.
* Shared experts (DeepSeekMoE, arXiv:2401.06066; Qwen2-MoE): `n_shared_experts` experts of the routed width
  (DeepSeek) or one of `shared_expert_intermediate_size` (Qwen2-MoE), a dense FFN beside the routed ones.
* Dense FFN layers among MoE layers: `first_k_dense_replace` with `moe_layer_freq` (DeepSeek: layer i is MoE if
  i >= k and i % freq == 0), `decoder_sparse_step` and `mlp_only_layers` (Qwen-MoE: MoE if (i + 1) % step == 0
  and i not in mlp_only_layers); their FFN has `intermediate_size`, the experts `moe_intermediate_size`.
  `num_dense_layers` in the shape counts them; the routed layers are the rest.
* Sliding-window attention: `layer_types` (count of "sliding_attention", GPT-OSS/Gemma 3), else every layer
  when `sliding_window` is set and `use_sliding_window` is not false (Mistral).
* Attention sinks (GPT-OSS model card, 2025: a learned per-head logit in the softmax denominator): one
  parameter per head and layer, from `model_type: gpt_oss`.
* GPT-OSS's clamped SwiGLU (`swiglu_limit`) and projection biases (`attention_bias`): flags for the
  element-wise passes they add (`ops.layer`).
* Multi-token prediction (`num_nextn_predict_layers`, DeepSeek-V3 sec. 2.2): counted separately
  (`mtp_params`), not in `total_params` or the layer count.
* Group-limited routing (DeepSeek-V2 sec. 2.2.3, DeepSeek-V3 sec. 2.1.2): `n_group` expert groups, a token's
  top-k from `topk_group` of them, when `topk_method` is a group-limited one (`noaux_tc`,
  `group_limited_greedy`; `greedy` ignores the groups). It changes no FLOPs; it limits the nodes a token is
  dispatched to (`ops.expert_routing`). `n_group` 1 or `topk_group` = `n_group` is no limit.
* MoE keys that change only element-wise work on the T x E router scores or the T x k weights, below the
  modelled resolution and so in `HARMLESS_KEYS`: `scoring_func` (softmax / sigmoid), `norm_topk_prob`,
  `routed_scaling_factor` (one multiply of the combined output), `router_jitter_noise`; `ep_size` is a
  deployment hint of the checkpoint, not the model.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any, TextIO

from pydantic import Field, ValidationError, model_validator

from infraplan.catalog.schemas import Spec
from infraplan.errors import InputError

# For each internal field, the config keys that mean it, in order of preference.
_ALIASES: dict[str, tuple[str, ...]] = {
    "hidden_size": ("hidden_size", "n_embd", "d_model", "n_embed", "dim"),
    "num_layers": ("num_hidden_layers", "n_layer", "num_layers", "n_layers"),
    "num_heads": ("num_attention_heads", "n_head", "attention_heads", "num_heads", "n_heads"),
    "num_kv_heads": ("num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num"),
    "ffn_hidden_size": ("intermediate_size", "ffn_dim", "n_inner", "ffn_hidden_size", "d_ff"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
    "max_seq_len": ("max_position_embeddings", "n_positions", "seq_length", "max_sequence_length"),
    "num_experts": ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"),
    "experts_per_token": ("num_experts_per_tok", "moe_top_k", "experts_per_token"),
    "moe_ffn_hidden_size": ("moe_intermediate_size",),
}
# Keys read outside `_ALIASES`.
_MODELLED_KEYS = frozenset({
    "model_type", "hidden_act", "activation_function", "hidden_activation", "multi_query", "head_dim",
    "tie_word_embeddings", "source",
    # frontier families (see the module docstring)
    "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "n_shared_experts",
    "num_shared_experts", "shared_expert_intermediate_size", "first_k_dense_replace", "moe_layer_freq",
    "decoder_sparse_step", "mlp_only_layers", "num_nextn_predict_layers", "sliding_window", "use_sliding_window",
    "layer_types", "n_group", "topk_group", "topk_method", "swiglu_limit", "attention_bias",
})

# `topk_method` values that restrict a token's experts to `topk_group` of `n_group` groups.
_GROUP_LIMITED_METHODS = frozenset({"noaux_tc", "group_limited_greedy"})


def _off(value: Any) -> bool:
    """A value that switches a feature off: null, false, 0, empty."""
    return value is None or value is False or value == 0 or value in ("", [], {})


def _equals_hidden(value: Any, config: dict[str, Any]) -> bool:
    return _off(value) or value == _first(config, "hidden_size")


# Keys that change the math but are not modelled: key -> "this value leaves the standard block unchanged".
UNMODELLED_KEYS: dict[str, Callable[[Any, dict[str, Any]], bool]] = {
    # Llama 4 chunked local attention
    "attention_chunk_size": lambda v, c: _off(v),
    # an embedding narrower than the model (OPT-350m) adds two projections
    "word_embed_proj_dim": _equals_hidden,
}

# Keys known not to change the modelled FLOPs, bytes or memory.
HARMLESS_KEYS = frozenset({
    # bookkeeping, tokenizer and generation
    "architectures", "transformers_version", "torch_dtype", "dtype", "_name_or_path", "auto_map", "bos_token_id",
    "eos_token_id", "pad_token_id", "unk_token_id", "sep_token_id", "decoder_start_token_id", "use_cache",
    "return_dict", "is_decoder", "is_encoder_decoder", "quantization_config", "_remove_final_layer_norm",
    "output_router_logits", "router_aux_loss_coef", "aux_loss_alpha", "seq_aux", "router_z_loss_coef",
    "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
    "task_specific_params", "id2label", "label2id", "bad_words_ids", "forced_eos_token_id", "prefix",
    # initialisation, numerics, dropout rates (the dropout *masks* follow the family, see _DROPOUT_FAMILIES)
    "initializer_range", "init_std", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon",
    "attention_dropout", "hidden_dropout", "dropout", "activation_dropout", "attn_pdrop", "embd_pdrop",
    "resid_pdrop", "layerdrop", "attention_softmax_in_fp32", "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
    "reorder_and_upcast_attn", "layer_norm_elementwise_affine", "do_layer_norm_before", "scale_embedding",
    "embedding_multiplier", "logits_scaling", "final_logit_softcapping", "attn_logit_softcapping",
    "query_pre_attn_scalar", "use_qk_norm", "qk_layernorm",
    # positions: rotary base/scaling/fraction and ALiBi change element-wise work only
    "rope_theta", "rope_scaling", "rotary_pct", "rotary_emb_base", "partial_rotary_factor", "rope_interleaved",
    "position_embedding_type", "no_rope_layers", "alibi", "offset_alibi", "use_parallel_residual", "rotary_dim",
    # biases (< 0.1 % of parameters), residual wiring, Megatron fusion flags
    "mlp_bias", "enable_bias", "bias", "use_bias", "parallel_attn", "parallel_residual",
    "new_decoder_architecture", "apply_residual_connection_post_layernorm", "bias_dropout_fusion",
    "masked_softmax_fusion", "skip_bias_add", "skip_bias_add_qkv", "pretraining_tp", "slow_but_exact",
    "max_window_layers",
    # MoE routing details (element-wise on router scores; module docstring): normalisation, scoring, scaling
    "norm_topk_prob", "routed_scaling_factor", "scoring_func", "ep_size", "router_jitter_noise",
    # GPT-OSS: pre-training context (rope scaling handles the rest)
    "initial_context_length",
})


_SHOW_WARNING = warnings.showwarning


class ModelConfigWarning(UserWarning):
    """A config key that would change the modelled math is not modelled, or a key is not understood."""


def known_keys() -> frozenset[str]:
    """Every config key this reader knows: read into the shape, harmless, or reported as not modelled."""
    aliases = {key for keys in _ALIASES.values() for key in keys}
    return frozenset(aliases | _MODELLED_KEYS | HARMLESS_KEYS | set(UNMODELLED_KEYS))


def _check_keys(config: dict[str, Any], name: str) -> None:
    """Warn (one line each) about keys that change the math but are not modelled, and unknown keys."""
    read = known_keys() - set(UNMODELLED_KEYS)
    unmodelled: list[str] = []
    unknown: list[str] = []
    for key, value in config.items():
        if key in read:
            continue
        if key in UNMODELLED_KEYS:
            if not UNMODELLED_KEYS[key](value, config):
                unmodelled.append(key)
        elif not key.startswith("_"):
            unknown.append(key)
    if unmodelled:
        warnings.warn(f"model config {name!r}: not modelled (the standard block is assumed): "
                      f"{', '.join(unmodelled)}", ModelConfigWarning, stacklevel=3)
    if unknown:
        warnings.warn(f"model config {name!r}: not understood (ignored): {', '.join(unknown)}",
                      ModelConfigWarning, stacklevel=3)


def show_warning_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                      file: TextIO | None = None, line: str | None = None) -> None:
    """`warnings.showwarning` for the CLI: a ModelConfigWarning is one line on stderr, others as usual."""
    if issubclass(category, ModelConfigWarning):
        print(f"infraplan: warning: {message}", file=file or sys.stderr)
    else:
        _SHOW_WARNING(message, category, filename, lineno, file, line)


_GATED_ACTIVATIONS = {"silu", "swiglu", "geglu", "swish"}
_DROPOUT_FAMILIES = {"gpt2", "opt", "bloom", "xglm"}  # trained with hidden and attention dropout
_GATED_FAMILIES = {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "gemma", "gemma2", "qwen3", "qwen3_moe"}


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
    # attention over part of the sequence, sinks, multi-token prediction
    sliding_window: int = Field(0, ge=0, description="keys of a sliding-window layer (0: none)")
    num_sliding_layers: int = Field(0, ge=0)
    attention_sinks: bool = False
    clamped_swiglu: bool = Field(False, description="GPT-OSS `swiglu_limit`: clamped SwiGLU with alpha and +1 "
                                 "(element-wise passes, `ops.layer`)")
    linear_biases: bool = Field(False, description="`attention_bias`: biases on the projections (and GPT-OSS's "
                                "experts), added as element-wise passes")
    num_mtp_layers: int = Field(0, ge=0, description="multi-token-prediction modules (not in num_layers)")
    # group-limited routing (1, 1: none)
    expert_groups: int = Field(1, gt=0, description="routed-expert groups (HF n_group)")
    expert_groups_per_token: int = Field(1, gt=0, description="groups a token's experts come from (topk_group)")

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
    def uses_dropout(self) -> bool:
        return self.model_type in _DROPOUT_FAMILIES

    @property
    def ffn_matrices(self) -> int:
        return 3 if self.gated_mlp else 2

    def attention_params_per_layer(self) -> int:
        """Q, K, V, output projections (MLA: down and up projections; DeepSeek-V2 eq. 9-14), plus sinks."""
        h, heads = self.hidden_size, self.num_heads
        sinks = heads if self.attention_sinks else 0
        if self.is_mla:
            nope = self.head_dim - self.qk_rope_head_dim
            q_proj = (h * self.q_lora_rank + self.q_lora_rank * heads * self.head_dim if self.q_lora_rank
                      else h * heads * self.head_dim)
            kv_proj = (h * (self.kv_lora_rank + self.qk_rope_head_dim)
                       + self.kv_lora_rank * heads * (nope + self.v_head_dim))
            return q_proj + kv_proj + heads * self.v_head_dim * h + sinks
        q_out = heads * self.head_dim
        kv_out = 2 * self.num_kv_heads * self.head_dim
        return self.hidden_size * (q_out + kv_out) + q_out * self.hidden_size + sinks

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

    def layer_kinds(self) -> tuple[tuple[TransformerShape, int], ...]:
        """(shape of one layer kind, layers of it): the shape itself when every layer is alike; else the
        routed layers and the dense-FFN layers, each as a shape whose every layer is of that kind."""
        if not self.num_dense_layers:
            return ((self, self.num_layers),)
        routed = self.model_copy(update={"num_layers": self.num_routed_layers, "num_dense_layers": 0,
                                         "dense_ffn_hidden_size": 0, "num_sliding_layers": 0})
        dense = self.model_copy(update={"num_layers": self.num_dense_layers, "num_dense_layers": 0,
                                        "dense_ffn_hidden_size": 0, "num_sliding_layers": 0, "num_experts": 1,
                                        "experts_per_token": 1, "ffn_hidden_size": self.dense_ffn_hidden_size,
                                        "num_shared_experts": 0, "shared_ffn_hidden_size": 0,
                                        "expert_groups": 1, "expert_groups_per_token": 1})
        return ((routed, self.num_routed_layers), (dense, self.num_dense_layers))


def _first(config: dict[str, Any], field: str) -> Any:
    for key in _ALIASES[field]:
        if config.get(key) is not None:
            return config[key]
    return None


def _int(config: dict[str, Any], key: str) -> int:
    value = config.get(key)
    return 0 if value is None or value is False else int(value)


def _num_dense_layers(config: dict[str, Any], layers: int, experts: int) -> int:
    """Layers with a dense FFN in an MoE model (DeepSeek and Qwen-MoE placement rules, module docstring)."""
    if experts <= 1:
        return 0
    first_k = _int(config, "first_k_dense_replace")
    freq = _int(config, "moe_layer_freq") or 1
    step = _int(config, "decoder_sparse_step") or 1
    mlp_only = {int(i) for i in config.get("mlp_only_layers") or []}
    moe = [i >= first_k and i % freq == 0 and (i + 1) % step == 0 and i not in mlp_only for i in range(layers)]
    return layers - sum(moe)


def _read_frontier(config: dict[str, Any], layers: int, experts: int) -> dict[str, Any]:
    """TransformerShape fields of MLA, shared experts, dense layers, sliding windows, sinks and MTP."""
    fields: dict[str, Any] = {}
    mla = ("kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim")
    if _int(config, "kv_lora_rank"):
        missing = [key for key in mla if not _int(config, key)]
        if missing:
            raise InputError(f"model config with kv_lora_rank (MLA) lacks {', '.join(missing)}")
        rope = _int(config, "qk_rope_head_dim")
        fields.update(q_lora_rank=_int(config, "q_lora_rank"), kv_lora_rank=_int(config, "kv_lora_rank"),
                      qk_rope_head_dim=rope, head_dim=_int(config, "qk_nope_head_dim") + rope,
                      v_head_dim_override=_int(config, "v_head_dim"))
    elif _int(config, "v_head_dim"):
        fields["v_head_dim_override"] = _int(config, "v_head_dim")
    if experts > 1:
        shared = _int(config, "n_shared_experts") or _int(config, "num_shared_experts")
        moe_ffn = _first(config, "moe_ffn_hidden_size") or _first(config, "ffn_hidden_size")
        shared_width = _int(config, "shared_expert_intermediate_size") or shared * int(moe_ffn or 0)
        fields.update(num_shared_experts=shared or (1 if shared_width else 0), shared_ffn_hidden_size=shared_width)
        dense = _num_dense_layers(config, layers, experts)
        if dense:
            fields.update(num_dense_layers=dense, dense_ffn_hidden_size=int(_first(config, "ffn_hidden_size") or 0))
    window = _int(config, "sliding_window")
    types = config.get("layer_types")
    if window and isinstance(types, list):
        sliding = sum(t == "sliding_attention" for t in types)
    elif window and config.get("use_sliding_window") is not False:
        sliding = layers
    else:
        sliding = 0
    if sliding:
        fields.update(sliding_window=window, num_sliding_layers=sliding)
    fields["attention_sinks"] = str(config.get("model_type")) == "gpt_oss"
    fields["num_mtp_layers"] = _int(config, "num_nextn_predict_layers")
    fields["clamped_swiglu"] = not _off(config.get("swiglu_limit"))
    fields["linear_biases"] = config.get("attention_bias") is True
    groups, chosen = _int(config, "n_group"), _int(config, "topk_group")
    method = config.get("topk_method")
    if experts > 1 and groups > 1 and 0 < chosen < groups and (method is None or method in _GROUP_LIMITED_METHODS):
        fields.update(expert_groups=groups, expert_groups_per_token=chosen)
    return fields


def shape_from_hf_config(config: dict[str, Any], name: str) -> TransformerShape:
    """Normalise a Hugging Face config dict (any supported family) into a TransformerShape."""
    if not isinstance(config, dict):
        raise InputError(f"model config {name!r} must be a JSON/YAML object")
    _check_keys(config, name)
    model_type = str(config.get("model_type", "unknown"))
    hidden = _first(config, "hidden_size")
    layers = _first(config, "num_layers")
    heads = _first(config, "num_heads")
    missing = [f for f, v in (("hidden_size", hidden), ("num_hidden_layers", layers),
                              ("num_attention_heads", heads)) if v is None]
    if missing:
        raise InputError(f"model config {name!r} lacks {', '.join(missing)}")
    multi_query = config.get("multi_query") is True  # falcon/santacoder style: one KV head
    kv_heads = 1 if multi_query else (_first(config, "num_kv_heads") or heads)
    ffn = _first(config, "ffn_hidden_size") or 4 * hidden
    activation = str(config.get("hidden_act") or config.get("activation_function")
                     or config.get("hidden_activation") or "").lower()
    gated = model_type in _GATED_FAMILIES or activation in _GATED_ACTIVATIONS
    experts = _first(config, "num_experts") or 1
    moe_ffn = _first(config, "moe_ffn_hidden_size")
    # Families without a position limit (BLOOM uses ALiBi) get their training length, else 2048.
    max_seq = _first(config, "max_seq_len") or 2048
    tied_default = model_type in {"gpt2", "opt", "bloom", "xglm", "gemma", "gemma2"}
    try:
        frontier = _read_frontier(config, int(layers), int(experts))
        return TransformerShape(
            name=name,
            model_type=model_type,
            hidden_size=int(hidden),
            num_layers=int(layers),
            num_heads=int(heads),
            num_kv_heads=int(kv_heads),
            head_dim=int(frontier.pop("head_dim", None) or config.get("head_dim") or hidden // heads),
            ffn_hidden_size=int(moe_ffn if (moe_ffn and experts > 1) else ffn),
            vocab_size=int(_first(config, "vocab_size") or 32000),
            max_seq_len=int(max_seq),
            gated_mlp=gated,
            num_experts=int(experts),
            experts_per_token=int(_first(config, "experts_per_token") or 1) if int(experts) > 1 else 1,
            tied_embeddings=bool(config.get("tie_word_embeddings", tied_default)),
            source=str(config.get("source", "")),
            **frontier,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"model config {name!r} is invalid: {where}: {err['msg']}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"model config {name!r} is invalid: {exc}") from None
