"""A boolean placement step is refused in one line (hI65's MK13): transformers 4.57.1 divides the layer index by
`decoder_sparse_step` (modeling_qwen3_moe.py:296 `(layer_idx + 1) % config.decoder_sparse_step`), so `false` raises
ZeroDivisionError there and `true` means 1 only by Python's int(True); DeepSeek's remote code divides by
`moe_layer_freq` alike. Before, `false` was read as 1 (every layer routed) in silence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.errors import InputError

MODELS = Path(__file__).resolve().parents[2] / "src" / "infraplan" / "catalog" / "models"


@pytest.mark.parametrize("key", ["decoder_sparse_step", "moe_layer_freq"])
@pytest.mark.parametrize(("value", "said"), [(False, "false: the placement rule divides"),
                                           (True, "must be null or a whole number")])
def test_a_boolean_placement_step_is_refused(key: str, value: bool, said: str) -> None:
    config = {k: v for k, v in json.loads((MODELS / "qwen3-30b-a3b.json").read_text()).items() if k != "source"}
    with pytest.raises(InputError, match=f"{key} {said}"):
        shape_from_hf_config({**config, key: value}, "copy")


def test_a_step_of_one_still_routes_every_layer() -> None:
    config = {k: v for k, v in json.loads((MODELS / "qwen3-30b-a3b.json").read_text()).items() if k != "source"}
    assert shape_from_hf_config({**config, "decoder_sparse_step": 1}, "copy").num_dense_layers == 0
