"""hI65 mutation wave on `catalog.frontier_config.mlp_only_beyond` / `freq_reading` (hL64), against transformers
4.57.1 read in the wheel: Qwen3-MoE's decoder layer `layer_idx not in config.mlp_only_layers`
(modeling_qwen3_moe.py:295) over layer_idx 0 .. num_hidden_layers - 1, so index 48 of a 48-layer model names no layer;
DeepseekV2DecoderLayer builds its MoE by `layer_idx >= config.first_k_dense_replace` alone
(modeling_deepseek_v2.py:413; its config class has no moe_layer_freq), as V3's does (:456)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.errors import InputError

MODELS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "models"
BASE = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 6, "num_attention_heads": 8,
        "num_key_value_heads": 8, "vocab_size": 32000, "num_experts_per_tok": 2, "moe_intermediate_size": 512,
        "n_shared_experts": 1, "first_k_dense_replace": 1}


def _lines(config: dict[str, Any]) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        shape_from_hf_config(config, "copy")
    return [str(w.message) for w in caught]


def test_the_index_equal_to_the_layer_count_names_no_layer() -> None:
    """48 layers are 0-47: index 47 names the last layer (read: one dense layer fewer routed), 48 names none (refused
    since hF65, which replaced hL64's warning)."""
    config = {k: v for k, v in json.loads((MODELS / "qwen3-30b-a3b.json").read_text()).items() if k != "source"}
    last = shape_from_hf_config({**config, "mlp_only_layers": [47]}, "copy")
    assert last.num_dense_layers == 1
    with pytest.raises(InputError, match="from 0 to 47, got 48"):
        shape_from_hf_config({**config, "mlp_only_layers": [48]}, "copy")


def test_deepseek_v2s_moe_layer_freq_names_both_readings() -> None:
    """6 layers, the first dense, moe_layer_freq 2: the remote-code rule routes layers 2 and 4; transformers'
    DeepseekV2 routes 1-5 (5 layers)."""
    lines = _lines({"model_type": "deepseek_v2", **BASE, "n_routed_experts": 16, "moe_layer_freq": 2})
    said = [line for line in lines if "moe_layer_freq 2" in line]
    assert len(said) == 1 and "2 routed layers" in said[0] and "5 routed layers" in said[0], lines
    assert "modeling_deepseek_v2.py:413" in said[0]


def test_a_dense_config_has_no_routed_layers_to_read_two_ways() -> None:
    """One expert is priced dense: no layer is routed under either reading, so no two-readings note (the key is
    named among the MoE keys a dense config does not read)."""
    lines = _lines({"model_type": "deepseek_v3", **BASE, "n_routed_experts": 1, "moe_layer_freq": 2})
    assert not any("remote-code rule" in line for line in lines), lines
