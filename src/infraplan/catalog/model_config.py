"""Read Hugging Face `config.json` files of any common family into one transformer shape.

Families name the same quantity differently (GPT-2 `n_embd`, OPT `ffn_dim`, BLOOM `n_head`, XGLM
`d_model`, ...). `TransformerShape` is the one internal form the performance models use. Only shapes
are read: no weights, no network.

Nothing is ignored silently. Every key of a config falls in one of three documented tables:
* `_ALIASES` and `_MODELLED_KEYS`: read into the shape;
* `HARMLESS_KEYS`: known not to change FLOPs, bytes or memory at the resolution modelled here (token ids,
  dtypes, dropout rates, norm epsilons, rotary base and scaling, biases below 0.1 % of the parameters, ...);
* `UNMODELLED_KEYS`: change the math but are not modelled yet (DeepSeek MLA low-rank attention, shared
  experts, dense first layers, sliding-window or chunked attention, multi-token prediction, ...). Each has a
  predicate: a value that leaves the standard block unchanged (e.g. `n_shared_experts: 0`,
  `sliding_window: null`) is not reported.
A config with unmodelled or unknown keys still loads, and one `ModelConfigWarning` line names them.
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
    "experts_per_token": ("num_experts_per_tok", "moe_top_k"),
    "moe_ffn_hidden_size": ("moe_intermediate_size",),
}
# Keys read outside `_ALIASES`.
_MODELLED_KEYS = frozenset({
    "model_type", "hidden_act", "activation_function", "hidden_activation", "multi_query", "head_dim",
    "tie_word_embeddings", "source",
})


def _off(value: Any) -> bool:
    """A value that switches a feature off: null, false, 0, empty."""
    return value is None or value is False or value == 0 or value in ("", [], {})


def _equals_hidden(value: Any, config: dict[str, Any]) -> bool:
    return _off(value) or value == _first(config, "hidden_size")


# Keys that change the math but are not modelled: key -> "this value leaves the standard block unchanged".
UNMODELLED_KEYS: dict[str, Callable[[Any, dict[str, Any]], bool]] = {
    # DeepSeek-V2/V3 multi-head latent attention (low-rank Q and KV, split rope/nope heads)
    "kv_lora_rank": lambda v, c: _off(v),
    "q_lora_rank": lambda v, c: _off(v),
    "qk_rope_head_dim": lambda v, c: _off(v),
    "qk_nope_head_dim": lambda v, c: _off(v),
    "v_head_dim": lambda v, c: _off(v),
    # shared experts and dense layers among MoE layers
    "n_shared_experts": lambda v, c: _off(v),
    "num_shared_experts": lambda v, c: _off(v),
    "shared_expert_intermediate_size": lambda v, c: _off(v),
    "first_k_dense_replace": lambda v, c: _off(v),
    "moe_layer_freq": lambda v, c: _off(v) or v == 1,
    "decoder_sparse_step": lambda v, c: _off(v) or v == 1,
    "mlp_only_layers": lambda v, c: _off(v),
    "num_nextn_predict_layers": lambda v, c: _off(v),  # multi-token prediction modules
    # attention over part of the sequence
    "sliding_window": lambda v, c: _off(v) or c.get("use_sliding_window") is False,
    "use_sliding_window": lambda v, c: _off(v),
    "layer_types": lambda v, c: isinstance(v, list) and all(t == "full_attention" for t in v),
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
    "attention_bias", "mlp_bias", "enable_bias", "bias", "use_bias", "parallel_attn", "parallel_residual",
    "new_decoder_architecture", "apply_residual_connection_post_layernorm", "bias_dropout_fusion",
    "masked_softmax_fusion", "skip_bias_add", "skip_bias_add_qkv", "pretraining_tp", "slow_but_exact",
    "max_window_layers",
    # MoE routing details (which experts, not how many): top-k normalisation, groups, scaling
    "norm_topk_prob", "n_group", "topk_group", "topk_method", "routed_scaling_factor", "scoring_func",
    "ep_size", "router_jitter_noise",
})


_SHOW_WARNING = warnings.showwarning


class ModelConfigWarning(UserWarning):
    """A config key that would change the modelled math is not modelled, or a key is not understood."""


def _check_keys(config: dict[str, Any], name: str) -> None:
    """Warn (one line each) about keys that change the math but are not modelled, and unknown keys."""
    aliases = {key for keys in _ALIASES.values() for key in keys}
    unmodelled: list[str] = []
    unknown: list[str] = []
    for key, value in config.items():
        if key in aliases or key in _MODELLED_KEYS or key in HARMLESS_KEYS:
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
    """Decoder-only transformer shape, as the performance models need it."""

    name: str
    model_type: str
    hidden_size: int = Field(gt=0)
    num_layers: int = Field(gt=0)
    num_heads: int = Field(gt=0)
    num_kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    ffn_hidden_size: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    max_seq_len: int = Field(gt=0)
    gated_mlp: bool = Field(description="SwiGLU/GeGLU: three FFN matrices instead of two")
    num_experts: int = Field(1, gt=0)
    experts_per_token: int = Field(1, gt=0)
    tied_embeddings: bool = False
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> TransformerShape:
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_attention_heads {self.num_heads} not a multiple of kv heads {self.num_kv_heads}")
        if self.experts_per_token > self.num_experts:
            raise ValueError("num_experts_per_tok exceeds the number of experts")
        return self

    @property
    def is_moe(self) -> bool:
        return self.num_experts > 1

    @property
    def uses_dropout(self) -> bool:
        return self.model_type in _DROPOUT_FAMILIES

    @property
    def ffn_matrices(self) -> int:
        return 3 if self.gated_mlp else 2

    def attention_params_per_layer(self) -> int:
        q_out = self.num_heads * self.head_dim
        kv_out = 2 * self.num_kv_heads * self.head_dim
        return self.hidden_size * (q_out + kv_out) + q_out * self.hidden_size

    def expert_params(self) -> int:
        return self.ffn_matrices * self.hidden_size * self.ffn_hidden_size

    def params_per_layer(self) -> int:
        """Matrix parameters of one layer (norms and biases are <0.1 % and left out)."""
        router = self.hidden_size * self.num_experts if self.is_moe else 0
        return self.attention_params_per_layer() + self.num_experts * self.expert_params() + router

    def embedding_params(self) -> int:
        return self.vocab_size * self.hidden_size * (1 if self.tied_embeddings else 2)

    def total_params(self) -> int:
        return self.num_layers * self.params_per_layer() + self.embedding_params()

    def active_params(self) -> int:
        """Parameters touched per token (MoE: only the routed experts)."""
        dense_layer = self.params_per_layer() - (self.num_experts - self.experts_per_token) * self.expert_params()
        return self.num_layers * dense_layer + self.embedding_params()


def _first(config: dict[str, Any], field: str) -> Any:
    for key in _ALIASES[field]:
        if config.get(key) is not None:
            return config[key]
    return None


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
        return TransformerShape(
            name=name,
            model_type=model_type,
            hidden_size=int(hidden),
            num_layers=int(layers),
            num_heads=int(heads),
            num_kv_heads=int(kv_heads),
            head_dim=int(config.get("head_dim") or hidden // heads),
            ffn_hidden_size=int(moe_ffn if (moe_ffn and experts > 1) else ffn),
            vocab_size=int(_first(config, "vocab_size") or 32000),
            max_seq_len=int(max_seq),
            gated_mlp=gated,
            num_experts=int(experts),
            experts_per_token=int(_first(config, "experts_per_token") or 1) if int(experts) > 1 else 1,
            tied_embeddings=bool(config.get("tie_word_embeddings", tied_default)),
            source=str(config.get("source", "")),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise InputError(f"model config {name!r} is invalid: {where}: {err['msg']}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"model config {name!r} is invalid: {exc}") from None
