"""A sweep's rows carry their model config's warnings (column `config_warnings`), and `infraplan results DIR`
says them (hQ4; before, a sweep said a config warning once on stderr and its stored rows did not carry it)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from infraplan.cli.main import main
from infraplan.sweep.query import query_results, run_sql
from infraplan.sweep.runner import run_sweep

CONFIG = {"model_type": "llama", "hidden_size": 1024, "num_hidden_layers": 4, "num_attention_heads": 8,
          "num_key_value_heads": 8, "intermediate_size": 4096, "vocab_size": 32000, "max_position_embeddings": 4096,
          "sliding_window": 1024}  # transformers' Llama has no window: priced as full attention, with a warning


def _sweep(tmp_path: Path, model: str) -> Path:
    spec = {"function": "train", "fixed": {"model": model, "system": "dgx-h100-superpod", "gpus": 8, "tp": 1,
                                           "seq_len": 2048},
            "axes": {"global_batch": [8, 16]}}
    out = tmp_path / "out"
    with warnings.catch_warnings():  # the once-a-process line on stderr, as before (a worker's, or this one's)
        warnings.simplefilter("ignore")
        run = run_sweep(spec, out, workers=1, progress=False)
    assert run.points_failed == 0
    return out


def test_the_rows_of_a_warned_config_carry_its_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "tiny-window" / "config.json"
    config.parent.mkdir()
    config.write_text(json.dumps(CONFIG))
    out = _sweep(tmp_path, str(config))
    _, rows = run_sql(out, "SELECT config_warnings FROM results")
    assert len(rows) == 2 and all("sliding_window 1024" in row[0] for row in rows)
    warned = query_results(out).config_warnings
    assert len(warned) == 1 and warned[0].endswith("(2 rows)") and "no sliding-window attention" in warned[0]
    capsys.readouterr()
    assert main(["results", str(out)]) == 0
    text = capsys.readouterr().out
    assert "warning: model config 'tiny-window': not read: sliding_window 1024" in text


def test_a_preset_without_warnings_has_a_null_column(tmp_path: Path) -> None:
    spec = {"function": "train", "fixed": {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8,
                                           "seq_len": 2048},
            "axes": {"global_batch": [8]}}
    run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert run_sql(tmp_path / "out", "SELECT config_warnings FROM results")[1] == [[None]]
    assert query_results(tmp_path / "out").config_warnings == []
