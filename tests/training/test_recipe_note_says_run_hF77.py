"""A recipe's note says the settings the run has (hF77): the frontier rows' performance configurations set CUDA graphs
and TE's loss after the model's recipe (graphs off, native loss) was applied, and the note still named the recipe's
values. Checked failing before: the note said "CUDA graphs off, loss kernel native" for a stack running them on / te."""

from __future__ import annotations

from pathlib import Path

from infraplan.catalog.model_recipes import recipe_note
from infraplan.catalog.stacks import resolve_stack


def _stack(tmp_path: Path):  # type: ignore[no-untyped-def]
    own = tmp_path / "own.yaml"
    own.write_text("extends: nemo-26.04\nmodel_recipes:\n"
                   "  - {model: llama3-8b, source: my recipe, cuda_graphs: false, cross_entropy_impl: native,"
                   " grad_reduce_dtype: fp32}\n")
    return resolve_stack(str(own), "training", "llama3-8b")


def test_the_recipe_applied_is_said_as_it_is(tmp_path: Path) -> None:
    note = recipe_note(_stack(tmp_path))
    assert note is not None and "this run sets instead" not in note
    assert "CUDA graphs off" in note and "loss kernel native" in note and "(my recipe)" in note


def test_settings_set_after_the_recipe_are_said_with_the_value_run(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    run = stack.model_copy(update={"cuda_graphs": True, "cross_entropy_impl": "te"})
    note = recipe_note(run)
    assert note is not None
    recipe_part, instead = note.split("; this run sets instead: ")
    assert "CUDA graphs" not in recipe_part and "loss kernel" not in recipe_part
    assert "gradients reduced in fp32" in recipe_part  # the setting the run kept stays the recipe's
    assert instead == "CUDA graphs on, loss kernel te"
