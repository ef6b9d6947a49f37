"""Review fixes to session 44's Llama 4 reader (hR46).

A Llama 4 config without `intermediate_size` priced its routed experts at the reader's 4 x hidden (warned) but its
shared expert at width 0: one expert per MoE layer dropped, silently. transformers builds the shared expert as
`Llama4TextMLP(config)`, the routed experts' own width (modeling_llama4.py `Llama4TextMoe`, :167), so the shape must
be the one it gets when that width is stated.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import infraplan
from infraplan.catalog import model_config_keys, model_config_llama4
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_keys import ModelConfigWarning

SCOUT = Path(infraplan.__file__).parent / "catalog" / "models" / "llama4-scout.json"


def _scout(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(SCOUT.read_text())
    for key, value in changes.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    return config


def test_an_unstated_expert_width_prices_the_shared_expert_as_the_routed_ones() -> None:
    hidden = _scout()["hidden_size"]
    with pytest.warns(ModelConfigWarning, match="no intermediate_size"):  # the reader's 4 x hidden, said
        unstated = shape_from_hf_config(_scout(intermediate_size=None), "scout")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelConfigWarning)
        stated = shape_from_hf_config(_scout(intermediate_size=4 * hidden), "scout")
    assert unstated.ffn_hidden_size == stated.ffn_hidden_size == 4 * hidden
    assert unstated.shared_ffn_hidden_size == unstated.ffn_hidden_size  # was 0
    assert unstated.total_params() == stated.total_params()
    assert unstated.active_params() == stated.active_params()


def test_the_shipped_preset_keeps_its_stated_widths() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelConfigWarning)
        scout = shape_from_hf_config(_scout(), "scout")
    config = _scout()
    assert scout.ffn_hidden_size == scout.shared_ffn_hidden_size == config["intermediate_size"]


def test_one_set_names_the_llama4_families() -> None:
    """The key tables and the Llama 4 reader read the same families (two copies of the set could drift)."""
    assert model_config_llama4.LLAMA4_FAMILIES is model_config_keys.LLAMA4_FAMILIES
    for family in model_config_keys.LLAMA4_FAMILIES:  # read there: its chunked attention and QK norm are no warning
        with warnings.catch_warnings():
            warnings.simplefilter("error", ModelConfigWarning)
            shape = shape_from_hf_config(_scout(model_type=family), "scout")
        assert shape.num_chunked_layers > 0 and shape.qk_norm_layers > 0
