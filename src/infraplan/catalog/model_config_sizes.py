"""The sizes a Hugging Face `config.json` states, checked before `catalog.model_config.shape_from_hf_config` reads
them: each a whole number within its bound (`infraplan.limits` MAX_MODEL_WIDTH, MAX_MODEL_LAYERS, MAX_VOCABULARY; the
largest `max_position_embeddings` 2^31 - 1), and the non-size keys whose wrong type changed the price silently or
raised a traceback (`tie_word_embeddings` a bool and `layer_types` one string per layer as transformers 4.57.1's
PretrainedConfig takes them, the `rope_scaling` factor a positive number). A value out of bounds is refused in one
line naming its key (InputError), never read as a default or a huge model. Moved out of catalog/model_config.py (hD,
session 70), unchanged.
"""

from __future__ import annotations

import math
from typing import Any

from infraplan.catalog.frontier_config import check_layer_lists
from infraplan.catalog.model_config_keys import KEY_ALIASES, aliased_value
from infraplan.errors import InputError
from infraplan.limits import MAX_MODEL_LAYERS, MAX_MODEL_WIDTH, MAX_VOCABULARY

MAX_POSITIONS = 2**31 - 1  # the largest max_position_embeddings (or scaled context) a config may state


# The sizes a config sets, each (internal field or key, smallest, largest): a value that is not a whole number in
# range (a string, a bool, 4096.5, 0, 1e30) is refused with its key, never read as a default or a huge model.
_SIZES: tuple[tuple[str, int, int], ...] = (
    ("hidden_size", 1, MAX_MODEL_WIDTH), ("num_layers", 1, MAX_MODEL_LAYERS), ("num_heads", 1, MAX_MODEL_WIDTH),
    ("num_kv_heads", 1, MAX_MODEL_WIDTH), ("ffn_hidden_size", 1, MAX_MODEL_WIDTH),
    ("moe_ffn_hidden_size", 1, MAX_MODEL_WIDTH), ("vocab_size", 1, MAX_VOCABULARY),
    ("max_seq_len", 1, MAX_POSITIONS), ("num_experts", 0, MAX_MODEL_WIDTH), ("experts_per_token", 0, MAX_MODEL_WIDTH),
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


def check_sizes(config: dict[str, Any], name: str) -> None:
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
    """The non-size keys whose wrong type changed the price silently or raised a traceback (`check_sizes`)."""
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
