"""Read Hugging Face `config.json` files of any common family into one transformer shape.

Families name the same quantity differently (GPT-2 `n_embd`, OPT `ffn_dim`, BLOOM `n_head`, XGLM
`d_model`, ...). `TransformerShape` is the one internal form the performance models use. Only shapes
are read: no weights, no network.
"""

from __future__ import annotations

from typing import Any

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
    activation = str(config.get("hidden_act") or config.get("activation_function") or "").lower()
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
