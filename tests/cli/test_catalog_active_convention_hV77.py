"""hV77 (hW77's walk): `catalog models` gave gpt-oss-120b 5.71 B active where OpenAI's card gives 5.13 B, without a
word: the column counts the input embedding (as DeepSeek, Qwen and Mistral publish active parameters), the card does
not (tests/catalog/test_frontier_models.py's PUBLISHED). One rule, named under the table; the JSON carries both."""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.conftest import cli_json

from infraplan.catalog import load_model
from infraplan.cli import main


def _entries(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in cli_json(capsys, "catalog models")["kinds"][0]["entries"]}


@pytest.mark.parametrize(("name", "card"), [("gpt-oss-120b", 5.13e9), ("gpt-oss-20b", 3.61e9)])
def test_the_json_gives_the_card_convention_beside_the_column(capsys: pytest.CaptureFixture[str], name: str,
                                                              card: float) -> None:
    e = _entries(capsys)[name]
    shape = load_model(name)
    assert e["active_parameters"] == shape.active_params()
    assert e["active_parameters_without_input_embedding"] == shape.active_params(input_embedding=False)
    assert abs(e["active_parameters_without_input_embedding"] / card - 1) < 0.005  # OpenAI's card
    assert e["active_parameters"] - e["active_parameters_without_input_embedding"] == \
        shape.vocab_size * shape.hidden_size  # the input table, untied from the head


def test_the_table_names_its_convention(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "models"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "active: parameters a token touches, the input embedding counted" in out
    assert "active_parameters_without_input_embedding" in out
