"""Multimodal Hugging Face configs that nest the language model under `text_config` (Llama 4, Gemma 3, Qwen2.5-VL /
Qwen3-VL, Llama 3.2 Vision): the language model is read from it, the vision tower is counted apart.

transformers' composite configs (`PreTrainedConfig.sub_configs`; e.g. models/llama4/configuration_llama4.py:196-239,
`Llama4Config` with `text_config` and `vision_config`) keep the decoder's keys in `text_config`; the wrapper holds the
image-token ids, `tie_word_embeddings` (Llama4Config :239) and, in quantised checkpoints, `quantization_config`.
`text_part` returns the decoder's keys with those of the wrapper that apply to it (`CARRIED_KEYS`; the text config's
own win); every other wrapper key is known harmless (`WRAPPER_KEYS`: token ids, the vision tower's feature choice,
bookkeeping), the same in `text_config`, or named in one `ModelConfigWarning` line as not read.

The vision tower and projector are counted from `vision_config` (`vision_tower_params`) and NOT priced: the models
here run text tokens, so no image-encoder FLOPs, and its weights are not in the memory (ASSUMPTION: a text-only
deployment; a serving engine that loads the tower holds them too, 1.7 GB in bf16 for Llama 4). One warning line
says so with the count. Llama 4's tower is counted matrix by matrix from transformers 5.25.0 modeling_llama4.py:
the patch embedding (`Llama4UnfoldConvolution`, :957-968: C p^2 x h), the class and positional embeddings
(:1019-1022: (image / patch)^2 + 1 positions), per encoder layer Q / K / V / O with biases (:768-771) and the fc1 /
fc2 MLP with biases (:821-822), the pixel-shuffle adapter's fc1 (intermediate_size x projector_input_dim) and fc2
(projector_output_dim^2) (:677-678), and the projector to the text width (`Llama4MultiModalProjector`, :692-696);
norms are left out (< 0.1 %), as for the decoder. Another family's tower is counted as its encoder blocks only
(attention 4 h^2 + FFN 2 or 3 h f per layer, the patch embedding and projector not known by shape): said so.
"""

from __future__ import annotations

import warnings
from typing import Any

from infraplan.catalog.model_config_keys import HARMLESS_KEYS, ModelConfigWarning
from infraplan.errors import InputError

# wrapper keys that apply to the language model (the text config's own value wins)
CARRIED_KEYS = ("source", "quantization_config", "tie_word_embeddings", "torch_dtype", "dtype")
# wrapper keys that change no text-token FLOPs, bytes or memory (image / video token ids and placement, the vision
# tower's feature choice): Llama4Config (configuration_llama4.py:236-238), Gemma 3, Qwen2.5-VL / Qwen3-VL and
# Llama 3.2 Vision (mllama) configs, and the tower's own config (counted apart, `vision_tower_params`)
WRAPPER_KEYS = frozenset({
    "text_config", "vision_config", "model_type", "image_token_index", "image_token_id", "boi_token_index",
    "eoi_token_index", "boi_token_id", "eoi_token_id", "video_token_id", "vision_start_token_id",
    "vision_end_token_id", "vision_token_id", "mm_tokens_per_image", "vision_feature_layer",
    "vision_feature_select_strategy", "image_seq_length", "projector_hidden_act", "multimodal_projector_bias",
    "ignore_index",
}) | HARMLESS_KEYS
_GATED_VISION_ACTIVATIONS = frozenset({"silu", "swiglu"})  # Qwen2.5-VL's vision MLP (gate, up, down)


def _size(config: dict[str, Any], *keys: str) -> int:
    for key in keys:
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def _llama4_tower(vision: dict[str, Any], text_hidden: int) -> int:
    """Llama 4's vision tower and projector, matrix by matrix (module docstring); transformers' defaults
    (Llama4VisionConfig, configuration_llama4.py:56-73) where a key is missing."""
    h, f = _size(vision, "hidden_size") or 768, _size(vision, "intermediate_size") or 5632
    layers = _size(vision, "num_hidden_layers") or 34
    channels, patch, image = (_size(vision, "num_channels") or 3, _size(vision, "patch_size") or 14,
                              _size(vision, "image_size") or 448)
    positions = (image // patch) ** 2 + 1
    encoder = layers * (4 * (h * h + h) + 2 * h * f + f + h)
    adapter = f * (_size(vision, "projector_input_dim") or 4096) + (_size(vision, "projector_output_dim") or 4096) ** 2
    projector = (_size(vision, "vision_output_dim") or 7680) * text_hidden
    return channels * patch * patch * h + h + positions * h + encoder + adapter + projector


def vision_tower_params(vision: dict[str, Any], text_hidden: int) -> tuple[int, str]:
    """(parameters, what was counted) of a `vision_config`'s tower (module docstring)."""
    if vision.get("model_type") == "llama4_vision_model":
        return _llama4_tower(vision, text_hidden), "the vision tower and projector"
    h = _size(vision, "hidden_size", "embed_dim", "width")
    layers = _size(vision, "num_hidden_layers", "depth", "layers") + _size(vision, "num_global_layers")
    f = _size(vision, "intermediate_size", "mlp_dim") or 4 * h
    gated = str(vision.get("hidden_act", "")).lower() in _GATED_VISION_ACTIVATIONS
    return layers * (4 * h * h + (3 if gated else 2) * h * f), "the vision encoder blocks (not its patch embedding " \
        "or projector)"


def text_part(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The language model's keys of a config: itself when flat, else its `text_config` with the wrapper keys that
    apply to it (module docstring); the vision tower counted and named in one warning line. A flat multimodal
    config (Qwen2.5-VL's as published: the decoder's keys beside `vision_config`) keeps its keys but the tower's
    and the image-token ones."""
    text = config.get("text_config")
    if text is None:
        if "vision_config" not in config:
            return config
        flat = {k: v for k, v in config.items() if k not in _MULTIMODAL_ONLY}
        _say(config, flat, [], name, "the language model read from its own keys")
        return flat
    if not isinstance(text, dict):
        raise InputError(f"model config {name!r}: text_config must be an object (the language model's keys), got "
                         f"{str(text)[:40]!r}")
    merged = dict(text)
    for key in CARRIED_KEYS:
        if key in config and key not in text:
            merged[key] = config[key]
    merged.setdefault("model_type", config.get("model_type"))
    unread = sorted(key for key, value in config.items() if key not in WRAPPER_KEYS and key not in CARRIED_KEYS
                    and text.get(key, object()) != value and not key.startswith("_"))
    _say(config, text, unread, name, "the language model read from text_config")
    return merged


# the keys of a multimodal config that belong to the vision side alone (a flat config's, `text_part`)
_MULTIMODAL_ONLY = WRAPPER_KEYS - HARMLESS_KEYS - {"model_type"}


def _say(config: dict[str, Any], text: dict[str, Any], unread: list[str], name: str, read: str) -> None:
    """One warning line: where the language model was read from, the vision tower's count, the wrapper keys not
    read."""
    said: list[str] = []
    vision = config.get("vision_config")
    if isinstance(vision, dict) and vision:
        hidden = text.get("hidden_size")
        count, what = vision_tower_params(vision, hidden if isinstance(hidden, int) else 0)
        said.append(f"{what} of vision_config ({count / 1e9:.2f} B parameters, {vision.get('model_type', 'its')} "
                    "shapes) counted apart and not priced: text tokens only, its weights not in the memory")
    elif vision is not None and vision != {}:
        unread.append("vision_config")
    if unread:
        said.append(f"not read beside text_config: {', '.join(unread)[:120]}")
    if said:
        warnings.warn(f"model config {name!r}: {read}; {'; '.join(said)}", ModelConfigWarning, stacklevel=5)
