"""One test of "does a config's `mlp_layer_types` list place its experts" (hS66; hS65's read found it written five
ways in catalog/frontier_config.py and model_config_keys.py): `model_config_keys.listed_mlp_types`, a list on a
family whose transformers class reads it (`MLP_TYPE_FAMILIES`: deepseek_v32, transformers 5.25.0
modeling_deepseek_v32.py:593).

One reading moved with it: `freq_reading` kept quiet wherever a config held any `mlp_layer_types`, also on
deepseek_v3, whose class does not read the list (said "not read"): a `moe_layer_freq` 2 there was priced by the
remote-code rule (29 routed layers) while transformers' class routes 58, and only the unread list was said."""

from __future__ import annotations

from typing import Any

import pytest
from tests.catalog.test_moe_placement_keys_hL64 import _preset, _read

from infraplan.catalog.model_config_keys import listed_mlp_types


def _types(dense: list[int]) -> list[str]:
    return ["dense" if i in dense else "sparse" for i in range(61)]


@pytest.mark.parametrize(("model_type", "types", "listed"), [
    ("deepseek_v32", _types([0, 1, 2]), True), ("deepseek_v32", [], True), ("deepseek_v32", None, False),
    ("deepseek_v32", "sparse", False), ("deepseek_v3", _types([0, 1, 2]), False), (None, _types([0]), False)])
def test_a_list_on_a_family_that_reads_it(model_type: str | None, types: Any, listed: bool) -> None:
    assert listed_mlp_types({"model_type": model_type, "mlp_layer_types": types}) is listed


def test_an_unread_list_leaves_the_moe_layer_freq_reading_said() -> None:
    shape, lines = _read(_preset("deepseek-v3", moe_layer_freq=2, mlp_layer_types=_types([0, 1, 2, 3, 4])))
    assert shape.num_dense_layers == 61 - 29  # the list unread: the remote-code rule, as without it (hL64's test)
    assert any("not read: mlp_layer_types" in line for line in lines), lines
    said = [line for line in lines if "moe_layer_freq 2" in line]
    assert len(said) == 1 and "29 routed layers" in said[0] and "58 routed layers" in said[0], lines


def test_a_read_list_places_the_experts_and_no_moe_layer_freq_is_said() -> None:
    shape, lines = _read(_preset("deepseek-v3.2", moe_layer_freq=2, mlp_layer_types=_types([0, 1, 2, 3, 4])))
    assert shape.num_dense_layers == 5  # the list, not first_k_dense_replace / moe_layer_freq
    assert not any(line.startswith("model config 'copy': moe_layer_freq") for line in lines), lines
    assert any("mlp_layer_types: priced as transformers 5.25.0" in line for line in lines), lines
