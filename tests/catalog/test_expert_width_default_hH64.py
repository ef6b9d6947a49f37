"""MoE configs that leave out an MoE size their transformers config class defaults (hH64's walk;
`catalog.model_config_keys.MOE_KEY_DEFAULTS`).

transformers 4.57.1 builds DeepSeek-V2 / V3 and Qwen2 / Qwen3-MoE experts at `config.moe_intermediate_size`
(modeling_deepseek_v3.py:166, modeling_qwen3_moe.py:223, ...), whose class defaults are 1407 / 2048 / 1408 / 768
(configuration_deepseek_v2.py:183, configuration_deepseek_v3.py:160, configuration_qwen2_moe.py:191,
configuration_qwen3_moe.py:191); DeepseekV3Config's first_k_dense_replace is 3 and n_shared_experts 1 (:175, :164).
Before: such a file's experts were priced at `intermediate_size` (the dense FFN's) in silence: DeepSeek-V3's config
without the key read as 5.9 T parameters, Qwen3-30B-A3B's as 233 B; without first_k_dense_replace / n_shared_experts,
every layer routed and no shared expert."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infraplan.catalog.loader import load_model
from infraplan.catalog.model_config import ModelConfigWarning, shape_from_hf_config
from infraplan.catalog.model_config_keys import MOE_KEY_DEFAULTS
from infraplan.errors import InputError

MODELS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "models"


def _without_width(preset: str) -> dict:  # type: ignore[type-arg]
    config = json.loads((MODELS / f"{preset}.json").read_text())
    config.pop("source", None)
    del config["moe_intermediate_size"]
    return config


@pytest.mark.parametrize(("preset", "width"), [("deepseek-v3", 2048), ("qwen3-30b-a3b", 768)])
def test_a_missing_expert_width_is_the_family_default_and_said(preset: str, width: int) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(_without_width(preset), f"{preset}-copy")
    lines = [str(w.message) for w in caught if issubclass(w.category, ModelConfigWarning)]
    assert any(f"no moe_intermediate_size: priced at transformers' {shape.model_type} default {width:,}" in line
               for line in lines), lines
    assert shape.ffn_hidden_size == width
    preset_shape = load_model(preset)  # the shipped config states the default: the same model
    assert shape.total_params() == preset_shape.total_params()
    assert shape.shared_ffn_hidden_size == preset_shape.shared_ffn_hidden_size


def test_a_null_width_keeps_intermediate_size_as_transformers_does() -> None:
    """A null (not an absent key): the experts' MLP takes config.intermediate_size for None
    (modeling_qwen3_moe.py:202), as priced before; no default line."""
    config = _without_width("qwen3-30b-a3b") | {"moe_intermediate_size": None}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "null-width")
    assert shape.ffn_hidden_size == config["intermediate_size"]
    assert not any("moe_intermediate_size" in str(w.message) for w in caught)


def test_a_family_whose_experts_take_intermediate_size_is_unchanged() -> None:
    """Mixtral's experts are intermediate_size wide (it has no moe_intermediate_size): no default, no line."""
    config = json.loads((MODELS / "mixtral-8x7b.json").read_text())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "mixtral-copy")
    assert shape.ffn_hidden_size == config["intermediate_size"]
    assert not any("moe_intermediate_size" in str(w.message) for w in caught)


def test_deepseek_v3_without_its_dense_layers_and_shared_expert_counts_is_the_preset() -> None:
    config = _without_width("deepseek-v3")
    for key in ("first_k_dense_replace", "n_shared_experts"):
        del config[key]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "bare-v3")
    line = next(str(w.message) for w in caught if "no moe_intermediate_size" in str(w.message))
    assert ("no moe_intermediate_size, n_shared_experts, first_k_dense_replace: priced at transformers' deepseek_v3 "
            "default 2,048, 1, 3") in line
    preset = load_model("deepseek-v3")
    assert (shape.num_dense_layers, shape.num_shared_experts) == (preset.num_dense_layers, 1) == (3, 1)
    assert shape.total_params() == preset.total_params()


_FAMILY_BASE = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 6, "num_attention_heads": 8,
                "num_key_value_heads": 8, "vocab_size": 32000, "num_experts_per_tok": 2}
_V32_MLA = {"q_lora_rank": 256, "kv_lora_rank": 128, "qk_rope_head_dim": 32, "qk_nope_head_dim": 64,
            "v_head_dim": 64}


@settings(max_examples=40, deadline=None, derandomize=True)
@given(family=st.sampled_from(sorted(MOE_KEY_DEFAULTS)), data=st.data())
def test_an_absent_key_is_its_stated_default(family: str, data: st.DataObject) -> None:
    """Metamorphic: leaving out any subset of a family's defaulted MoE keys prices the model as stating them at
    transformers' defaults (`MOE_KEY_DEFAULTS`), and the warning names exactly the keys left out."""
    defaults = MOE_KEY_DEFAULTS[family]
    left_out = data.draw(st.lists(st.sampled_from(sorted(defaults)), unique=True))
    experts = {"n_routed_experts": 16} if family.startswith("deepseek") else {"num_experts": 16}
    mla = _V32_MLA if family == "deepseek_v32" else {}  # its sparse attention needs MLA (hL64 added the family)
    stated = {"model_type": family, **_FAMILY_BASE, **experts, **mla, **defaults}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        full = shape_from_hf_config(stated, "stated")
        partial = shape_from_hf_config({k: v for k, v in stated.items() if k not in left_out}, "partial")
    assert partial.model_dump(exclude={"name"}) == full.model_dump(exclude={"name"})
    lines = [str(w.message) for w in caught]
    said = [line for line in lines if "'partial'" in line and "priced at transformers'" in line]
    if left_out:
        assert len(said) == 1 and all(key in said[0] for key in left_out), said
    else:
        assert not said


@pytest.mark.parametrize(("preset", "key"),
                         [("deepseek-v3", "moe_layer_freq"), ("qwen3-30b-a3b", "decoder_sparse_step")])
def test_a_zero_placement_step_is_refused_not_read_as_one(preset: str, key: str) -> None:
    """transformers divides by decoder_sparse_step (modeling_qwen3_moe.py:296), DeepSeek's remote code by
    moe_layer_freq: 0 is no model; before it was read as 1 (every layer routed) in silence."""
    config = json.loads((MODELS / f"{preset}.json").read_text()) | {key: 0}
    with warnings.catch_warnings(), pytest.raises(InputError, match=f"{key} 0: the placement rule divides"):
        warnings.simplefilter("ignore")
        shape_from_hf_config(config, "zero-step")
    dense = {"model_type": "qwen3_moe", **_FAMILY_BASE, "num_experts": 1, key: 0}  # no experts: no rule to divide
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert shape_from_hf_config(dense, "dense").num_experts == 1
