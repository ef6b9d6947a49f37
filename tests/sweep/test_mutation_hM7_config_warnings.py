"""Mutation wave 7 (hM7, session 37): sweep/functions.py `config_warnings`, a row's model config warnings one per
line (None when none); fails on a mutant joining them otherwise (validation/notes/test_suite_cost_tried.md)."""

from __future__ import annotations

import json
from pathlib import Path

from infraplan.catalog.loader import model_config_warnings
from infraplan.sweep.functions import config_warnings

CONFIG = {"model_type": "llama", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
          "num_key_value_heads": 8, "intermediate_size": 4096, "max_position_embeddings": 4096,
          "sliding_window": 1024}  # two warnings: no vocab_size (a default said) and an unread window


def test_each_warning_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "two" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps(CONFIG))
    lines = model_config_warnings(str(path))
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    got = config_warnings({"model": str(path)})
    assert got is not None and got.split("\n") == list(lines)
    assert "no vocab_size" in got and "sliding_window 1024" in got
    assert config_warnings({"model": "llama3-8b"}) is None and config_warnings({"model": None}) is None
