"""A shipped model's config.json copied with some keys changed, and the one error line a CLI command prints: the
user configs of the walks' tests (hW72: tests/training/test_ffn_split_hW72.py, tests/serving/test_tp_split_hW72.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli.main import main

MODELS = Path(__file__).resolve().parents[1] / "src" / "infraplan" / "catalog" / "models"


def config_copy(tmp_path: Path, base: str, name: str, **changes: int) -> str:
    """The path of `base`'s shipped config.json with `changes` applied, written as `name`.json under `tmp_path`."""
    config = json.loads((MODELS / f"{base}.json").read_text(encoding="utf-8"))
    config.update(changes)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return str(path)


def one_line_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The stderr line of `infraplan ARGV`, checked to exit 2 with nothing on stdout and one line, no traceback."""
    capsys.readouterr()
    assert main(list(argv)) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()
