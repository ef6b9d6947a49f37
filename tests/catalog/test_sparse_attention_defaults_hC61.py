"""A DeepSeek-V3.2-style config.json without `index_topk` (`catalog.frontier_config._sparse_attention`, hC61): it
was priced as dense MLA in silence. transformers' DeepseekV32Config defaults index_topk 2048, index_n_heads 64 and
index_head_dim 128, so a model_type deepseek_v32 config that leaves them out is priced with them, one warning line
naming them; another family's indexer keys or a V3.2 architecture without index_topk stay dense, named."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from infraplan.catalog.frontier_config import DSA_DEFAULTS
from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_keys import ModelConfigWarning
from infraplan.catalog.transformer_shape import TransformerShape
from infraplan.cli import main

SHIPPED = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "deepseek-v3.2.json"


def _read(drop: tuple[str, ...] = (), **changes: Any) -> tuple[TransformerShape, list[str]]:
    config = {k: v for k, v in json.loads(SHIPPED.read_text()).items() if k not in drop} | changes
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "my-v32")
    return shape, [str(w.message) for w in seen if issubclass(w.category, ModelConfigWarning)]


@pytest.mark.parametrize("drop", [("index_topk",), ("index_n_heads", "index_head_dim"),
                                  ("index_topk", "index_n_heads", "index_head_dim")])
def test_a_v32_config_without_an_indexer_key_takes_its_default_said(drop: tuple[str, ...]) -> None:
    full, quiet = _read()
    shape, lines = _read(drop)
    assert (shape.index_topk, shape.index_n_heads, shape.index_head_dim) == tuple(DSA_DEFAULTS.values())
    assert shape.is_sparse_attention and shape == full.model_copy(update={"name": shape.name})
    said = [line for line in lines if "DeepseekV32Config defaults" in line]
    assert not [line for line in quiet if "DeepseekV32Config" in line]
    assert len(said) == 1 and all(f"{key} {DSA_DEFAULTS[key]:,}" in said[0] for key in drop)


def test_a_given_key_is_kept_beside_the_defaults() -> None:
    shape, lines = _read(("index_topk",), index_n_heads=32)
    assert (shape.index_topk, shape.index_n_heads) == (2048, 32)
    assert any("without index_topk:" in line for line in lines)


def test_a_null_index_topk_is_a_missing_one_and_0_is_refused() -> None:
    assert _read(index_topk=None)[0].index_topk == 2048
    with pytest.raises(Exception, match="selects no key"):
        _read(index_topk=0)


def test_indexer_keys_on_another_family_are_dense_and_named() -> None:
    """transformers' deepseek_v3 model has no indexer: dense MLA, the keys (and a V3.2 architecture) named."""
    shape, lines = _read(("index_topk",), model_type="deepseek_v3")
    assert not shape.is_sparse_attention and shape.index_n_heads == 0
    said = [line for line in lines if "DeepSeek Sparse Attention not priced" in line]
    assert len(said) == 1 and "index_n_heads 64" in said[0] and "DeepseekV32ForCausalLM" in said[0]
    bare, quiet = _read(("index_topk", "index_n_heads", "index_head_dim", "architectures"), model_type="deepseek_v3")
    assert not bare.is_sparse_attention and not [line for line in quiet if "Sparse Attention" in line]


def test_train_prices_the_defaulted_config_as_the_shipped_one(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    plan = ["--system", "h800", "--gpus", "256", "--tp", "8", "--ep", "32", "--seq-len", "8192", "--global-batch",
            "256", "--dtype", "fp8", "--zero", "1", "--stack", "deepseek-v3", "--json"]
    config = {k: v for k, v in json.loads(SHIPPED.read_text()).items() if k != "index_topk"}
    path = tmp_path / "my-v32.json"
    path.write_text(json.dumps(config))
    assert main(["train", str(path), *plan]) == 0
    mine = capsys.readouterr()
    assert main(["train", str(SHIPPED), *plan]) == 0
    shipped = json.loads(capsys.readouterr().out)
    assert json.loads(mine.out)["step_time_s"] == shipped["step_time_s"]
    assert "DeepseekV32Config defaults" in mine.err
