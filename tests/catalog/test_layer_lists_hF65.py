"""Per-layer lists of an MoE config (hF, session 65; session 64's "Left", Catalog):

* `mlp_only_layers: [1e300]` was read and its 301-digit index printed in the "not read" warning; an index beyond the
  layers was said, not refused (hL64). Now an index outside 0 .. num_hidden_layers - 1 is refused in one line.
* DeepSeek-V3.2's `mlp_layer_types` (transformers 5.25.0 configuration_deepseek_v32.py:113, derived from
  first_k_dense_replace where absent, :129-132; modeling_deepseek_v32.py:593 builds the experts where an entry is
  "sparse") was "not understood". Now it places the experts as transformers reads it; a list that differs from
  first_k_dense_replace (sglang 0.5.23's reading, srt/models/deepseek_v2.py:2788-2791) is said with both counts, and a
  malformed one refused in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.catalog.test_moe_placement_keys_hL64 import _preset, _read

from infraplan.cli import main
from infraplan.errors import InputError


@pytest.mark.parametrize("index", [1e300, 48, 10**6, -1, 2.5])
def test_an_mlp_only_index_outside_the_layers_is_refused(index: Any):
    with pytest.raises(InputError, match=r"mlp_only_layers must list layer indices from 0 to 47, got ") as caught:
        _read(_preset("qwen3-30b-a3b", mlp_only_layers=[2, index]))
    assert len(str(caught.value)) < 120, str(caught.value)


def test_train_with_a_huge_mlp_only_index_says_one_line_and_exits_2(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(_preset("qwen3-30b-a3b", mlp_only_layers=[1e300])))
    code = main(["train", str(path), "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "64"])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, err)
    assert "got 1e+300" in err and "0" * 30 not in err, err


def _types(dense: list[int]) -> list[str]:
    return ["dense" if i in dense else "sparse" for i in range(61)]


def test_mlp_layer_types_as_first_k_dense_replace_reads_as_the_preset_in_silence():
    stated, _ = _read(_preset("deepseek-v3.2"))
    listed, lines = _read(_preset("deepseek-v3.2", mlp_layer_types=_types([0, 1, 2])))
    assert listed == stated
    assert not any("mlp_layer_types" in line for line in lines), lines


def test_mlp_layer_types_places_the_experts_as_transformers_reads_it():
    shape, lines = _read(_preset("deepseek-v3.2", mlp_layer_types=_types([0, 1, 2, 3, 4])))
    assert (shape.num_dense_layers, shape.dense_layers_interleaved) == (5, False)
    assert shape.total_params() < _read(_preset("deepseek-v3.2"))[0].total_params()  # two routed layers fewer
    said = [line for line in lines if "mlp_layer_types" in line]
    assert len(said) == 1 and "56 routed layers; dense: 0, 1, 2, 3, 4" in said[0], lines
    assert "58 routed layers" in said[0] and "modeling_deepseek_v32.py:593" in said[0], said
    between, _ = _read(_preset("deepseek-v3.2", mlp_layer_types=_types([0, 1, 2, 30])))
    assert (between.num_dense_layers, between.dense_layers_interleaved) == (4, True)


def test_a_v32_config_with_the_list_and_no_first_k_is_not_said_to_take_its_default():
    config = {k: v for k, v in _preset("deepseek-v3.2", mlp_layer_types=_types([0])).items()
              if k != "first_k_dense_replace"}
    shape, lines = _read(config)
    assert shape.num_dense_layers == 1
    assert not any("first_k_dense_replace" in line and "default" in line for line in lines), lines
    assert any("60 routed layers; dense: 0)" in line and "(58 routed layers)" in line for line in lines), lines  # k 3


@pytest.mark.parametrize(("types", "got"), [(["dense"] * 5, "got 5 entries"), ("dense", "got dense"),
                                           (["moe"] * 61, "got 'moe'"), ([1] * 61, "got '1'")])
def test_a_malformed_mlp_layer_types_is_refused_in_one_line(types: Any, got: str):
    with pytest.raises(InputError, match=rf"mlp_layer_types must be a list of 'dense' or 'sparse', one per layer "
                                         rf"\(61\), {got}$"):
        _read(_preset("deepseek-v3.2", mlp_layer_types=types))


def test_mlp_layer_types_on_a_family_that_does_not_read_it_is_named_as_not_read():
    shape, lines = _read(_preset("deepseek-v3", mlp_layer_types=_types([0, 1, 2, 3, 4])))
    assert shape.num_dense_layers == 3  # deepseek_v3 places experts by first_k_dense_replace
    assert any("not read: mlp_layer_types (transformers' deepseek_v3 model places its experts by its own keys)"
               in line for line in lines), lines
    assert not any("not understood" in line for line in lines), lines
