"""hI66 mutation wave on the `mlp_layer_types` rules (hF65, `catalog.frontier_config`): mutants L5, L12.

* A family whose transformers class does not read `mlp_layer_types` (DeepSeek-V3: transformers 4.57.1
  modeling_deepseek_v3.py:456 places the experts by first_k_dense_replace) runs whatever the key holds, so a value
  that would be malformed for DeepSeek-V3.2 is named as not read, not refused (L5 refused it).
* With the list on DeepSeek-V3.2 the experts are where transformers 5.25.0 reads them (modeling_deepseek_v32.py:593),
  so `moe_layer_freq` prices nothing: the one line names the list's count and sglang 0.5.23's (i >= k and
  i % freq == 0, srt/models/deepseek_v2.py:2788-2791), and no line says the price follows the remote-code rule
  (L12). By hand: 61 layers, dense 0-2 by the list: 58 routed; sglang with k 3, freq 2: 4, 6, .., 60, 29 routed.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.catalog.test_moe_placement_keys_hL64 import _preset, _read


@pytest.mark.parametrize("types", ["dense", ["moe"] * 3, [1] * 61])
def test_a_family_that_does_not_read_the_list_runs_with_any_value(types: Any) -> None:
    shape, lines = _read(_preset("deepseek-v3", mlp_layer_types=types))
    assert shape.num_dense_layers == 3  # first_k_dense_replace, as transformers' deepseek_v3 reads it
    assert any("not read: mlp_layer_types" in line for line in lines), lines


def test_the_list_with_a_layer_freq_names_both_counts_in_one_line() -> None:
    types = ["dense" if i < 3 else "sparse" for i in range(61)]
    shape, lines = _read(_preset("deepseek-v3.2", mlp_layer_types=types, moe_layer_freq=2))
    assert shape.num_dense_layers == 3
    said = [line for line in lines if "routed layers" in line]
    assert len(said) == 1, lines
    assert "58 routed layers; dense: 0, 1, 2)" in said[0] and "(29 routed layers)" in said[0], said
    assert not any("priced by DeepSeek's remote-code rule" in line for line in lines), lines


def test_a_v32_config_without_the_list_says_nothing_of_it() -> None:
    """No list, no first_k_dense_replace: transformers 5.25.0 derives the list from the key's default 3
    (configuration_deepseek_v32.py:129-132), sglang reads the same default: one reading, no line on the list (L16)."""
    config = {k: v for k, v in _preset("deepseek-v3.2").items() if k not in ("first_k_dense_replace",
                                                                             "mlp_layer_types")}
    shape, lines = _read(config)
    assert shape.num_dense_layers == 3
    assert not any("mlp_layer_types" in line for line in lines), lines
