"""Mutation wave hM24 (session 46) on `infraplan schema` (hW47: `schema catalog [KIND]`, `--list --json`): the
listing's JSON is RESULT_MODELS plus `catalog KIND`, a word too many or an unknown kind is one line naming the
kinds, and a model's schema keeps its model's name as title."""

from __future__ import annotations

import json

import pytest
from tests.cli.conftest import CliRun

from infraplan.catalog.entry_schemas import ENTRY_MODELS
from infraplan.cli.commands.schema import RESULT_MODELS


def test_list_json_is_every_command_and_catalog_kind(cli: CliRun) -> None:
    code, out, err = cli(["schema", "--list", "--json"])
    assert code == 0, err
    listing = json.loads(out)
    assert set(listing) == {*RESULT_MODELS, "catalog KIND"}
    assert all(listing[k] == v for k, v in RESULT_MODELS.items())
    code, text, _ = cli(["schema", "--list"])
    assert code == 0 and any(line.startswith("catalog KIND\t") for line in text.splitlines())


def test_an_unknown_kind_names_every_known_kind(cli: CliRun) -> None:
    code, out, err = cli(["schema", "catalog", "zzzz"])
    assert code == 2 and out == "" and err.count("\n") == 1
    assert f"known: {', '.join(ENTRY_MODELS)}" in err


def test_a_word_after_the_kind_is_refused(cli: CliRun) -> None:
    """`schema catalog KIND` takes one kind: a third word is no command (it was read as the kind alone)."""
    kind = next(iter(ENTRY_MODELS))
    code, _, _ = cli(["schema", "catalog", kind])
    assert code == 0
    code, out, err = cli(["schema", "catalog", kind, "extra"])
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["train", "facility", "plan"])
def test_a_models_schema_is_titled_by_its_models_name(cli: CliRun, command: str) -> None:
    code, out, err = cli(["schema", *command.split()])
    assert code == 0, err
    assert json.loads(out)["title"] == RESULT_MODELS[command].partition(":")[2]
