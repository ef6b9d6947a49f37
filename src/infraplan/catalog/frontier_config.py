"""Frontier families' config keys, read exactly into `TransformerShape` fields (`read_frontier`, called by
`catalog.model_config.shape_from_hf_config`). Moved out of catalog/model_config.py (hY2, session 38), unchanged.

* Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434, sec. 2.1; DeepSeek-V3, arXiv:2412.19437):
  `q_lora_rank`, `kv_lora_rank`, `qk_rope_head_dim`, `qk_nope_head_dim`, `v_head_dim`; `head_dim` becomes the
  query/key head width nope + rope, `v_head_dim` the value width.
* DeepSeek Sparse Attention (DeepSeek-V3.2-Exp): `index_topk`, `index_n_heads`, `index_head_dim`
  (`ops.sparse_attention`); a deepseek_v32 config's missing ones at transformers' defaults (`DSA_DEFAULTS`, warned).
* Shared experts (DeepSeekMoE, arXiv:2401.06066; Qwen2-MoE): `n_shared_experts` experts of the routed width
  (DeepSeek) or one of `shared_expert_intermediate_size` (Qwen2-MoE), a dense FFN beside the routed ones.
* Dense FFN layers among MoE layers: `first_k_dense_replace` with `moe_layer_freq` (DeepSeek: layer i is MoE if
  i >= k and i % freq == 0), `decoder_sparse_step` and `mlp_only_layers` (Qwen-MoE: MoE if (i + 1) % step == 0
  and i not in mlp_only_layers), or DeepSeek-V3.2's `mlp_layer_types` (MoE where "sparse", transformers 5.25.0);
  their FFN has `intermediate_size`, the experts `moe_intermediate_size`.
  `num_dense_layers` in the shape counts them; the routed layers are the rest.
* Sliding-window attention: `layer_types` (count of "sliding_attention", GPT-OSS/Gemma 3), else every layer
  when `sliding_window` is set and `use_sliding_window` is not false (Mistral).
* Attention sinks (GPT-OSS model card, 2025: a learned per-head logit in the softmax denominator): one
  parameter per head and layer, from `model_type: gpt_oss`.
* GPT-OSS's clamped SwiGLU (`swiglu_limit`) and projection biases (`attention_bias`): flags for the
  element-wise passes they add (`ops.layer`), on GPT-OSS only (`CLAMPED_SWIGLU_FAMILIES`, `EXPERT_BIAS_FAMILIES`).
* Multi-token prediction (`num_nextn_predict_layers`, DeepSeek-V3 sec. 2.2): counted separately
  (`mtp_params`), not in `total_params` or the layer count.
* Group-limited routing (DeepSeek-V2 sec. 2.2.3, DeepSeek-V3 sec. 2.1.2): `n_group` expert groups, a token's
  top-k from `topk_group` of them, when `topk_method` is a group-limited one (`noaux_tc`,
  `group_limited_greedy`; `greedy` ignores the groups). It changes no FLOPs; it limits the nodes a token is
  dispatched to (`ops.expert_routing`). `n_group` 1 or `topk_group` = `n_group` is no limit.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from infraplan.catalog.model_config_keys import (
    MLP_TYPE_FAMILIES,
    MOE_KEY_DEFAULTS,
    ModelConfigWarning,
    aliased_value,
    is_off,
    listed_mlp_types,
)
from infraplan.errors import InputError

# DeepSeek Sparse Attention where a config leaves a key out: transformers 5.25.0 DeepseekV32Config
# (models/deepseek_v32/configuration_deepseek_v32.py:116-118: index_topk 2048, index_head_dim 128, index_n_heads 64;
# every layer "indexed_attention", :133-135; DeepseekV32Indexer reads them, modeling_deepseek_v32.py:165-168, each
# query's top min(index_topk, keys), :240), the DeepSeek-V3.2-Exp paper's k = 2,048 (recalled). The families whose
# config class defaults them (`_sparse_attention`), and the architecture a V3.2 checkpoint names.
DSA_DEFAULTS = {"index_topk": 2048, "index_n_heads": 64, "index_head_dim": 128}
DSA_FAMILIES = frozenset({"deepseek_v32"})
DSA_ARCHITECTURES = frozenset({"DeepseekV32ForCausalLM"})
# `topk_method` values that restrict a token's experts to `topk_group` of `n_group` groups.
_GROUP_LIMITED_METHODS = frozenset({"noaux_tc", "group_limited_greedy"})
# Qwen families without `layer_types`: a sliding window only with `use_sliding_window: true` (default false), and
# then (True here) on the layers from `max_window_layers` (default 28) on, the first ones full: transformers
# 4.57.1 configuration_qwen2.py:180-208, configuration_qwen3.py:187-216, modeling_qwen2_moe.py:459-463; Qwen3-MoE
# slides every layer (configuration_qwen3_moe.py:207, no max_window_layers).
_QWEN_WINDOW_FIRST_FULL = {"qwen2": True, "qwen2_moe": True, "qwen3": True, "qwen3_moe": False}
# Families that interleave sliding and full layers without `layer_types`: layer i slides unless (i + 1) is a
# multiple of `sliding_window_pattern` (default per family): transformers 4.57.1 configuration_gemma2.py:175-178
# (every 2nd layer full), configuration_gemma3.py:236-242 (6), configuration_cohere2.py:220-227 (4). Read as
# every layer sliding before.
_WINDOW_PATTERN = {"gemma2": 2, "gemma3": 6, "gemma3_text": 6, "cohere2": 4}
# Families whose transformers model has no sliding-window attention, so that a `sliding_window` key in their config
# changes nothing there (transformers 4.57.1: no "sliding" in modeling_llama.py, modeling_gpt2.py, modeling_opt.py,
# modeling_bloom.py, modeling_gpt_neox.py, modeling_falcon.py, modeling_deepseek_v2.py, modeling_deepseek_v3.py,
# modeling_xglm.py, modeling_gemma.py, modeling_t5.py; modeling_mistral.py:177 passes it, "main diff with Llama"):
# full attention, said in a warning (`catalog.model_config_defaults.warn_unread`). Read before as a window on every
# layer, silently.
# The shared-expert key(s) each MoE family's transformers class reads (transformers 4.57.1, read in the wheel):
# modeling_qwen2_moe.py:602 `shared_expert_intermediate_size`; modeling_deepseek_v2.py:110-112 and
# modeling_deepseek_v3.py:171-172 `moe_intermediate_size * n_shared_experts` (deepseek_v32 and kimi_k2 as V3, see
# `model_config_keys.MOE_KEY_DEFAULTS`); Mixtral's, Qwen3-MoE's and GPT-OSS's sparse blocks hold none (no "shared" in
# modeling_mixtral.py, modeling_qwen3_moe.py, modeling_gpt_oss.py but a comment). A key the class does not read is
# priced as absent and named (`unread_shared_keys`); before hW74 any of the three was priced on any family (a qwen3_moe
# file with `n_shared_experts: 2` gained two experts' FFN a layer in silence). Families not listed read every key.
SHARED_EXPERT_KEYS: dict[str, tuple[str, ...]] = {
    "mixtral": (), "qwen3_moe": (), "gpt_oss": (), "qwen2_moe": ("shared_expert_intermediate_size",),
    "deepseek_v2": ("n_shared_experts",), "deepseek_v3": ("n_shared_experts",), "deepseek_v32": ("n_shared_experts",),
    "kimi_k2": ("n_shared_experts",)}
_SHARED_KEYS = ("n_shared_experts", "num_shared_experts", "shared_expert_intermediate_size")


def unread_shared_keys(config: dict[str, Any], family: str) -> str | None:
    """The shared-expert keys of an MoE config its family's class does not read (`SHARED_EXPERT_KEYS`), with what is
    priced instead, for `model_config_defaults.warn_unread`'s line; None where none is set."""
    read = SHARED_EXPERT_KEYS.get(family)
    keys = [f"{key} {config[key]!r}" for key in _SHARED_KEYS
            if read is not None and key not in read and config.get(key) not in (None, 0, False)]
    if not keys:
        return None
    block = f"reads its shared expert from {read[0]} alone" if read else "has no shared expert"
    them = "them" if len(keys) > 1 else "it"
    return f"{', '.join(keys)} (transformers' {family} MoE block {block}: priced without {them})"


NO_WINDOW_FAMILIES = frozenset({"llama", "gpt2", "opt", "bloom", "gpt_neox", "falcon", "deepseek_v2", "deepseek_v3",
                                "deepseek_v32", "xglm", "gemma", "t5"})
# Families whose transformers model reads `swiglu_limit` (the clamped SwiGLU of GPT-OSS: configuration_gpt_oss.py
# and GptOssExperts in modeling_gpt_oss.py, transformers 4.57.1, recalled: no wheel in this tree's .venv to grep).
# On any other family the key changes nothing there: priced with the plain activation,
# said (`catalog.model_config_defaults.warn_unread`); it was priced as GPT-OSS's clamp (its element-wise passes),
# silently.
CLAMPED_SWIGLU_FAMILIES = frozenset({"gpt_oss"})
# Families whose routed experts carry biases, priced as `linear_biases` (`ops.gpt_oss_experts`: the fc2 bias loop, the
# biases' main-grad adds, the host's per-expert work): GPT-OSS, whose `GptOssExperts` holds gate_up / down biases
# (transformers 4.57.1 modeling_gpt_oss.py:75-77) and whose config sets `attention_bias: true`. Other MoE families'
# `attention_bias` biases only the attention projections, their experts bias-free (modeling_glm4_moe.py:143-151 and
# :217-219, modeling_phimoe.py:259-266 and :531-533): priced as a dense model's, nothing. hR70, session 49: GLM-4.5's
# and Phi-3.5-MoE's `attention_bias: true` priced GPT-OSS's expert-bias passes (Qwen3-30B-A3B with the key: +15 %).
EXPERT_BIAS_FAMILIES = frozenset({"gpt_oss"})


def _int(config: dict[str, Any], key: str) -> int:
    value = config.get(key)
    if isinstance(value, float) and not value.is_integer():  # (hN60: index_topk 2.5 was read as 2 in silence)
        raise InputError(f"{key} {value:g} is not a whole number")
    return 0 if value is None or value is False else int(value)


def _moe_layers(config: dict[str, Any], layers: int, experts: int) -> list[bool]:
    """Whether each layer's FFN is routed in an MoE model (DeepSeek and Qwen-MoE placement rules, module
    docstring); every layer False in a dense model."""
    if experts <= 1:
        return [False] * layers
    first_k = _int(config, "first_k_dense_replace")
    for key in ("moe_layer_freq", "decoder_sparse_step"):  # (hH64: a 0 was read as 1 in silence)
        if isinstance(config.get(key), bool):  # (hI65 MK13: false was read as 1; transformers divides by it too)
            raise InputError(f"{key} {str(config[key]).lower()}: the placement rule divides the layer index by it, "
                             "a whole number (1 for every layer)")
        if config.get(key) == 0:
            raise InputError(f"{key} 0: the placement rule divides the layer index by it (transformers 4.57.1 "
                             "modeling_qwen3_moe.py:296 `(layer_idx + 1) % config.decoder_sparse_step`; DeepSeek's "
                             "remote code `layer_idx % config.moe_layer_freq`): give 1 for every layer")
    freq = _int(config, "moe_layer_freq") or 1
    step = _int(config, "decoder_sparse_step") or 1
    if listed_mlp_types(config):  # transformers 5.25.0's rule
        return [t == "sparse" for t in config["mlp_layer_types"]]
    mlp_only = {int(i) for i in config.get("mlp_only_layers") or []}
    return [i >= first_k and i % freq == 0 and (i + 1) % step == 0 and i not in mlp_only for i in range(layers)]


# Families whose transformers class places experts by `first_k_dense_replace` alone, ignoring `moe_layer_freq`, where
# DeepSeek's remote code and sglang route layer i only where i % moe_layer_freq == 0 (sglang 0.5.23
# srt/models/deepseek_v2.py:2788-2791 `_is_layer_sparse`, for its DeepseekV2 / V3 / V32ForCausalLM, :3595): the
# file:line of each transformers module that ignores it (4.57.1; deepseek_v32 5.25.0, its `mlp_layer_types` from
# first_k_dense_replace, configuration_deepseek_v32.py:129-132).
FREQ_IGNORED_BY = {"deepseek_v2": "transformers 4.57.1 modeling_deepseek_v2.py:413",
                   "deepseek_v3": "transformers 4.57.1 modeling_deepseek_v3.py:456",
                   "deepseek_v32": "transformers 5.25.0 configuration_deepseek_v32.py:129-132"}


def check_layer_lists(config: dict[str, Any], layers: Any, name: str) -> None:
    """The per-layer lists, each index or entry naming a layer of the `layers` (None: not stated, refused later):
    `mlp_only_layers` indices from 0 to layers - 1 (hF65: 1e300 was read, and a 301-digit index printed; an index
    beyond the layers names none, which transformers 4.57.1 modeling_qwen3_moe.py:295 skips alike, said before by
    hL64 and refused now: write the list for the layers stated), and on a `MLP_TYPE_FAMILIES` family
    `mlp_layer_types`, one "dense" or "sparse" per layer (transformers 5.25.0 modeling_deepseek_v32.py:593 builds
    the experts where the entry is "sparse", a dense MLP for any other word: one not in the two is refused)."""
    top = int(layers) - 1 if layers is not None else None
    mlp_only = config.get("mlp_only_layers")
    if mlp_only is not None:
        # (the first entry that is no index, the list's null included: a `None` default took [null] for a clean list)
        bad = [i for i in mlp_only if not _is_index(i, top)][:1] if isinstance(mlp_only, list) else [mlp_only]
        if bad:
            span = f"from 0 to {top:,}" if top is not None else "of 0 or more"
            raise InputError(f"model config {name!r}: mlp_only_layers must list layer indices {span}, got "
                             f"{repr(bad[0])[:20] if isinstance(bad[0], str) else str(bad[0])[:20]}")
    types = config.get("mlp_layer_types")
    if types is None or str(config.get("model_type")) not in MLP_TYPE_FAMILIES:
        return
    if not isinstance(types, list) or (top is not None and len(types) != top + 1):
        got = f"{len(types):,} entries" if isinstance(types, list) else str(types)[:40]
    elif (other := next((t for t in types if t not in _MLP_TYPES), None)) is not None:
        got = repr(str(other)[:20])
    else:
        return
    raise InputError(f"model config {name!r}: mlp_layer_types must be a list of 'dense' or 'sparse', one per layer"
                     f"{f' ({top + 1:,})' if top is not None else ''}, got {got}")


_MLP_TYPES = ("dense", "sparse")


def _is_index(value: Any, top: int | None) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            and value == int(value) and value >= 0 and (top is None or value <= top))


def mlp_types_reading(config: dict[str, Any], model_type: str, layers: int, experts: int) -> str | None:
    """An `mlp_layer_types` list whose routed layers differ from `first_k_dense_replace` / `moe_layer_freq`'s
    (transformers 5.25.0 derives the list from first_k_dense_replace where it is absent, configuration_deepseek_v32
    .py:129-132): priced by the list as transformers reads it (`MLP_TYPE_FAMILIES`), where sglang 0.5.23 places the
    experts by the two keys and ignores the list (srt/models/deepseek_v2.py:2788-2791 `_is_layer_sparse`, its
    DeepseekV32ForCausalLM too, :3595); both readings' routed layer counts named."""
    if not listed_mlp_types(config) or experts <= 1:
        return None
    listed = _moe_layers(config, layers, experts)
    unlisted = {"first_k_dense_replace": MOE_KEY_DEFAULTS[model_type]["first_k_dense_replace"],  # sglang's default
                **{k: v for k, v in config.items() if k != "mlp_layer_types"}}
    keys = _moe_layers(unlisted, layers, experts)
    if listed == keys:
        return None
    dense = [i for i, routed in enumerate(listed) if not routed]
    shown = ", ".join(map(str, dense[:6])) + (" ..." if len(dense) > 6 else "")
    return (f"mlp_layer_types: priced as {MLP_TYPE_FAMILIES[model_type]} reads the list ({sum(listed):,} routed "
            f"layers; dense: {shown or 'none'}), while sglang 0.5.23 srt/models/deepseek_v2.py:2788-2791 places the "
            f"experts by first_k_dense_replace and moe_layer_freq ({sum(keys):,} routed layers)")


def freq_reading(config: dict[str, Any], model_type: str, layers: int, experts: int) -> str | None:
    """A DeepSeek `moe_layer_freq` other than 1 where transformers' class ignores it (`FREQ_IGNORED_BY`; hL64,
    hH64's walk): priced by the remote-code rule (`_moe_layers`), both readings' routed layer counts named."""
    freq = _int(config, "moe_layer_freq")
    if model_type not in FREQ_IGNORED_BY or experts <= 1 or freq <= 1 or listed_mlp_types(config):
        return None
    routed = sum(_moe_layers(config, layers, experts))
    native = layers - min(_int(config, "first_k_dense_replace"), layers)
    return (f"moe_layer_freq {freq}: priced by DeepSeek's remote-code rule, as sglang 0.5.23 reads it (layer i "
            f"routed where i >= first_k_dense_replace and i % {freq} == 0: {routed:,} routed layers), while "
            f"{FREQ_IGNORED_BY[model_type]} ignores the key ({native:,} routed layers)")


def layer_notes(config: dict[str, Any], model_type: str, layers: int, experts: int) -> tuple[str | None, list[str]]:
    """(a key not read, [keys read otherwise than one engine reads them]): `mlp_layer_types` on an MoE family whose
    transformers class does not read it (it places the experts by its own keys), and `mlp_types_reading`,
    `freq_reading`."""
    unread = None
    if experts > 1 and model_type not in MLP_TYPE_FAMILIES and not is_off(config.get("mlp_layer_types")):
        unread = f"mlp_layer_types (transformers' {model_type} model places its experts by its own keys)"
    readings = (mlp_types_reading(config, model_type, layers, experts), freq_reading(config, model_type, layers,
                                                                                      experts))
    return unread, [line for line in readings if line]


def _num_dense_layers(config: dict[str, Any], layers: int, experts: int) -> int:
    """Layers with a dense FFN in an MoE model (`_moe_layers`)."""
    return 0 if experts <= 1 else layers - sum(_moe_layers(config, layers, experts))


def _dense_layers_between(config: dict[str, Any], layers: int, experts: int) -> bool:
    """Whether an MoE model's dense layers sit between its routed ones (Qwen-MoE's `decoder_sparse_step` 2, DeepSeek's
    `moe_layer_freq` 2), not all first (DeepSeek-V3's `first_k_dense_replace`): `dense_layers_interleaved`, as
    `catalog.model_config_llama4` sets it for Llama 4's `interleave_moe_layer_step` (hG, session 60: one pattern
    written in either family's keys was one shape in Llama 4's and another in Qwen's, its dense layers all on the
    first pipeline stages)."""
    moe = _moe_layers(config, layers, experts)
    return moe != sorted(moe)  # a suffix of routed layers is sorted: False ... False True ... True


def read_frontier(config: dict[str, Any], layers: int, experts: int, name: str = "") -> dict[str, Any]:
    """TransformerShape fields of MLA, DSA, shared experts, dense layers, sliding windows, sinks and MTP (`name`: the
    config's, in a warning)."""
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
    fields.update(_sparse_attention(config, name))  # DeepSeek Sparse Attention (`ops.sparse_attention`)
    family = str(config.get("model_type"))
    if experts > 1:
        read = SHARED_EXPERT_KEYS.get(family)  # the family's class's own key(s), else all (`unread_shared_keys`)
        shared_int = {key: _int(config, key) if read is None or key in read else 0 for key in _SHARED_KEYS}
        shared = shared_int["n_shared_experts"] or shared_int["num_shared_experts"]
        moe_ffn = aliased_value(config, "moe_ffn_hidden_size") or aliased_value(config, "ffn_hidden_size")
        shared_width = shared_int["shared_expert_intermediate_size"] or shared * int(moe_ffn or 0)
        fields.update(num_shared_experts=shared or (1 if shared_width else 0), shared_ffn_hidden_size=shared_width)
        dense = _num_dense_layers(config, layers, experts)
        if dense:
            fields.update(num_dense_layers=dense,
                          dense_layers_interleaved=_dense_layers_between(config, layers, experts),
                          dense_ffn_hidden_size=int(aliased_value(config, "ffn_hidden_size") or 0))
    window = 0 if family in NO_WINDOW_FAMILIES else _int(config, "sliding_window")
    types = config.get("layer_types")
    if window and isinstance(types, list):
        sliding = sum(t == "sliding_attention" for t in types)
    elif window and family in _WINDOW_PATTERN:  # every pattern-th layer full, the others sliding
        pattern = max(int(config.get("sliding_window_pattern") or _WINDOW_PATTERN[family]), 1)
        sliding = sum(bool((i + 1) % pattern) for i in range(layers))
    elif window and family in _QWEN_WINDOW_FIRST_FULL:  # Qwen: off unless use_sliding_window is true
        first_full = int(config.get("max_window_layers", 28)) if _QWEN_WINDOW_FIRST_FULL[family] else 0
        sliding = max(0, layers - first_full) if config.get("use_sliding_window") is True else 0
    elif window and config.get("use_sliding_window") is not False:
        sliding = layers
    else:
        sliding = 0
    if sliding:
        fields.update(sliding_window=window, num_sliding_layers=sliding)
    fields["attention_sinks"] = str(config.get("model_type")) == "gpt_oss"
    fields["num_mtp_layers"] = _int(config, "num_nextn_predict_layers")
    fields["clamped_swiglu"] = family in CLAMPED_SWIGLU_FAMILIES and not is_off(config.get("swiglu_limit"))
    fields["linear_biases"] = family in EXPERT_BIAS_FAMILIES and config.get("attention_bias") is True
    fields["rope_mscale"] = _yarn_mscale(config.get("rope_scaling"))
    groups, chosen = _int(config, "n_group"), _int(config, "topk_group")
    method = config.get("topk_method")
    if experts > 1 and groups > 1 and 0 < chosen < groups and (method is None or method in _GROUP_LIMITED_METHODS):
        fields.update(expert_groups=groups, expert_groups_per_token=chosen)
    return fields


def _sparse_attention(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The DSA fields (`index_topk`, `index_n_heads`, `index_head_dim`; the shape checks they fit MLA): a
    `DSA_FAMILIES` config's keys, each one left out (or null) at transformers' default (`DSA_DEFAULTS`), said in a
    warning; another family's only with a positive `index_topk` (the key vLLM 0.12.0 selects sparse MLA by,
    platforms/cuda.py:173). An indexer key or a V3.2 architecture there without `index_topk` is dense attention,
    said in a warning (hC, session 61: a V3.2-style config without index_topk was priced dense in silence); an
    `index_topk` of 0 or below is refused (hN60: 0 was dense in silence)."""
    if config.get("index_topk") is not None and _int(config, "index_topk") <= 0:
        raise InputError(f"index_topk {config['index_topk']!r} selects no key: DeepSeek Sparse Attention "
                         "needs a positive index_topk (leave the key out for dense attention)")
    family = str(config.get("model_type"))
    if family in DSA_FAMILIES:
        filled = [key for key in DSA_DEFAULTS if config.get(key) is None]
        if filled:
            said = ", ".join(f"{key} {DSA_DEFAULTS[key]:,}" for key in filled)
            warnings.warn(f"model config {name!r}: model_type {family} without {', '.join(filled)}: priced with "
                          f"transformers' DeepseekV32Config defaults ({said}; transformers 5.25.0 configuration_"
                          "deepseek_v32.py:116-118, the indexer on every layer): state the keys",
                          ModelConfigWarning, stacklevel=4)
        return {key: DSA_DEFAULTS[key] if key in filled else _int(config, key) for key in DSA_DEFAULTS}
    if _int(config, "index_topk"):
        return {key: _int(config, key) for key in DSA_DEFAULTS}
    stray = [f"{key} {config[key]!r}" for key in ("index_n_heads", "index_head_dim") if not is_off(config.get(key))]
    architectures = config.get("architectures")
    v32 = [a for a in architectures if a in DSA_ARCHITECTURES] if isinstance(architectures, list) else []
    if stray or v32:
        warnings.warn(f"model config {name!r}: not read: {', '.join([*stray, *(f'architectures {a}' for a in v32)])} "
                      f"(no index_topk on model_type {family}: DeepSeek Sparse Attention not priced, every layer "
                      f"dense MLA; transformers' deepseek_v32 defaults index_topk to {DSA_DEFAULTS['index_topk']:,}: "
                      "state it, or model_type deepseek_v32)", ModelConfigWarning, stacklevel=4)
    return {}


def _yarn_mscale(scaling: Any) -> float:
    """YaRN's scale on the rotary cos / sin as Megatron-Core 0.16.1 computes it from the HF `rope_scaling`
    (`_yarn_get_concentration_factor`, models/common/embeddings/yarn_rotary_pos_embedding.py:252-271): 0.1 ln(factor)
    + 1 without `mscale` / `mscale_all_dim`, else the ratio of that form with each; 1 for other rope types."""
    if not isinstance(scaling, dict) or (scaling.get("rope_type") or scaling.get("type")) != "yarn":
        return 1.0
    factor = float(scaling.get("factor") or 1.0)

    def mscale(m: float) -> float:
        return 1.0 if factor <= 1.0 else 0.1 * m * math.log(factor) + 1.0

    if scaling.get("mscale") is None or scaling.get("mscale_all_dim") is None:
        return mscale(1.0)
    return mscale(float(scaling["mscale"])) / mscale(float(scaling["mscale_all_dim"]))
