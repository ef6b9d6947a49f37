"""MoE placement and default keys hH64's walk left (hL, session 64):

* `mlp_only_layers` indices beyond the layer count name no layer (transformers 4.57.1 modeling_qwen3_moe.py:295
  skips them alike): ignored in silence before, said in the "not read" warning by hL64, refused since hF65.
* A DeepSeek `moe_layer_freq` other than 1: the reader routes layer i where i % freq == 0 (sglang 0.5.23
  srt/models/deepseek_v2.py:2788-2791), transformers' DeepseekV3 ignores the key (modeling_deepseek_v3.py:456): one
  warning names both readings' routed-layer counts.
* kimi_k2 / deepseek_v32 configs without moe_intermediate_size / n_shared_experts / first_k_dense_replace: priced at
  DeepseekV3Config's defaults 2048 / 1 / 3 (transformers 5.25.0 configuration_deepseek_v32.py:86, :90, :121; sglang
  0.5.23 reads kimi_k2 with transformers' DeepseekV3Config, srt/utils/hf_transformers/common.py:230-233), where an
  absent width was the dense `intermediate_size` (18,432: 5.9 T parameters)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.errors import InputError

MODELS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "models"


def _preset(name: str, **changes: Any) -> dict[str, Any]:
    config = json.loads((MODELS / f"{name}.json").read_text())
    config.pop("source", None)
    return {**config, **changes}


def _read(config: dict[str, Any]) -> tuple[TransformerShape, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "copy")
    return shape, [str(w.message) for w in caught]


def test_an_mlp_only_index_beyond_the_layers_is_refused():  # said by hL64, refused since hF65
    with pytest.raises(InputError, match=r"mlp_only_layers must list layer indices from 0 to 47, got 1000$"):
        _read(_preset("qwen3-30b-a3b", mlp_only_layers=[2, 1000]))
    shape, quiet = _read(_preset("qwen3-30b-a3b", mlp_only_layers=[2, 47]))
    assert shape.num_dense_layers == 2 and not any("mlp_only_layers" in line for line in quiet), quiet


def test_a_deepseek_v3_moe_layer_freq_names_both_readings():
    shape, lines = _read(_preset("deepseek-v3", moe_layer_freq=2))
    assert shape.num_dense_layers == 61 - 29  # routed: 3 <= i < 61, i even = 29 layers (the remote-code rule)
    said = [line for line in lines if "moe_layer_freq 2" in line]
    assert len(said) == 1 and "29 routed layers" in said[0] and "58 routed layers" in said[0], lines
    assert "modeling_deepseek_v3.py:456" in said[0]
    _, quiet = _read(_preset("deepseek-v3"))  # moe_layer_freq 1: both readings agree
    assert not any("moe_layer_freq" in line for line in quiet), quiet


def test_a_qwen_sparse_step_is_not_a_deepseek_freq():
    _, lines = _read(_preset("qwen3-30b-a3b", decoder_sparse_step=2))
    assert not any("moe_layer_freq" in line for line in lines), lines


@pytest.mark.parametrize(("preset", "model_type", "left_out"), [
    ("deepseek-v3.2", "deepseek_v32", ("moe_intermediate_size", "n_shared_experts", "first_k_dense_replace")),
    ("deepseek-v3", "kimi_k2", ("moe_intermediate_size", "n_shared_experts", "first_k_dense_replace")),
])
def test_kimi_and_v32_configs_without_moe_sizes_take_deepseek_v3_defaults(preset: str, model_type: str,
                                                                          left_out: tuple[str, ...]):
    stated, _ = _read(_preset(preset, model_type=model_type))  # both presets state 2048 / 1 / 3
    bare, lines = _read({k: v for k, v in _preset(preset, model_type=model_type).items() if k not in left_out})
    assert bare.total_params() == stated.total_params()
    assert (bare.ffn_hidden_size, bare.num_shared_experts, bare.num_dense_layers) == (2048, 1, 3)
    assert any(f"no {', '.join(left_out)}: priced at transformers' " in line and "default 2,048, 1, 3" in line
               for line in lines), lines
