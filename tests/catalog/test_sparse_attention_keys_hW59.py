"""DeepSeek-V3.2's sparse-attention keys are named as not modelled (hW59): a user's DeepSeek-V3.2 config.json
(index_topk 2048, index_n_heads 64, index_head_dim 128) was priced as dense MLA with the keys called "not
understood (ignored)", as if they were bookkeeping; they change the attention's FLOPs at long context."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from infraplan.catalog.model_config import shape_from_hf_config
from infraplan.catalog.model_config_keys import ModelConfigWarning

V3 = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "deepseek-v3.json"


def test_the_indexer_keys_are_not_modelled_not_unknown() -> None:
    config = {**json.loads(V3.read_text()), "model_type": "deepseek_v32", "index_topk": 2048,
              "index_n_heads": 64, "index_head_dim": 128}
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        shape_from_hf_config(config, "deepseek-v32")
    lines = [str(w.message) for w in seen if issubclass(w.category, ModelConfigWarning)]
    assert any("not modelled" in line and "index_topk, index_n_heads, index_head_dim" in line for line in lines)
    assert not any("not understood" in line for line in lines)
