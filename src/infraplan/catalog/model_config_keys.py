"""The config-key tables of the Hugging Face reader (`catalog.model_config`): nothing is ignored silently.

Every key of a config falls in one of three documented tables:
* `KEY_ALIASES` and `_MODELLED_KEYS`: read into the shape;
* `HARMLESS_KEYS`: known not to change FLOPs, bytes or memory at the resolution modelled here (token ids,
  dtypes, dropout rates, norm epsilons, rotary base and scaling, biases below 0.1 % of the parameters, ...);
* `UNMODELLED_KEYS`: change the math but are not modelled yet (chunked attention, a narrow embedding). Each
  has a predicate: a value that leaves the standard block unchanged (e.g. `attention_chunk_size: null`) is not
  reported.
A config with unmodelled or unknown keys still loads, and one `ModelConfigWarning` line names them.

The MoE keys that change only element-wise work on the T x E router scores or the T x k weights are below the
modelled resolution and so in `HARMLESS_KEYS`: `scoring_func` (softmax / sigmoid), `norm_topk_prob`,
`routed_scaling_factor` (one multiply of the combined output), `router_jitter_noise`; `ep_size` is a
deployment hint of the checkpoint, not the model. Sources of the key names: the `config.json` files of the
families in catalog/models (Hugging Face transformers configuration classes).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

# For each internal field, the config keys that mean it, in order of preference.
KEY_ALIASES: dict[str, tuple[str, ...]] = {
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
# Keys read outside `KEY_ALIASES`.
_MODELLED_KEYS = frozenset({
    "model_type", "hidden_act", "activation_function", "hidden_activation", "multi_query", "head_dim",
    "new_decoder_architecture",  # Falcon: num_kv_heads instead of multi_query (model_config._multi_query)
    "tie_word_embeddings", "source",
    # frontier families (see the `catalog.model_config` docstring)
    "kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "n_shared_experts",
    "num_shared_experts", "shared_expert_intermediate_size", "first_k_dense_replace", "moe_layer_freq",
    "decoder_sparse_step", "mlp_only_layers", "mlp_layer_types", "num_nextn_predict_layers", "sliding_window",
    "use_sliding_window",
    "layer_types", "n_group", "topk_group", "topk_method", "swiglu_limit", "attention_bias", "max_window_layers",
    "sliding_window_pattern",
    # DeepSeek Sparse Attention (DeepSeek-V3.2, model_type deepseek_v32): the lightning indexer and the index_topk keys
    # the MLA core attends (`ops.sparse_attention`; vLLM 0.12.0 platforms/cuda.py:173 selects sparse MLA by this key)
    "index_topk", "index_n_heads", "index_head_dim",
    "quantization_config",  # the stored format and scope, `catalog.model_config_quantization` (what it cannot: warned)
    # Llama 4 (`catalog.model_config_llama4`); `attention_chunk_size` and `use_qk_norm` there, unmodelled elsewhere
    "interleave_moe_layer_step", "moe_layers", "intermediate_size_mlp", "no_rope_layer_interval",
})
# Llama 4's families, whose `attention_chunk_size` / `use_qk_norm` are read (`catalog.model_config_llama4`, which
# re-exports this one set: it imports from here, so the set lives here)
LLAMA4_FAMILIES = frozenset({"llama4", "llama4_text"})


def _read_by_llama4(value: Any, config: dict[str, Any]) -> bool:
    return is_off(value) or str(config.get("model_type")) in LLAMA4_FAMILIES


def is_off(value: Any) -> bool:
    """A value that switches a feature off: null, false, 0, empty."""
    return value is None or value is False or value == 0 or value in ("", [], {})


def _equals_hidden(value: Any, config: dict[str, Any]) -> bool:
    return is_off(value) or value == aliased_value(config, "hidden_size")


def aliased_value(config: dict[str, Any], field: str) -> Any:
    """The value of an internal field: the first of its `KEY_ALIASES` keys the config sets (None: none)."""
    for key in KEY_ALIASES[field]:
        if config.get(key) is not None:
            return config[key]
    return None


# Keys that change the math but are not modelled: key -> "this value leaves the standard block unchanged".
UNMODELLED_KEYS: dict[str, Callable[[Any, dict[str, Any]], bool]] = {
    # chunked local attention: read for Llama 4 (`catalog.model_config_llama4`), which transformers' other families lack
    "attention_chunk_size": lambda v, c: _read_by_llama4(v, c),
    # an embedding narrower than the model (OPT-350m) adds two projections
    "word_embed_proj_dim": _equals_hidden,
    # an encoder-decoder (T5, BART: transformers PretrainedConfig.is_encoder_decoder) adds an encoder stack and
    # cross-attention; only the decoder-only block is modelled (a T5 config was priced as its decoder, silently)
    "is_encoder_decoder": lambda v, c: is_off(v),
    # per-head query / key RMSNorm (Llama 4 `use_qk_norm`, Persimmon / OLMo-style `qk_layernorm`): priced for the
    # families that have it without a key (`ops.qk_norm.QK_NORM_MODELS`, Qwen3) and Llama 4's `use_qk_norm`
    # (`catalog.model_config_llama4`); elsewhere named (these keys were silently harmless)
    "use_qk_norm": lambda v, c: _read_by_llama4(v, c),
    "qk_layernorm": lambda v, c: is_off(v),
}

# The `model_type` families this reader has been checked against (the shipped configs, the families its rules name:
# gating, tied embeddings, dropout, sliding-window patterns, MLA, sinks); another family's config is read as a
# standard decoder block from its keys, and one warning line says so.
KNOWN_FAMILIES = frozenset({
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3",
    "gemma3_text", "cohere2", "gpt2", "opt", "bloom", "xglm", "gpt_neox", "falcon", "deepseek_v2", "deepseek_v3",
    "deepseek_v32", "kimi_k2", "gpt_oss", "t5", "llama4", "llama4_text",
})

# Keys known not to change the modelled FLOPs, bytes or memory.
HARMLESS_KEYS = frozenset({
    # bookkeeping, tokenizer and generation
    "architectures", "transformers_version", "torch_dtype", "dtype", "_name_or_path", "auto_map", "bos_token_id",
    "eos_token_id", "pad_token_id", "unk_token_id", "sep_token_id", "decoder_start_token_id", "use_cache",
    "return_dict", "is_decoder", "_remove_final_layer_norm",
    "cache_implementation",  # generate()'s cache class (Gemma 2: "hybrid"); the windows are read from sliding_window
    "output_router_logits", "router_aux_loss_coef", "aux_loss_alpha", "seq_aux", "router_z_loss_coef",
    "summary_type", "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
    "task_specific_params", "id2label", "label2id", "bad_words_ids", "forced_eos_token_id", "prefix",
    # initialisation, numerics, dropout rates (the dropout *masks* follow the family, see _DROPOUT_FAMILIES)
    "initializer_range", "init_std", "rms_norm_eps", "layer_norm_eps", "layer_norm_epsilon", "norm_epsilon",
    "attention_dropout", "hidden_dropout", "dropout", "activation_dropout", "attn_pdrop", "embd_pdrop",
    "resid_pdrop", "layerdrop", "attention_softmax_in_fp32", "scale_attn_weights", "scale_attn_by_inverse_layer_idx",
    "reorder_and_upcast_attn", "layer_norm_elementwise_affine", "do_layer_norm_before", "scale_embedding",
    "embedding_multiplier", "logits_scaling", "final_logit_softcapping", "attn_logit_softcapping",
    "residual_multiplier", "attention_multiplier",  # Granite's other two scalars (the softmax scale; the residual's)
    "query_pre_attn_scalar", "rope_local_base_freq",  # Gemma 3: the sliding layers' RoPE base
    "n_ctx",  # GPT-2: the context, n_positions' twin (configuration_gpt2.py; n_positions is read)
    # positions: rotary base/scaling/fraction and ALiBi change element-wise work only
    "rope_theta", "rope_scaling", "original_max_position_embeddings", "rotary_pct", "rotary_emb_base",
    "partial_rotary_factor", "rope_interleaved",
    "position_embedding_type", "no_rope_layers", "alibi", "offset_alibi", "use_parallel_residual", "rotary_dim",
    # biases (< 0.1 % of parameters), residual wiring, Megatron fusion flags
    "mlp_bias", "enable_bias", "bias", "use_bias", "parallel_attn", "parallel_residual",
    "apply_residual_connection_post_layernorm", "bias_dropout_fusion",
    "masked_softmax_fusion", "skip_bias_add", "skip_bias_add_qkv", "pretraining_tp", "slow_but_exact",
    # MoE routing details (element-wise on router scores; module docstring): normalisation, scoring, scaling
    "norm_topk_prob", "routed_scaling_factor", "scoring_func", "ep_size", "router_jitter_noise",
    # GPT-OSS: pre-training context (rope scaling handles the rest)
    "initial_context_length",
    # Llama 4: the NoPE layers' query temperature (element-wise, transformers modeling_llama4.py:362-370), a
    # checkpoint-conversion flag
    "attn_temperature_tuning", "floor_scale", "attn_scale", "for_llm_compressor",
})


# Hugging Face transformers' runtime attention switch, saved in some config.json files (PretrainedConfig
# `attn_implementation`: eager | sdpa | flash_attention_2 | flex_attention ...): which kernel transformers' own
# modelling code runs, not the model. The stacks priced (Megatron-Core, torchtitan, TensorRT-LLM, vLLM, SGLang) choose
# their own attention kernels and do not read it; `eager` (the unfused s x s scores) is said, as `train --attention
# unfused` prices that (hW75: it was "not understood (ignored)"); the fused values are harmless.
RUNTIME_ATTENTION_KEY = "attn_implementation"


def runtime_attention_note(value: Any, name: str) -> str | None:
    """The line a config's `attn_implementation: eager` gets (`RUNTIME_ATTENTION_KEY`); None for a fused value."""
    if str(value).lower() != "eager":
        return None
    return (f"model config {name!r}: attn_implementation 'eager' is Hugging Face transformers' runtime choice of "
            "its unfused attention (full s x s scores), not the model's: the stack priced runs its own attention "
            "kernel (fused: Megatron-Core, torchtitan, TensorRT-LLM, vLLM, SGLang do not read the key); "
            "`train --attention unfused` prices unfused attention's memory and time")


class ModelConfigWarning(UserWarning):
    """A config key that would change the modelled math is not modelled, or a key is not understood."""


def known_keys() -> frozenset[str]:
    """Every config key this reader knows: read into the shape, harmless, or reported as not modelled."""
    aliases = {key for keys in KEY_ALIASES.values() for key in keys}
    return frozenset(aliases | _MODELLED_KEYS | HARMLESS_KEYS | set(UNMODELLED_KEYS))


def check_keys(config: dict[str, Any], name: str) -> None:
    """Warn (one line each) about keys that change the math but are not modelled, and unknown keys."""
    read = known_keys() - set(UNMODELLED_KEYS)
    unmodelled: list[str] = []
    unknown: list[str] = []
    for key, value in config.items():
        if key in read:
            continue
        if key == RUNTIME_ATTENTION_KEY:  # not the model: said where it is the unfused kernel
            if note := runtime_attention_note(value, name):
                warnings.warn(note, ModelConfigWarning, stacklevel=3)
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
    family = config.get("model_type")
    if family is None:  # transformers' AutoConfig needs it; no family rule (gating, tied embeddings) applies here
        warnings.warn(f"model config {name!r}: no model_type: its keys are read as a standard decoder block, without "
                      "a family's rules (gated MLP only from hidden_act, untied embeddings unless "
                      "tie_word_embeddings)", ModelConfigWarning, stacklevel=3)
    elif str(family) not in KNOWN_FAMILIES:
        warnings.warn(f"model config {name!r}: model_type {str(family)[:60]!r} is not a family this reader knows "
                      "(catalog.model_config_keys.KNOWN_FAMILIES); its keys are read as a standard decoder block",
                      ModelConfigWarning, stacklevel=3)


# MoE sizes transformers' config class gives a file that leaves the key out, where the reader's own reading of an absent
# key differs (0 shared experts, no dense layers first, experts as wide as `intermediate_size`, the dense layers' FFN).
# transformers 4.57.1, read in the wheel: configuration_qwen2_moe.py:191-192 (moe_intermediate_size 1408,
# shared_expert_intermediate_size 5632), configuration_qwen3_moe.py:191 (768), configuration_deepseek_v2.py:173, :183
# (n_shared_experts 2, moe_intermediate_size 1407), configuration_deepseek_v3.py:160, :164, :175 (2048, 1, 3); the
# modules built at them: modeling_qwen2_moe.py:599-602, modeling_qwen3_moe.py:223, modeling_deepseek_v2.py:105-112,
# modeling_deepseek_v3.py:166-172, :456 (`layer_idx >= config.first_k_dense_replace`). A null is not an absent key:
# the experts' MLP takes config.intermediate_size for a None (modeling_qwen3_moe.py:202, modeling_deepseek_v3.py:97),
# as read before.
# deepseek_v32 and kimi_k2 (not in transformers 4.57.1; hL64): transformers 5.25.0's DeepseekV32Config, read in the
# wheel, defaults them as V3 does (models/deepseek_v32/configuration_deepseek_v32.py:86 moe_intermediate_size 2048,
# :90 n_shared_experts 1, :121 first_k_dense_replace 3; its first 3 layers dense, :129-132). No transformers release
# has a kimi_k2 class (5.25.0's auto/configuration_auto.py names none); sglang 0.5.23 reads a kimi_k2 config with
# transformers' DeepseekV3Config (srt/utils/hf_transformers/common.py:199, :230-233, `_KimiK2ConfigAlias`; the same
# for deepseek_v32, :201, :223; applied at config.py:281-295), so the V3 defaults again. DeepSeek's / Moonshot's
# remote configuration_deepseek.py (trust_remote_code) was not reachable: ASSUMPTION that it defaults alike.
MOE_KEY_DEFAULTS: dict[str, dict[str, int]] = {
    "qwen2_moe": {"moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632},
    "qwen3_moe": {"moe_intermediate_size": 768},
    "deepseek_v2": {"moe_intermediate_size": 1407, "n_shared_experts": 2},
    "deepseek_v3": {"moe_intermediate_size": 2048, "n_shared_experts": 1, "first_k_dense_replace": 3},
    "deepseek_v32": {"moe_intermediate_size": 2048, "n_shared_experts": 1, "first_k_dense_replace": 3},
    "kimi_k2": {"moe_intermediate_size": 2048, "n_shared_experts": 1, "first_k_dense_replace": 3},
}
# Families whose transformers class places the experts by `mlp_layer_types` (one "dense" / "sparse" per layer), where
# given, and derives it from `first_k_dense_replace` where not (`frontier_config._moe_layers`): the file:line that
# reads it. transformers 5.25.0 models/deepseek_v32/modeling_deepseek_v32.py:593 (configuration_deepseek_v32.py:113,
# :129-132); its kimi_linear reads it alike (modeling_kimi_linear.py:884), a family this reader does not know.
MLP_TYPE_FAMILIES = {"deepseek_v32": "transformers 5.25.0 modeling_deepseek_v32.py:593"}


def listed_mlp_types(config: dict[str, Any]) -> bool:
    """Whether a config's `mlp_layer_types` list places its experts: a list on a `MLP_TYPE_FAMILIES` family (one
    "dense" or "sparse" per layer, `frontier_config.check_layer_lists`). The one test of it: then no
    first_k_dense_replace is read (nor moe_layer_freq); on another family the list is not read (the keys place the
    experts, `frontier_config.layer_notes` names it)."""
    return str(config.get("model_type")) in MLP_TYPE_FAMILIES and isinstance(config.get("mlp_layer_types"), list)
# Whose config class gives a family's defaults, as the warning names it.
_DEFAULTS_CLASS = {"deepseek_v32": "transformers' deepseek_v32 (5.25.0)",
                   "kimi_k2": "transformers' deepseek_v3 (sglang 0.5.23's kimi_k2 class)"}


def absent_moe_defaults(config: dict[str, Any], model_type: str, experts: Any) -> dict[str, int]:
    """The MoE keys an MoE config (more than one expert) of a `MOE_KEY_DEFAULTS` family leaves out, at their
    defaults."""
    if experts is None or int(experts) <= 1:
        return {}
    listed = listed_mlp_types(config)  # (no k read)
    return {key: value for key, value in MOE_KEY_DEFAULTS.get(model_type, {}).items()
            if key not in config and not (listed and key == "first_k_dense_replace")}


def moe_default_text(config: dict[str, Any], model_type: str, experts: Any) -> str | None:
    """`model_config_defaults.warn_defaults`' words for the MoE sizes a config leaves out (`absent_moe_defaults`):
    what is priced."""
    filled = absent_moe_defaults(config, model_type, experts)
    if not filled:
        return None
    who = _DEFAULTS_CLASS.get(model_type) or f"transformers' {model_type}"
    return f"no {', '.join(filled)}: priced at {who} default {', '.join(f'{v:,}' for v in filled.values())}"
