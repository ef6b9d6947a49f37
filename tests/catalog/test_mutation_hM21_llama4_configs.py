"""Mutation wave hM21 (session 44): Llama 4's text-config reader (`catalog.model_config_llama4`) and the nested /
flat multimodal configs (`catalog.model_config_nested`).

Expectations from transformers 5.25.0 (read from the PyPI wheel): `Llama4TextConfig`'s defaults
(configuration_llama4.py:129-163: intermediate_size_mlp 16384, no_rope_layer_interval 4, attention_chunk_size 8192,
use_qk_norm true, interleave_moe_layer_step 1) and `__post_init__` (:165-195: no_rope_layers
[(i + 1) % interval != 0], moe_layers range(step - 1, L, step), layer_types "chunked_attention" where RoPE and a
chunk size is set); `Llama4VisionConfig`'s vision_output_dim 7680 (:56); Llama 3.2 Vision's (mllama) 32 + 8 global
encoder layers; a composite config's text part keeps its own keys (the wrapper's only fill what it lacks).
"""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.catalog.model_config_nested import vision_tower_params
from infraplan.errors import InputError

# read by transformers' defaults when absent (the module docstring's list)
DEFAULTED = ("moe_layers", "no_rope_layers", "attention_chunk_size", "intermediate_size_mlp",
             "interleave_moe_layer_step", "use_qk_norm", "no_rope_layer_interval", "layer_types")
VISION: dict[str, Any] = {  # Llama 4 Scout's vision_config (Hugging Face), as tests/catalog/test_llama4_nested_hQ46
    "hidden_act": "gelu", "hidden_size": 1408, "image_size": 336, "intermediate_size": 5632,
    "model_type": "llama4_vision_model", "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": 34,
    "patch_size": 14, "pixel_shuffle_ratio": 0.5, "projector_input_dim": 4096, "projector_output_dim": 4096,
    "vision_output_dim": 4096,
}
TEXT_HIDDEN = 5120


def _text(name: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    config = json.loads(resources.files("infraplan.catalog").joinpath("models", f"{name}.json").read_text())
    return {k: v for k, v in config.items() if k not in ("source", *drop)}


def _quiet(config: dict[str, Any], name: str = "t") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        return shape_from_hf_config(config, name)


def _nested(text: dict[str, Any], **wrapper: Any) -> dict[str, Any]:
    return {"model_type": "llama4", "text_config": text, "vision_config": VISION, **wrapper}


def _warned(config: dict[str, Any]) -> tuple[Any, str]:
    with pytest.warns(ModelConfigWarning) as record:
        shape = shape_from_hf_config(config, "t")
    return shape, " | ".join(str(r.message) for r in record)


def test_scouts_keys_left_out_read_as_transformers_defaults() -> None:
    """Scout's architecture keys are Llama4TextConfig's defaults: without them the shape is the preset's."""
    exclude = {"source", "name"}
    assert _quiet(_text("llama4-scout", DEFAULTED)).model_dump(exclude=exclude) == \
        load_model("llama4-scout").model_dump(exclude=exclude)


def test_maverick_by_its_step_alone_takes_the_default_dense_width() -> None:
    maverick = _quiet({**_text("llama4-maverick", DEFAULTED), "interleave_moe_layer_step": 2, "use_qk_norm": False})
    assert (maverick.num_dense_layers, maverick.dense_ffn_hidden_size, maverick.dense_layers_interleaved) == (
        24, 16384, True)


def test_the_default_nope_layers_on_a_depth_the_interval_does_not_divide() -> None:
    """6 layers, interval 4: no_rope_layers [1, 1, 1, 0, 1, 1] -> 5 RoPE layers, chunked and QK-normed."""
    shape = _quiet({**_text("llama4-scout", DEFAULTED), "num_hidden_layers": 6})
    assert (shape.num_chunked_layers, shape.qk_norm_layers, shape.attention_chunk_size) == (5, 5, 8192)


def test_the_layers_the_config_lists() -> None:
    base = _text("llama4-scout", ("moe_layers",))
    one_dense = _quiet({**base, "moe_layers": list(range(1, 48))})  # layer 0 dense: DeepSeek's form
    assert (one_dense.num_dense_layers, one_dense.dense_layers_interleaved) == (1, False)
    third = _quiet({**base, "moe_layers": list(range(2, 48, 3))})  # 16 MoE layers, 32 dense between them
    assert (third.num_dense_layers, third.dense_layers_interleaved) == (32, True)
    last = _quiet({**base, "interleave_moe_layer_step": 48})  # range(47, 48, 48): the last layer alone
    assert (last.num_dense_layers, last.dense_layers_interleaved) == (47, False)


def test_stated_layer_types_count_the_chunked_layers() -> None:
    types = ["chunked_attention"] * 40 + ["full_attention"] * 8
    assert _quiet({**_text("llama4-scout"), "layer_types": types}).num_chunked_layers == 40


def test_no_chunk_size_means_no_chunked_layer() -> None:
    """attention_chunk_size null: every layer full_attention (transformers' layer_types)."""
    shape = _quiet({**_text("llama4-scout"), "attention_chunk_size": None})
    assert shape.num_chunked_layers == 0 and shape.qk_norm_layers == 36


@pytest.mark.parametrize(("key", "value", "says"), [
    ("no_rope_layer_interval", 0, "no_rope_layer_interval must be a whole number from 1"),
    ("attention_chunk_size", -8192, "attention_chunk_size must be a whole number of tokens"),
])
def test_more_bad_llama4_values_refused_in_one_line(key: str, value: Any, says: str) -> None:
    drop = ("no_rope_layers",) if key == "no_rope_layer_interval" else ()
    with pytest.raises(InputError, match=says):
        shape_from_hf_config({**_text("llama4-scout", drop), key: value}, "bad")


def test_the_wrapper_fills_only_what_the_text_config_lacks() -> None:
    """tie_word_embeddings on the wrapper (Llama4Config's own key) reaches a text config without it; a text
    config's own value, and its own model_type, win."""
    text = _text("llama4-scout", ("tie_word_embeddings",))
    tied, _ = _warned(_nested(text, tie_word_embeddings=True))
    assert tied.tied_embeddings is True
    own, _ = _warned(_nested({**text, "tie_word_embeddings": False}, tie_word_embeddings=True))
    assert own.tied_embeddings is False and own.model_type == "llama4_text"


def test_only_wrapper_keys_that_differ_and_are_not_private_are_named() -> None:
    _, said = _warned(_nested(_text("llama4-scout"), hidden_size=TEXT_HIDDEN, _frobnicate=1, ignore_index=-100))
    assert "not read" not in said
    _, said = _warned(_nested(_text("llama4-scout"), hidden_size=4096))
    assert "not read beside text_config: hidden_size" in said


def test_a_vision_config_that_is_not_an_object_is_named_unread() -> None:
    _, said = _warned(_nested(_text("llama4-scout"), vision_config="siglip"))
    assert "not read beside text_config: vision_config" in said


def test_a_flat_multimodal_config_keeps_its_family() -> None:
    config = {"model_type": "qwen2_5_vl", "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
              "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 152064, "hidden_act": "silu",
              "max_position_embeddings": 128000, "tie_word_embeddings": False,
              "vision_config": {"depth": 32, "hidden_size": 1280, "intermediate_size": 3420}}
    shape, _ = _warned(config)
    assert shape.model_type == "qwen2_5_vl"


def test_vision_tower_defaults_and_other_families() -> None:
    """Llama 4's projector at Llama4VisionConfig's default vision_output_dim 7680; mllama's 32 + 8 global layers;
    a tower without an FFN width at 4 h; sizes read from the first key that holds a whole number above 0."""
    full, _ = vision_tower_params(VISION, TEXT_HIDDEN)
    default, _ = vision_tower_params({k: v for k, v in VISION.items() if k != "vision_output_dim"}, TEXT_HIDDEN)
    assert default - full == (7680 - 4096) * TEXT_HIDDEN
    mllama = {"model_type": "mllama_vision_model", "hidden_size": 1280, "intermediate_size": 5120,
              "num_hidden_layers": 32, "num_global_layers": 8}
    assert vision_tower_params(mllama, 4096)[0] == 40 * (4 * 1280**2 + 2 * 1280 * 5120)
    assert vision_tower_params({"width": 1024, "layers": 24}, 4096)[0] == 24 * (4 * 1024**2 + 2 * 1024 * 4096)
    odd = {"hidden_size": 0, "embed_dim": 1024, "depth": True, "layers": 24}
    assert vision_tower_params(odd, 4096)[0] == 24 * (4 * 1024**2 + 2 * 1024 * 4096)


def test_an_empty_moe_layers_list_is_refused_not_read_as_the_default_interleave() -> None:
    """transformers reads `moe_layers: []` as no MoE layer (configuration_llama4.py:181-185 tests `is not None`); the
    reader had taken it as the interleave default (Maverick: 24 MoE layers, 400.7 B), a different model (hM21)."""
    from infraplan.catalog.model_config_llama4 import moe_layer_indices
    from infraplan.errors import InputError

    with pytest.raises(InputError, match="moe_layers is empty"):
        moe_layer_indices({"moe_layers": [], "interleave_moe_layer_step": 2}, 48, "maverick")
    assert moe_layer_indices({"interleave_moe_layer_step": 2}, 48, "maverick") == frozenset(range(1, 48, 2))
