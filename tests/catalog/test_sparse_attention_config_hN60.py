"""A user's config.json with DeepSeek Sparse Attention keys (`catalog.frontier_config`, hN60): an index_topk of 0 or
below selects no key and a fractional integer key is no whole number; each is one line, where 0 was priced as dense
attention and 2.5 as 2 in silence. Leaving index_topk out is dense attention, as before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.catalog.loader import load_model
from infraplan.cli import main

SHIPPED = Path(__file__).parents[2] / "src" / "infraplan" / "catalog" / "models" / "deepseek-v3.2.json"
PLAN = ["--system", "h800", "--gpus", "256", "--tp", "8", "--ep", "32", "--seq-len", "8192", "--global-batch",
        "256", "--dtype", "fp8", "--zero", "1", "--stack", "deepseek-v3"]


def _config(tmp_path: Path, **changes: object) -> Path:
    config = json.loads(SHIPPED.read_text())
    config.update(changes)
    path = tmp_path / "my-v32.json"
    path.write_text(json.dumps(config))
    return path


@pytest.mark.parametrize(("topk", "words"), [(0, "index_topk 0 selects no key"),
                                             (-5, "index_topk -5 selects no key"),
                                             (2.5, "index_topk 2.5 is not a whole number")])
def test_bad_index_topk_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], topk: object,
                                    words: str) -> None:
    path = _config(tmp_path, index_topk=topk)
    assert main(["train", str(path), *PLAN]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and words in err


def test_whole_float_topk_reads_as_the_integer(tmp_path: Path) -> None:
    """2048.0 is 2048 (a JSON writer's float), and the shipped config's 2048 stays sparse."""
    assert load_model(str(_config(tmp_path, index_topk=2048.0))).index_topk == 2048
    assert load_model("deepseek-v3.2").index_topk == 2048
