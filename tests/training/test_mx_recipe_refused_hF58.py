"""A stack file's `fp8: {recipe: mx}` is refused in one line naming `--dtype mxfp8` (hF58).

`mx` was an fp8 scaling recipe a stack could name, priced nowhere as MXFP8: `train llama3-8b --system b200 --gpus 8
--dtype fp8` under torchtitan with `recipe: mx` answered 1.2167 s a step, bit for bit torchtitan's per-tensor fp8
(`--dtype mxfp8` prices 1.1369 s), and on H100 it priced a recipe Transformer Engine refuses there ("Device compute
capability 10.0 or higher required for MXFP8 execution", TE 2.14 pytorch/quantization.py:62-68). MXFP8 is a
precision of its own here (`--dtype mxfp8`, `ops.precision.RECIPES`); a stack's fp8 recipe scales fp8 plans.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.stacks import Fp8Recipe, load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError


def _stack_file(tmp_path: Path, recipe: str) -> str:
    path = tmp_path / f"tt_{recipe}.yaml"
    path.write_text(f"extends: torchtitan\nfp8: {{recipe: {recipe}}}\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("system", ["h100-sxm", "b200"])
def test_train_refuses_an_mx_recipe_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                system: str) -> None:
    rc = main(["train", "llama3-8b", "--system", system, "--gpus", "8", "--seq-len", "2048",
                    "--global-batch", "64", "--dtype", "fp8", "--stack", _stack_file(tmp_path, "mx")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert "--dtype mxfp8" in err and "quantization.py:62-68" in err


def test_the_fp8_recipes_left_load(tmp_path: Path) -> None:
    for recipe in ("delayed", "current", "blockwise"):
        assert load_stack(_stack_file(tmp_path, recipe)).fp8.recipe == recipe
    with pytest.raises(InputError, match="--dtype mxfp8"):
        load_stack(_stack_file(tmp_path, "mx"))
    with pytest.raises(ValueError, match="precision of its own"):
        Fp8Recipe(recipe="mx")  # type: ignore[arg-type]
