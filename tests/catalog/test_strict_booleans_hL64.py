"""A field that takes only booleans refuses anything else (hL, session 64; hH64's walk): pydantic's lax mode read a
stack file's quoted `cuda_graphs: "yes"` as true, `"off"` as false and `1` as true, in silence
(`catalog.spec_base.Spec`, the converse of its no-boolean-for-a-number rule), in every spec read from a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.catalog.spec_field_walk import field_errors, spec_fields

import infraplan.catalog
import infraplan.planning
from infraplan.catalog.spec_base import only_bools_field
from infraplan.catalog.stacks import load_stack
from infraplan.cli import main
from infraplan.errors import InputError

BOOL_FIELDS = spec_fields((infraplan.catalog, infraplan.planning), only_bools_field)


def test_the_catalog_has_boolean_fields_to_check():
    names = {f"{cls.__name__}.{name}" for cls, name in BOOL_FIELDS}
    assert {"Stack.cuda_graphs", "Network.rail_optimized", "Accelerator.liquid_cooled", "MoeRouting.fp8_dispatch",
            "ServingProfile.speculative_decoding", "ModelRecipe.cuda_graphs"} <= names, sorted(names)


@pytest.mark.parametrize("value", ["yes", "true", "off", "1", 1, 0, 1.0])
def test_every_boolean_field_refuses_what_is_not_a_boolean(value: Any):
    lax = [f"{cls.__name__}.{name}" for cls, name in BOOL_FIELDS
           if not any("takes true or false" in msg for msg in field_errors(cls, name, value))]
    assert not lax, lax


def test_every_boolean_field_takes_a_boolean():
    refused = [f"{cls.__name__}.{name}" for cls, name in BOOL_FIELDS
               if field_errors(cls, name, True) or field_errors(cls, name, False)]
    assert not refused, refused


def _stack_file(tmp_path: Path, line: str) -> str:
    path = tmp_path / "mine.yaml"
    path.write_text(f"extends: nemo-26.04\nname: mine\n{line}\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("line", ['cuda_graphs: "yes"', "cuda_graphs: 'off'", "cuda_graphs: 1",
                                  "moe: {fp8_dispatch: 'true'}"])
def test_a_stack_files_quoted_boolean_is_refused(tmp_path: Path, line: str):
    with pytest.raises(InputError, match=r"takes true or false, not"):
        load_stack(_stack_file(tmp_path, line))


def test_a_stack_files_plain_boolean_reads(tmp_path: Path):
    assert load_stack(_stack_file(tmp_path, "cuda_graphs: false")).cuda_graphs is False
    assert load_stack(_stack_file(tmp_path, "cuda_graphs: true")).cuda_graphs is True


def test_train_with_such_a_stack_says_one_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    code = main(["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--seq-len", "4096",
                 "--global-batch", "64", "--stack", _stack_file(tmp_path, 'cuda_graphs: "yes"')])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, (code, err)
    assert "cuda_graphs: takes true or false, not 'yes'" in err
