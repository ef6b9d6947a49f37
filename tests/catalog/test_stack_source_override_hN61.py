"""A stack file that `extends` a stack and changes a sourced setting without its own `<field>_source` no longer keeps
the parent's citation, which described the parent's value (hN61): the loaded source says the file set it and what it
overrode (`catalog.stack_files.own_sources`). Such files still load (none is refused for it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.stack_files import LABELS, cited_settings
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cli import main
from infraplan.errors import InputError


def _load(tmp_path: Path, text: str, name: str = "mine") -> Stack:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return load_stack(str(path))


def test_an_overridden_setting_cites_the_file_not_the_parent(tmp_path: Path) -> None:
    parent = load_stack("deepseek-v3")
    stack = _load(tmp_path, "extends: deepseek-v3\nname: mine\noptimizers: [muon]\noptimizer: muon\n")
    assert stack.optimizers == ("muon",)
    assert stack.optimizers_source != parent.optimizers_source
    assert stack.optimizers_source.startswith("optimizers set by ")
    assert "mine.yaml" in stack.optimizers_source
    assert "overriding deepseek-v3's optimizers adam" in stack.optimizers_source
    # the other sources stay the parent's: their settings were not changed
    assert stack.pipeline_schedules_source == parent.pipeline_schedules_source


def test_a_source_the_file_gives_is_kept(tmp_path: Path) -> None:
    stack = _load(tmp_path, "extends: deepseek-v3\nname: mine\noptimizers: [muon]\noptimizer: muon\n"
                  "optimizers_source: my own notes\n")
    assert stack.optimizers_source == "my own notes"


def test_the_parents_value_set_again_keeps_its_citation(tmp_path: Path) -> None:
    parent = load_stack("nemo-26.04")
    stack = _load(tmp_path, "extends: nemo-26.04\nname: mine\noptimizers: [adam, muon]\nsparse_attention: dsa\n")
    assert stack.optimizers_source == parent.optimizers_source
    assert stack.sparse_attention_source == parent.sparse_attention_source


def test_a_setting_the_parent_leaves_unsourced_still_needs_its_source(tmp_path: Path) -> None:
    assert load_stack("nemo-26.04").dtypes is None
    with pytest.raises(InputError, match="dtypes needs dtypes_source"):
        _load(tmp_path, "extends: nemo-26.04\nname: mine\ndtypes: [bf16]\n")


def test_a_label_citing_several_settings(tmp_path: Path) -> None:
    """`zero3_collectives_source` cites `zero3_edge_tables` too (its description): changing it rewrites that label."""
    stack = _load(tmp_path, "extends: torchtitan\nname: mine\nzero3_edge_tables: embedding\n")
    assert stack.zero3_collectives_source.startswith("zero3_edge_tables set by ")
    assert "overriding torchtitan's zero3_edge_tables root" in stack.zero3_collectives_source


def test_every_source_label_cites_a_setting() -> None:
    cited = cited_settings(Stack.model_fields)
    assert set(cited) == {label for label in LABELS if label.endswith("_source")}
    assert all(cited.values()) and all(set(v) <= set(Stack.model_fields) for v in cited.values())


def test_a_refusal_quotes_the_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """hI61's file (`optimizers: [muon]` over deepseek-v3's adam default): the refusal's citation is the file's."""
    path = tmp_path / "mine.yaml"
    path.write_text("extends: deepseek-v3\nname: mine\noptimizers: [muon]\n")
    assert main(["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "8", "--stack", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "(its optimizers: muon; optimizers set by " in err
