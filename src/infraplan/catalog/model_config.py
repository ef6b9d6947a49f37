"""Read Hugging Face `config.json` files of any common family into one transformer shape.

Families name the same quantity differently (GPT-2 `n_embd`, OPT `ffn_dim`, BLOOM `n_head`, XGLM
`d_model`, ...). `TransformerShape` is the one internal form the performance models use. Only shapes
are read: no weights, no network.

Nothing is ignored silently: every key of a config is read into the shape, known to be harmless, or reported
in one `ModelConfigWarning` line as not modelled or not understood. The key tables are in
`catalog.model_config_keys`, the shape and its parameter counts in `catalog.transformer_shape`; their public
names are importable from here as well. The frontier families' keys (MLA, shared experts, dense layers among MoE
layers, sliding windows, sinks, the clamped SwiGLU, MTP, group-limited routing) are read exactly by
`catalog.frontier_config`, Llama 4's (interleaved MoE layers, the shared expert, chunked attention, QK norm) by
`catalog.model_config_llama4`; a multimodal config's language model is read from its `text_config`, its vision tower
counted apart (`catalog.model_config_nested`). Each size is checked against its bound first
(`catalog.model_config_sizes`); what a family defaults to where its file is silent, and the warnings naming each
filled-in size and each key not read, are in `catalog.model_config_defaults`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from infraplan.catalog.frontier_config import read_frontier
from infraplan.catalog.model_config_defaults import (
    DENSE_FAMILIES,
    GATED_FAMILIES,
    TIED_FAMILIES,
    warn_defaults,
    warn_unread,
)
from infraplan.catalog.model_config_keys import (
    HARMLESS_KEYS,
    UNMODELLED_KEYS,
    ModelConfigWarning,
    absent_moe_defaults,
    aliased_value,
    check_keys,
    known_keys,
)
from infraplan.catalog.model_config_llama4 import LLAMA4_FAMILIES, read_llama4
from infraplan.catalog.model_config_nested import text_part
from infraplan.catalog.model_config_quantization import with_checkpoint_scope
from infraplan.catalog.model_config_sizes import MAX_POSITIONS, check_sizes
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.errors import InputError

__all__ = [
    "HARMLESS_KEYS", "UNMODELLED_KEYS", "ModelConfigWarning", "TransformerShape", "known_keys",
    "shape_from_hf_config",
]

_GATED_ACTIVATIONS = {"silu", "swiglu", "geglu", "swish"}


def _multi_query(config: dict[str, Any], model_type: str) -> bool:
    """One KV head (falcon / santacoder style). Falcon as transformers 4.57.1 reads it: `multi_query` defaults to
    true (configuration_falcon.py:159) and is ignored under `new_decoder_architecture` (Falcon-40B / 180B), which
    runs `num_kv_heads` (modeling_falcon.py:227)."""
    if model_type == "falcon":
        return config.get("new_decoder_architecture") is not True and config.get("multi_query", True) is True
    return config.get("multi_query") is True


def _context_positions(config: dict[str, Any], model_type: str, positions: int, name: str) -> int:
    """The context a serving engine admits for this config: `max_position_embeddings` times the `rope_scaling`
    factor of a scaled RoPE, as vLLM derives `max_model_len` (vllm 0.18.0 config/model.py `_get_and_verify_max_len`,
    :2001-2032): every rope type but default, su, longrope and llama3 (whose configs state the scaled length already)
    multiplies it by `factor`; YaRN multiplies its `original_max_position_embeddings`; Gemma 3's is already scaled.
    Qwen3 with YaRN factor 4 on its 32,768 original positions: 131,072 (its 40,960 before, which refused such
    requests); the shipped DeepSeek-V3 / Kimi K2 / GPT-OSS configs state the product already (163,840 / 131,072).
    A product above the largest `max_position_embeddings` a config may state (2^31 - 1,
    `model_config_sizes.MAX_POSITIONS`) is refused naming the key: a factor of 1e300 set a 2,147,483,647-token
    context, silently."""
    scaling = config.get("rope_scaling")
    if not isinstance(scaling, dict) or "gemma3" in model_type:
        return positions
    kind = scaling.get("rope_type") or scaling.get("type") or "default"
    factor = scaling.get("factor")
    if kind in ("default", "su", "longrope", "llama3") or not isinstance(factor, int | float) or not factor > 0:
        return positions
    base = scaling.get("original_max_position_embeddings") if kind == "yarn" else None
    base = base if isinstance(base, int | float) and base > 0 else positions
    context = base * float(factor)
    if context > MAX_POSITIONS:
        raise InputError(f"model config {name!r}: rope_scaling factor {factor:g} on {int(base):,} positions gives a "
                         f"context of {context:.3g} tokens, above the {MAX_POSITIONS:,} a config may state")
    return int(context)


def checkpoint_kv_dtype(config: dict[str, Any]) -> str:
    """The KV-cache dtype a serving engine's kv_cache_dtype "auto" takes from a checkpoint's `quantization_config`:
    fp8 where a ModelOpt config (quant_method modelopt*) names it (`kv_cache_quant_algo` "FP8", or `kv_cache_scheme`
    type float, 8 bits), else the model's activation dtype (bf16); '' without a quantization_config (the serving
    default then follows the weights' dtype, `serving.kv_default`). Sources: SGLang 0.5.9 model_executor/
    model_runner.py:1669-1687 (auto: FP8 where the quant config's kv_cache_quant_algo is FP8, else the model dtype)
    with layers/quantization/modelopt_quant.py:429-452 (FP8) and :997-1024 (FP4) (kv_cache_scheme or the algo);
    vLLM 0.16.0 / 0.18.0 engine/arg_utils.py (resolve_kv_cache_dtype_string) with utils/torch_utils.py:262-342 (modelopt
    only); TensorRT-LLM's kv_cache_config.dtype "auto" reads the checkpoint's kv_cache_quant_algo as AIConfigurator
    0.12.0 models it (aiconfigurator_core sdk/utils.py:1184-1203, sdk/models/helpers.py:644-650)."""
    quant = config.get("quantization_config")
    if not isinstance(quant, dict) or not quant:
        return ""
    if not str(quant.get("quant_method", "")).lower().startswith("modelopt"):
        return "bf16"
    nested = quant.get("quantization")  # the hf_quant_config.json form, as vLLM reads it
    inner: dict[str, Any] = nested if isinstance(nested, dict) else {}
    kv = (inner.get("kv_cache_scheme") or quant.get("kv_cache_scheme") or inner.get("kv_cache_quant_algo")
          or quant.get("kv_cache_quant_algo"))  # vLLM's order (torch_utils.py:274-280)
    if isinstance(kv, dict):
        return "fp8" if kv.get("type") == "float" and kv.get("num_bits") == 8 else "bf16"
    return "fp8" if isinstance(kv, str) and kv.strip().upper() in ("FP8", "FLOAT8") else "bf16"



def shape_from_hf_config(config: dict[str, Any], name: str) -> TransformerShape:
    """Normalise a Hugging Face config dict (any supported family) into a TransformerShape."""
    if not isinstance(config, dict):
        raise InputError(f"model config {name!r} must be a JSON/YAML object")
    config = text_part(config, name)  # a multimodal config's language model (`catalog.model_config_nested`)
    check_keys(config, name)
    check_sizes(config, name)
    model_type = str(config.get("model_type", "unknown"))
    hidden = aliased_value(config, "hidden_size")
    layers = aliased_value(config, "num_layers")
    heads = aliased_value(config, "num_heads")
    missing = [f for f, v in (("hidden_size", hidden), ("num_hidden_layers", layers),
                              ("num_attention_heads", heads)) if v is None]
    if missing:
        raise InputError(f"model config {name!r} lacks {', '.join(missing)}")
    warn_defaults(config, name, model_type, int(hidden))
    multi_query = _multi_query(config, model_type)
    kv_heads = 1 if multi_query else (aliased_value(config, "num_kv_heads") or heads)
    ffn = aliased_value(config, "ffn_hidden_size") or 4 * hidden
    activation = str(config.get("hidden_act") or config.get("activation_function")
                     or config.get("hidden_activation") or "").lower()
    gated = model_type in GATED_FAMILIES or activation in _GATED_ACTIVATIONS
    experts = 1 if model_type in DENSE_FAMILIES else aliased_value(config, "num_experts") or 1
    warn_unread(config, name, model_type, int(experts))
    config = {**config, **absent_moe_defaults(config, model_type, experts)}  # transformers' defaults, said above
    moe_ffn = aliased_value(config, "moe_ffn_hidden_size")
    # Families without a position limit (BLOOM uses ALiBi) get their training length, else 2048.
    max_seq = aliased_value(config, "max_seq_len") or 2048
    context = _context_positions(config, model_type, int(max_seq), name)  # before `try`: its error is one line
    llama4 = read_llama4(config, int(layers), int(experts), name) if model_type in LLAMA4_FAMILIES else {}
    tied_default = model_type in TIED_FAMILIES
    try:
        frontier = {**read_frontier(config, int(layers), int(experts), name), **llama4}
        shape = TransformerShape(
            name=name,
            model_type=model_type,
            hidden_size=int(hidden),
            num_layers=int(layers),
            num_heads=int(heads),
            num_kv_heads=int(kv_heads),
            head_dim=int(frontier.pop("head_dim", None) or config.get("head_dim") or hidden // heads),
            ffn_hidden_size=int(moe_ffn if (moe_ffn and experts > 1) else ffn),
            vocab_size=int(aliased_value(config, "vocab_size") or 32000),
            max_seq_len=context,
            gated_mlp=gated,
            num_experts=int(experts),
            experts_per_token=int(aliased_value(config, "experts_per_token") or 1) if int(experts) > 1 else 1,
            tied_embeddings=bool(config.get("tie_word_embeddings", tied_default)),
            source=str(config.get("source", "")),
            checkpoint_kv_dtype=checkpoint_kv_dtype(config),
            **frontier,
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = "".join(f"{p}: " for p in err["loc"])
        raise InputError(f"model config {name!r} is invalid: {where}{err['msg'].removeprefix('Value error, ')}") \
            from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"model config {name!r} is invalid: {exc}") from None
    return with_checkpoint_scope(shape, config, name)  # the weights its quantization_config stores quantised
