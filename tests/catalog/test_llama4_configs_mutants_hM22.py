"""Mutation wave hM22 (session 45): Llama 4's text-config reader (`catalog.model_config_llama4`) and the nested
multimodal configs (`catalog.model_config_nested`): bounds, defaults and the wrapper keys.

Expectations from transformers 5.25.0 (configuration_llama4.py, read from the PyPI wheel): `Llama4VisionConfig`'s
defaults (:56-73: hidden 768, intermediate 5632, 34 layers, 3 channels, image 448, patch 14, projector 4096 / 4096,
vision_output_dim 7680); `__post_init__` reads an empty `no_rope_layers` as unset (:172, `if self.no_rope_layers
else` the default) and `moe_layers` as range(step - 1, L, step) (:174-185: a step beyond L leaves no MoE layer);
`TransformerShape.is_moe` is more than one expert. A composite config keeps `quantization_config` on the wrapper
(the module docstring: Llama4Config :239 and quantised checkpoints).
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.model_config_llama4 import read_llama4
from infraplan.catalog.model_config_nested import text_part, vision_tower_params
from infraplan.errors import InputError

TEXT: dict[str, Any] = {"model_type": "llama4_text", "hidden_size": 64, "num_hidden_layers": 4,
                        "num_attention_heads": 4, "intermediate_size": 128, "num_local_experts": 4}


def test_llama4_vision_tower_of_transformers_defaults_by_hand() -> None:
    """Every key missing: transformers' defaults. Patch embedding 3 x 14^2 x 768, class embedding 768, (448 / 14)^2
    + 1 = 1,025 positions x 768; 34 layers of Q/K/V/O with biases 4 (768^2 + 768) and fc1 / fc2 with biases
    2 x 768 x 5632 + 5632 + 768; the adapter 5632 x 4096 + 4096^2; the projector 7680 x the text's 5120."""
    h, f = 768, 5632
    layer = 4 * (h * h + h) + 2 * h * f + f + h
    want = 3 * 14 * 14 * h + h + 1025 * h + 34 * layer + (f * 4096 + 4096 * 4096) + 7680 * 5120
    assert vision_tower_params({"model_type": "llama4_vision_model"}, 5120)[0] == want == 455_070_720


def _quiet_text_part(config: dict[str, Any]) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelConfigWarning)
        return text_part(config, "t")


def test_the_wrapper_s_quantization_config_and_family_reach_the_text_model() -> None:
    """A quantised Llama 4 checkpoint keeps quantization_config on the wrapper; a text_config without model_type
    is the wrapper's family. Known wrapper keys (vision_feature_layer) and an empty vision_config say nothing."""
    quant = {"quant_method": "fbgemm_fp8"}
    text = {k: v for k, v in TEXT.items() if k != "model_type"}
    merged = _quiet_text_part({"model_type": "llama4", "text_config": text, "quantization_config": quant,
                               "vision_feature_layer": -1, "vision_config": {}})
    assert merged["quantization_config"] == quant and merged["model_type"] == "llama4"


def test_every_unread_wrapper_key_is_named_when_they_fit_the_line() -> None:
    """Six unread keys of 12 characters: 6 x 12 + 5 x 2 = 82 characters, under the line's 120: all named."""
    keys = [f"unread_key_{i}" for i in range(6)]
    with pytest.warns(ModelConfigWarning) as seen:
        text_part({"text_config": dict(TEXT), **dict.fromkeys(keys, 1)}, "t")
    assert f"not read beside text_config: {', '.join(keys)}" in str(seen[0].message)


@pytest.mark.parametrize(("key", "value"), [("interleave_moe_layer_step", True), ("interleave_moe_layer_step", 5),
                                            ("moe_layers", [-1, 1]), ("no_rope_layers", [1, 2, 1, 0])])
def test_llama4_layer_keys_out_of_range_are_refused(key: str, value: object) -> None:
    """4 layers: a step of True (a bool, not a number) or 5 (beyond the layers: no MoE layer at all), a negative
    layer index, a flag of 2: each one InputError line naming the key."""
    with pytest.raises(InputError, match=key):
        read_llama4({**TEXT, key: value}, 4, 4, "t")


def test_an_empty_no_rope_list_is_transformers_default() -> None:
    """[] reads as unset (configuration_llama4.py:172): every 4th layer NoPE, so 3 of 4 layers RoPE, QK-normed
    and chunked (chunk 8192 by default)."""
    fields = read_llama4({**TEXT, "no_rope_layers": []}, 4, 4, "t")
    assert (fields["qk_norm_layers"], fields["num_chunked_layers"]) == (3, 3)


def test_flags_beyond_the_layers_are_not_counted() -> None:
    """Six flags for four layers: the first four (1, 1, 0, 1) count, 3 RoPE layers; the two extra 1s none."""
    fields = read_llama4({**TEXT, "no_rope_layers": [1, 1, 0, 1, 1, 1]}, 4, 4, "t")
    assert (fields["qk_norm_layers"], fields["num_chunked_layers"]) == (3, 3)


def test_one_expert_is_no_moe_and_adds_no_shared_expert() -> None:
    """One expert routes nothing (`TransformerShape.is_moe`: more than one): no shared expert, no dense layers."""
    fields = read_llama4({**TEXT, "num_local_experts": 1}, 4, 1, "t")
    assert not {"num_shared_experts", "num_dense_layers"} & set(fields)


def test_chunked_layers_need_a_chunk_of_at_least_one_token() -> None:
    types = ["chunked_attention", "chunked_attention", "chunked_attention", "full_attention"]
    with pytest.raises(InputError, match="attention_chunk_size"):
        read_llama4({**TEXT, "layer_types": types, "attention_chunk_size": 0}, 4, 4, "t")
