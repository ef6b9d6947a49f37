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
counted apart (`catalog.model_config_nested`).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from pydantic import ValidationError

from infraplan.catalog.frontier_config import (
    CLAMPED_SWIGLU_FAMILIES,
    NO_WINDOW_FAMILIES,
    check_layer_lists,
    layer_notes,
    read_frontier,
)
from infraplan.catalog.model_config_keys import (
    HARMLESS_KEYS,
    KEY_ALIASES,
    UNMODELLED_KEYS,
    ModelConfigWarning,
    absent_moe_defaults,
    aliased_value,
    check_keys,
    is_off,
    known_keys,
    moe_default_text,
)
from infraplan.catalog.model_config_llama4 import LLAMA4_FAMILIES, read_llama4
from infraplan.catalog.model_config_nested import text_part
from infraplan.catalog.model_config_quantization import with_checkpoint_scope
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.errors import InputError
from infraplan.limits import MAX_MODEL_LAYERS, MAX_MODEL_WIDTH, MAX_VOCABULARY

__all__ = [
    "HARMLESS_KEYS", "UNMODELLED_KEYS", "ModelConfigWarning", "TransformerShape", "known_keys",
    "shape_from_hf_config",
]

_GATED_ACTIVATIONS = {"silu", "swiglu", "geglu", "swish"}
# Families whose transformers model is dense (transformers 4.57.1: no "expert" in modeling_llama.py,
# modeling_mistral.py, modeling_qwen2.py, modeling_qwen3.py, modeling_gemma.py, modeling_gemma2.py, modeling_gemma3.py,
# modeling_cohere2.py, modeling_gpt2.py, modeling_opt.py, modeling_bloom.py, modeling_xglm.py, modeling_gpt_neox.py,
# modeling_falcon.py):
# an expert count in their config changes nothing there, so it is priced dense and named (`_warn_unread`).
_DENSE_FAMILIES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "gemma3_text",
                             "cohere2", "gpt2", "opt", "bloom", "xglm", "gpt_neox", "falcon"})
# MoE keys read only where the config has more than one expert (`frontier_config.read_frontier`,
# `shape_from_hf_config`), with the value that means "no change" besides null / 0 / empty: on a dense config any other
# value is named, not dropped.
_MOE_ONLY_KEYS: dict[str, Any] = {
    "moe_intermediate_size": None, "n_shared_experts": None, "num_shared_experts": None,
    "shared_expert_intermediate_size": None, "first_k_dense_replace": None, "moe_layer_freq": 1,
    "decoder_sparse_step": 1, "mlp_only_layers": None, "num_experts_per_tok": 1, "moe_top_k": 1,
    "experts_per_token": 1, "n_group": 1, "topk_group": 1,
}
# Families whose MLP is gated whatever the activation's name, or with none named (down(act(gate(x)) * up(x)) in
# transformers 4.57.1: Gemma3MLP, modeling_gemma3.py:110-123, gated gelu_pytorch_tanh; Cohere2MLP,
# modeling_cohere2.py:245-257; DeepseekV2MLP, modeling_deepseek_v2.py:166-172, hidden_act default silu; gpt_oss's
# experts' fused gate_up_proj)
_GATED_FAMILIES = {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "gemma", "gemma2", "gemma3", "gemma3_text",
                   "cohere2", "qwen3", "qwen3_moe", "deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2",
                   "gpt_oss", *LLAMA4_FAMILIES}
# Families whose configuration ties the LM head to the embedding unless the file says otherwise: those passing
# tie_word_embeddings=True (transformers 4.57.1 configuration_gemma.py:128, _gemma2.py:136, _gemma3.py:186,
# _cohere2.py:173) and those taking PretrainedConfig's default True (configuration_utils.py:220: gpt2, opt, bloom,
# xglm, falcon state none); the rest pass False (llama, mistral, qwen2/3, gpt_neox, the MoE families).
_TIED_FAMILIES = frozenset({"gpt2", "opt", "bloom", "xglm", "falcon", "gemma", "gemma2", "gemma3", "gemma3_text",
                            "cohere2"})


def _multi_query(config: dict[str, Any], model_type: str) -> bool:
    """One KV head (falcon / santacoder style). Falcon as transformers 4.57.1 reads it: `multi_query` defaults to
    true (configuration_falcon.py:159) and is ignored under `new_decoder_architecture` (Falcon-40B / 180B), which
    runs `num_kv_heads` (modeling_falcon.py:227)."""
    if model_type == "falcon":
        return config.get("new_decoder_architecture") is not True and config.get("multi_query", True) is True
    return config.get("multi_query") is True


_MAX_POSITIONS = 2**31 - 1  # the largest max_position_embeddings (or scaled context) a config may state


def _context_positions(config: dict[str, Any], model_type: str, positions: int, name: str) -> int:
    """The context a serving engine admits for this config: `max_position_embeddings` times the `rope_scaling`
    factor of a scaled RoPE, as vLLM derives `max_model_len` (vllm 0.18.0 config/model.py `_get_and_verify_max_len`,
    :2001-2032): every rope type but default, su, longrope and llama3 (whose configs state the scaled length already)
    multiplies it by `factor`; YaRN multiplies its `original_max_position_embeddings`; Gemma 3's is already scaled.
    Qwen3 with YaRN factor 4 on its 32,768 original positions: 131,072 (its 40,960 before, which refused such
    requests); the shipped DeepSeek-V3 / Kimi K2 / GPT-OSS configs state the product already (163,840 / 131,072).
    A product above the largest `max_position_embeddings` a config may state (2^31 - 1, `_SIZES`) is refused naming
    the key: a factor of 1e300 set a 2,147,483,647-token context, silently."""
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
    if context > _MAX_POSITIONS:
        raise InputError(f"model config {name!r}: rope_scaling factor {factor:g} on {int(base):,} positions gives a "
                         f"context of {context:.3g} tokens, above the {_MAX_POSITIONS:,} a config may state")
    return int(context)


# The sizes a config sets, each (internal field or key, smallest, largest): a value that is not a whole number in
# range (a string, a bool, 4096.5, 0, 1e30) is refused with its key, never read as a default or a huge model.
_SIZES: tuple[tuple[str, int, int], ...] = (
    ("hidden_size", 1, MAX_MODEL_WIDTH), ("num_layers", 1, MAX_MODEL_LAYERS), ("num_heads", 1, MAX_MODEL_WIDTH),
    ("num_kv_heads", 1, MAX_MODEL_WIDTH), ("ffn_hidden_size", 1, MAX_MODEL_WIDTH),
    ("moe_ffn_hidden_size", 1, MAX_MODEL_WIDTH), ("vocab_size", 1, MAX_VOCABULARY),
    ("max_seq_len", 1, _MAX_POSITIONS), ("num_experts", 0, MAX_MODEL_WIDTH), ("experts_per_token", 0, MAX_MODEL_WIDTH),
    ("head_dim", 0, MAX_MODEL_WIDTH),  # 0: derived from hidden / heads, as transformers' Llama reads it
)


# The optional sizes the frontier reader takes (`frontier_config.read_frontier`), each (key, largest): null or false
# is off, any other value must be a whole number from 0 (a string, 1024.5 or -5 was read by int() or raised a
# traceback).
_OPTIONAL_SIZES: tuple[tuple[str, int], ...] = (
    *((key, MAX_MODEL_WIDTH) for key in (
        "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "n_shared_experts",
        "num_shared_experts", "shared_expert_intermediate_size", "n_group", "topk_group")),
    *((key, MAX_MODEL_LAYERS) for key in (
        "first_k_dense_replace", "moe_layer_freq", "decoder_sparse_step", "num_nextn_predict_layers",
        "max_window_layers", "sliding_window_pattern")),
    ("intermediate_size_mlp", MAX_MODEL_WIDTH),
    ("sliding_window", 2**31 - 1),
)


def _is_whole(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and value == int(value))


def _check_sizes(config: dict[str, Any], name: str) -> None:
    """InputError naming the first size key whose value is not a whole number within its bounds (`_SIZES`,
    `_OPTIONAL_SIZES`), or a `tie_word_embeddings`, `mlp_only_layers`, `layer_types` or `rope_scaling` factor this
    reader cannot take as transformers would (a string "false" was read as true)."""
    for field, lo, hi in _SIZES:
        keys = KEY_ALIASES.get(field, (field,))
        key = next((k for k in keys if config.get(k) is not None), None)
        if key is None:
            continue
        value = config[key]
        if not _is_whole(value) or not lo <= int(value) <= hi:
            raise InputError(f"model config {name!r}: {key} must be a whole number from {lo:,} to {hi:,}, "
                             f"got {value!r}")
    for key, hi in _OPTIONAL_SIZES:
        value = config.get(key)
        if value is not None and value is not False and not (_is_whole(value) and 0 <= int(value) <= hi):
            raise InputError(f"model config {name!r}: {key} must be null or a whole number from 0 to {hi:,}, "
                             f"got {value!r}")
    _check_kinds(config, name)


def _check_kinds(config: dict[str, Any], name: str) -> None:
    """The non-size keys whose wrong type changed the price silently or raised a traceback (`_check_sizes`)."""
    experts, chosen = aliased_value(config, "num_experts"), aliased_value(config, "experts_per_token")
    if experts is not None and int(experts) > 1 and chosen is not None and int(chosen) < 1:  # was read as 1
        raise InputError(f"model config {name!r}: an MoE model of {int(experts)} experts routes each token to at "
                         f"least 1, got num_experts_per_tok {chosen!r}")
    tied = config.get("tie_word_embeddings")
    if tied is not None and not isinstance(tied, bool):  # transformers PretrainedConfig: a bool
        raise InputError(f"model config {name!r}: tie_word_embeddings must be true or false, got {tied!r}")
    types, layers = config.get("layer_types"), aliased_value(config, "num_layers")
    check_layer_lists(config, layers, name)  # mlp_only_layers, mlp_layer_types
    # transformers 4.57.1 configuration_utils.py:1364-1380 (layer_type_validation): a list of ALLOWED_LAYER_TYPES,
    # one per layer
    if types is not None and layers is not None and not (isinstance(types, list) and len(types) == int(layers)
                                                         and all(isinstance(t, str) for t in types)):
        got = f"{len(types)} entries" if isinstance(types, list) else repr(types)[:60]
        raise InputError(f"model config {name!r}: layer_types must be a list of one attention type per layer "
                         f"({int(layers):,}), got {got}")
    scaling = config.get("rope_scaling")
    factor = scaling.get("factor") if isinstance(scaling, dict) else None
    if factor is not None and not (isinstance(factor, int | float) and not isinstance(factor, bool)
                                   and math.isfinite(factor) and factor > 0):
        raise InputError(f"model config {name!r}: rope_scaling factor must be a positive number, got {factor!r}")


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


# Families whose FFN is 4 x hidden by architecture when no width is stated (transformers: GPT-2 `n_inner` None ->
# 4 * n_embd in GPT2MLP, BLOOM's fixed 4 * hidden_size BloomMLP, Falcon `ffn_hidden_size` None -> 4 * hidden_size).
_FOUR_X_FFN_FAMILIES = frozenset({"gpt2", "bloom", "falcon"})
# MoE by architecture: a config of these families without an expert count is not a dense model (transformers 4.57.1
# configuration_mixtral.py:149-150 defaults num_local_experts 8, top-2; configuration_qwen2_moe.py:193-194 60,
# top-4; configuration_qwen3_moe.py:192-193 128, top-8).
_MOE_FAMILIES = frozenset({"mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2",
                           "gpt_oss", *LLAMA4_FAMILIES})


# A fixed KV-head count of the family's configuration class where a file states none (transformers 4.57.1:
# configuration_mistral.py:123, _mixtral.py:135, _qwen2.py:158, _qwen2_moe.py:177, _qwen3.py:162, _qwen3_moe.py:177,
# _gemma.py:117, _gemma2.py:126, _gemma3.py:176, _deepseek_v3.py:163, _gpt_oss.py:57, _llama4.py:300 (Llama4TextConfig);
# llama, cohere2, deepseek_v2: the head count).
# (not deepseek_v2 / v3 / kimi_k2: their MLA decompresses one K / V head per query head, as this reader prices it)
_KV_HEADS_DEFAULT = {"mistral": 8, "mixtral": 8, "qwen2": 32, "qwen2_moe": 16, "qwen3": 32, "qwen3_moe": 4,
                     "gemma": 16, "gemma2": 4, "gemma3": 4, "gemma3_text": 4, "gpt_oss": 8, "llama4_text": 8}


# Families whose transformers config reads a null KV-head count as the query-head count (recalled of transformers
# 4.57.1, not installed here: MistralConfig.__init__ `if num_key_value_heads is None: num_key_value_heads =
# num_attention_heads`, "for backward compatibility"; MixtralConfig, Qwen2Config and Qwen3Config the same), so a
# file's `"num_key_value_heads": null` is one KV head per query head there, the class default only where the key is
# absent (hL60: the line said "defaults to 8" of a null the tool and transformers both price at 32).
_KV_NULL_AS_HEADS = frozenset({"mistral", "mixtral", "qwen2", "qwen3"})


def _kv_null_text(key: str, model_type: str, heads: int, kv_default: int) -> str:
    """The line for a KV-head count given as null: what is priced and why (`_KV_NULL_AS_HEADS`)."""
    priced = f"{key} null: priced with one KV head per query head ({heads})"
    if model_type in _KV_NULL_AS_HEADS:
        return (f"{priced}, as transformers' {model_type} config reads a null (None -> num_attention_heads, "
                f"recalled of transformers 4.57.1); its default of {kv_default} is for a file without the key")
    return (f"{priced}; transformers' {model_type} config defaults to {kv_default} where the key is absent (what it "
            "makes of a null is not checked here: state the count)")


def _warn_defaults(config: dict[str, Any], name: str, model_type: str, hidden: int) -> None:
    """One line naming each size this reader fills in by itself (nothing silent): the FFN width (4 x hidden, the
    GPT-2 rule), the vocabulary (32,000), an MoE's experts per token (1), an MoE family's expert count (1: dense).
    transformers' config classes default these per family (4.57.1: configuration_mistral.py:118-120 vocab 32,000, FFN
    14,336; configuration_qwen2_moe.py:172 vocab 151,936; Mixtral top-2; LlamaConfig's FFN 11,008, recalled), so a
    config without them is priced on the reader's values, said here."""
    filled: list[str] = []
    experts = None if model_type in _DENSE_FAMILIES else aliased_value(config, "num_experts")  # priced dense
    routed_only = experts is not None and int(experts) > 1 and aliased_value(config, "moe_ffn_hidden_size") is not None
    if aliased_value(config, "ffn_hidden_size") is None and model_type not in _FOUR_X_FFN_FAMILIES and not routed_only:
        filled.append(f"no intermediate_size: the FFN priced at 4 x hidden_size = {4 * hidden:,}")
    if aliased_value(config, "vocab_size") is None:
        filled.append("no vocab_size: priced with 32,000 tokens")
    heads = aliased_value(config, "num_heads")
    kv_default = _KV_HEADS_DEFAULT.get(model_type)
    null_kv = next((k for k in KEY_ALIASES["num_kv_heads"] if k in config), None)  # a key given as null
    if (aliased_value(config, "num_kv_heads") is None and config.get("multi_query") is not True
            and kv_default is not None and kv_default != heads):
        if null_kv is not None:  # (a null is not an absent key: `_kv_null_text`)
            warnings.warn(f"model config {name!r}: {_kv_null_text(null_kv, model_type, heads, kv_default)}",
                          ModelConfigWarning, stacklevel=3)
        else:
            filled.append(f"no num_key_value_heads: priced with one KV head per query head ({heads}), where "
                          f"transformers' {model_type} config defaults to {kv_default}")
    moe_defaults = moe_default_text(config, model_type, experts)
    if moe_defaults:
        filled.append(moe_defaults)
    if experts is not None and int(experts) > 1 and aliased_value(config, "experts_per_token") is None:
        filled.append("no num_experts_per_tok: each token priced through 1 expert")
    if experts is None and model_type in _MOE_FAMILIES:
        filled.append(f"model_type {model_type} without an expert count (num_local_experts / num_experts / "
                      "n_routed_experts): priced as a dense model")
    if filled:
        warnings.warn(f"model config {name!r}: {'; '.join(filled)} (transformers' config class may default "
                      "otherwise: state the key)", ModelConfigWarning, stacklevel=3)


def _warn_unread(config: dict[str, Any], name: str, model_type: str, experts: int) -> None:
    """One line naming each key of this config that the shape does not read (nothing silent): a sliding window on a
    family without one (`NO_WINDOW_FAMILIES`), MoE keys on a dense config, layer types other than full and sliding
    attention, and a `rope_scaling` / `quantization_config` that is not an object."""
    unread: list[str] = []
    if (model_type in NO_WINDOW_FAMILIES and not is_off(config.get("sliding_window"))
            and config.get("use_sliding_window") is not False):
        unread.append(f"sliding_window {config['sliding_window']!r} (transformers' {model_type} model has no "
                      "sliding-window attention: every layer priced with full attention)")
    if experts <= 1:
        moe = [key for key, neutral in _MOE_ONLY_KEYS.items()
               if not is_off(config.get(key)) and config.get(key) != neutral]
        count = aliased_value(config, "num_experts")
        if count is not None and int(count) > 1:  # a dense family's (shape_from_hf_config)
            key = next(k for k in KEY_ALIASES["num_experts"] if config.get(k) is not None)
            unread.append(f"{', '.join([f'{key} {count}', *moe])} (transformers' {model_type} model has no experts: "
                          "priced as a dense model)")
        elif moe:
            unread.append(f"{', '.join(moe)} (MoE keys on a dense config: no expert count above 1)")
    read = {"full_attention", "sliding_attention", *(("chunked_attention",) if model_type in LLAMA4_FAMILIES else ())}
    other = sorted({str(t) for t in config.get("layer_types") or []} - read)
    limit = config.get("swiglu_limit")
    if model_type not in CLAMPED_SWIGLU_FAMILIES and not is_off(limit):
        unread.append(f"swiglu_limit {str(limit)[:20]} (only transformers' GPT-OSS clamps its SwiGLU: priced with "
                      f"{model_type}'s plain activation)")
    if other:
        unread.append(f"layer_types {', '.join(other)[:80]} (priced as full attention)")
    for key in ("rope_scaling", "quantization_config"):
        value = config.get(key)
        if not is_off(value) and not isinstance(value, dict):
            unread.append(f"{key} {str(value)[:40]!r} (not an object)")
    types, readings = layer_notes(config, model_type, int(aliased_value(config, "num_layers") or 0), experts)
    unread.extend([types] if types else [])
    if unread:
        warnings.warn(f"model config {name!r}: not read: {'; '.join(unread)}", ModelConfigWarning, stacklevel=3)
    for line in readings:
        warnings.warn(f"model config {name!r}: {line}", ModelConfigWarning, stacklevel=3)


def shape_from_hf_config(config: dict[str, Any], name: str) -> TransformerShape:
    """Normalise a Hugging Face config dict (any supported family) into a TransformerShape."""
    if not isinstance(config, dict):
        raise InputError(f"model config {name!r} must be a JSON/YAML object")
    config = text_part(config, name)  # a multimodal config's language model (`catalog.model_config_nested`)
    check_keys(config, name)
    _check_sizes(config, name)
    model_type = str(config.get("model_type", "unknown"))
    hidden = aliased_value(config, "hidden_size")
    layers = aliased_value(config, "num_layers")
    heads = aliased_value(config, "num_heads")
    missing = [f for f, v in (("hidden_size", hidden), ("num_hidden_layers", layers),
                              ("num_attention_heads", heads)) if v is None]
    if missing:
        raise InputError(f"model config {name!r} lacks {', '.join(missing)}")
    _warn_defaults(config, name, model_type, int(hidden))
    multi_query = _multi_query(config, model_type)
    kv_heads = 1 if multi_query else (aliased_value(config, "num_kv_heads") or heads)
    ffn = aliased_value(config, "ffn_hidden_size") or 4 * hidden
    activation = str(config.get("hidden_act") or config.get("activation_function")
                     or config.get("hidden_activation") or "").lower()
    gated = model_type in _GATED_FAMILIES or activation in _GATED_ACTIVATIONS
    experts = 1 if model_type in _DENSE_FAMILIES else aliased_value(config, "num_experts") or 1
    _warn_unread(config, name, model_type, int(experts))
    config = {**config, **absent_moe_defaults(config, model_type, experts)}  # transformers' defaults, said above
    moe_ffn = aliased_value(config, "moe_ffn_hidden_size")
    # Families without a position limit (BLOOM uses ALiBi) get their training length, else 2048.
    max_seq = aliased_value(config, "max_seq_len") or 2048
    context = _context_positions(config, model_type, int(max_seq), name)  # before `try`: its error is one line
    llama4 = read_llama4(config, int(layers), int(experts), name) if model_type in LLAMA4_FAMILIES else {}
    tied_default = model_type in _TIED_FAMILIES
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
