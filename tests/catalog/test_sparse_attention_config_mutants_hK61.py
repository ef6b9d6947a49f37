"""Mutant-killing checks of `catalog.frontier_config` for DeepSeek-V3.2 (hK, session 61): a config naming the V3.2
architecture but another model_type and no indexer key is dense MLA, said in one warning (hC61), not in silence; a
deepseek_v32 config's `sliding_window` is not read (transformers' DeepSeek-V3.2 attends every key: no window)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_keys import ModelConfigWarning

SHIPPED = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "deepseek-v3.2.json"
INDEXER = ("index_topk", "index_n_heads", "index_head_dim")


def _lines(config: dict[str, object]) -> tuple[bool, list[str]]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "my-v32")
    return shape.is_sparse_attention, [str(w.message) for w in seen if issubclass(w.category, ModelConfigWarning)]


def test_a_v32_architecture_alone_is_named() -> None:
    """transformers' deepseek_v3 model has no indexer: the V3.2 architecture without any indexer key is priced dense,
    and the warning names the architecture (the only hint the user meant DSA)."""
    config = {k: v for k, v in json.loads(SHIPPED.read_text()).items() if k not in INDEXER}
    config["model_type"] = "deepseek_v3"
    assert "DeepseekV32ForCausalLM" in config["architectures"]  # type: ignore[operator]
    sparse, lines = _lines(config)
    said = [line for line in lines if "DeepSeek Sparse Attention not priced" in line]
    assert not sparse and len(said) == 1 and "architectures DeepseekV32ForCausalLM" in said[0]
    sparse, lines = _lines({**config, "architectures": ["DeepseekV3ForCausalLM"]})
    assert not sparse and not [line for line in lines if "Sparse Attention" in line]


def test_a_v32_sliding_window_key_is_not_read() -> None:
    """transformers' deepseek_v32 model has no sliding window (`NO_WINDOW_FAMILIES`): the key is named unread and
    the shape is the shipped one, every layer full (indexed) attention."""
    config = json.loads(SHIPPED.read_text())
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        plain = shape_from_hf_config(config, "my-v32")
        windowed = shape_from_hf_config({**config, "sliding_window": 4096}, "my-v32")
    assert windowed == plain and windowed.sliding_fraction() == 0.0 and windowed.is_sparse_attention
    said = [str(w.message) for w in seen if issubclass(w.category, ModelConfigWarning)]
    assert any("sliding_window" in line for line in said)
