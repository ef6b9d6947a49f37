"""Mutation wave hM20 (session 44) on `catalog.integer_group_scales`: compressed-tensors widths only for one
symmetric integer group scheme, a MoE's dense layers on their own width, and the MoE WNA16 kernel's halving by 2."""

from __future__ import annotations

import pytest

from infraplan.catalog.integer_group_scales import kind_input_widths, stored_bytes
from infraplan.catalog.loader import read_entry
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.errors import InputError

INT4_G32 = {"type": "int", "num_bits": 4, "strategy": "group", "group_size": 32, "symmetric": True}


def _ct(*weights: dict) -> dict:
    return {"quant_method": "compressed-tensors",
            "config_groups": {f"group_{i}": {"weights": w} for i, w in enumerate(weights)}}


def test_compressed_tensors_one_symmetric_scheme_adds_its_scales() -> None:
    """4 bits and a 2 B scale per 32 weights: 0.5 + 2 / 32 bytes per weight (Kimi K2.5's scheme)."""
    assert stored_bytes(_ct(INT4_G32)) == pytest.approx(0.5 + 2.0 / 32, rel=1e-15)
    assert stored_bytes(_ct(INT4_G32, dict(INT4_G32))) == pytest.approx(0.5 + 2.0 / 32, rel=1e-15)  # the same twice


def test_compressed_tensors_asymmetric_or_mixed_schemes_are_not_read() -> None:
    """An asymmetric scheme also stores zero points, which the symmetric width leaves out; two schemes of different
    widths have no one width: both fall back to the format's own (0)."""
    assert stored_bytes(_ct({**INT4_G32, "symmetric": False})) == 0.0
    assert stored_bytes(_ct(INT4_G32, {**INT4_G32, "num_bits": 8, "group_size": 128})) == 0.0


def test_a_moe_model_s_dense_layers_read_their_own_width() -> None:
    """DeepSeek-V3's first dense layers' MLP is intermediate_size 18,432 wide, its experts moe_intermediate_size 2,048
    (its config.json)."""
    config, _ = read_entry("models", "deepseek-v3")
    widths = kind_input_widths(shape_from_hf_config(config, "deepseek-v3"))
    assert widths["dense_mlp"] == (config["hidden_size"], config["intermediate_size"]) == (7168, 18432)
    assert widths["routed_experts"] == (7168, config["moe_intermediate_size"])


def test_the_moe_kernel_halves_a_group_of_64_to_32() -> None:
    """1376 = 32 x 43: a group of 64 does not divide it, its half 32 does (moe_wna16.py:239-245 halves by 2)."""
    config, _ = read_entry("models", "mixtral-8x7b")
    quant = {"quant_method": "gptq", "bits": 4, "group_size": 64, "sym": True}
    shape = shape_from_hf_config({**config, "intermediate_size": 1376, "quantization_config": quant}, "m")
    assert shape.checkpoint_weight_scope == "all"


def test_a_float_group_scheme_adds_no_integer_scales() -> None:
    assert stored_bytes(_ct({**INT4_G32, "type": "float", "num_bits": 8})) == 0.0


def test_an_upper_case_method_is_checked_as_its_lower_case() -> None:
    """quant_method is read case-blind (as `stored_bytes` and `group_size` read it): "GPTQ" with groups of 7 on
    Llama 3 8B's 4,096-wide hidden is refused as "gptq" is."""
    config, _ = read_entry("models", "llama3-8b")
    quant = {"quant_method": "GPTQ", "bits": 4, "group_size": 7, "sym": True}
    with pytest.raises(InputError, match="group_size 7 does not divide"):
        shape_from_hf_config({**config, "quantization_config": quant}, "m")
