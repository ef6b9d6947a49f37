"""What each Hugging Face family's configuration class defaults to where a `config.json` is silent, and the warnings
that name every size `catalog.model_config.shape_from_hf_config` fills in by itself or every key it does not read
(nothing silent: one `ModelConfigWarning` line each).

The tables follow transformers 4.57.1 (the configuration_*.py and modeling_*.py lines are cited at each): the dense
families, the gated-MLP families, the families tying the LM head to the embedding, the MoE families, the FFN width
of 4 x hidden and the KV-head counts a family's class sets. Moved out of catalog/model_config.py (hD, session 70),
unchanged.
"""

from __future__ import annotations

import warnings
from typing import Any

from infraplan.catalog.frontier_config import (
    CLAMPED_SWIGLU_FAMILIES,
    NO_WINDOW_FAMILIES,
    layer_notes,
    unread_shared_keys,
)
from infraplan.catalog.model_config_keys import (
    KEY_ALIASES,
    ModelConfigWarning,
    aliased_value,
    is_off,
    moe_default_text,
)
from infraplan.catalog.model_config_llama4 import LLAMA4_FAMILIES

# Families whose transformers model is dense (transformers 4.57.1: no "expert" in modeling_llama.py,
# modeling_mistral.py, modeling_qwen2.py, modeling_qwen3.py, modeling_gemma.py, modeling_gemma2.py, modeling_gemma3.py,
# modeling_cohere2.py, modeling_gpt2.py, modeling_opt.py, modeling_bloom.py, modeling_xglm.py, modeling_gpt_neox.py,
# modeling_falcon.py):
# an expert count in their config changes nothing there, so it is priced dense and named (`warn_unread`).
DENSE_FAMILIES = frozenset({"llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "gemma3", "gemma3_text",
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
GATED_FAMILIES = {"llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "gemma", "gemma2", "gemma3", "gemma3_text",
                   "cohere2", "qwen3", "qwen3_moe", "deepseek_v2", "deepseek_v3", "deepseek_v32", "kimi_k2",
                   "gpt_oss", *LLAMA4_FAMILIES}
# Families whose configuration ties the LM head to the embedding unless the file says otherwise: those passing
# tie_word_embeddings=True (transformers 4.57.1 configuration_gemma.py:128, _gemma2.py:136, _gemma3.py:186,
# _cohere2.py:173) and those taking PretrainedConfig's default True (configuration_utils.py:220: gpt2, opt, bloom,
# xglm, falcon state none); the rest pass False (llama, mistral, qwen2/3, gpt_neox, the MoE families).
TIED_FAMILIES = frozenset({"gpt2", "opt", "bloom", "xglm", "falcon", "gemma", "gemma2", "gemma3", "gemma3_text",
                            "cohere2"})


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


def warn_defaults(config: dict[str, Any], name: str, model_type: str, hidden: int) -> None:
    """One line naming each size this reader fills in by itself (nothing silent): the FFN width (4 x hidden, the
    GPT-2 rule), the vocabulary (32,000), an MoE's experts per token (1), an MoE family's expert count (1: dense).
    transformers' config classes default these per family (4.57.1: configuration_mistral.py:118-120 vocab 32,000, FFN
    14,336; configuration_qwen2_moe.py:172 vocab 151,936; Mixtral top-2; LlamaConfig's FFN 11,008, recalled), so a
    config without them is priced on the reader's values, said here."""
    filled: list[str] = []
    experts = None if model_type in DENSE_FAMILIES else aliased_value(config, "num_experts")  # priced dense
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


def warn_unread(config: dict[str, Any], name: str, model_type: str, experts: int) -> None:
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
    elif shared := unread_shared_keys(config, model_type):  # a key its family's MoE block does not read (hW74)
        unread.append(shared)
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
