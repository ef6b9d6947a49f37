"""DeepSeek-V3.2's sparse-attention keys (index_topk 2048, index_n_heads 64, index_head_dim 128): hW59 named them as
not modelled where they had been "not understood (ignored)"; hI60 reads them (`ops.sparse_attention`), so a user's
DeepSeek-V3.2 config.json loads without either line and with the indexer in the shape."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_keys import UNMODELLED_KEYS, ModelConfigWarning

V3 = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "deepseek-v3.json"


def test_the_indexer_keys_are_read_not_unmodelled_nor_unknown() -> None:
    config = {**json.loads(V3.read_text()), "model_type": "deepseek_v32", "index_topk": 2048,
              "index_n_heads": 64, "index_head_dim": 128}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        shape = shape_from_hf_config(config, "deepseek-v32")
    lines = [str(w.message) for w in seen if issubclass(w.category, ModelConfigWarning)]
    assert not any("not modelled" in line or "not understood" in line or "not a family" in line for line in lines)
    assert (shape.index_topk, shape.index_n_heads, shape.index_head_dim) == (2048, 64, 128)
    assert not {"index_topk", "index_n_heads", "index_head_dim"} & set(UNMODELLED_KEYS)
