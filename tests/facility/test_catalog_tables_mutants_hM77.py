"""hM77 mutation wave on hK76's catalog table kinds (`catalog.index`): `catalog cooling` lists each cooling type with
its description as the display name (a cooling entry has no display_name), as the web's catalog does."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from infraplan.catalog.index import entry
from infraplan.cli import main
from infraplan.web.app import create_app


def test_catalog_cooling_names_each_type_by_its_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "cooling", "--json"]) == 0
    (kind,) = json.loads(capsys.readouterr().out)["kinds"]
    shown = {e["name"]: e["display_name"] for e in kind["entries"]}
    assert {"air", "liquid", "immersion"} <= set(shown)
    assert all(shown[name] == entry("cooling", name)["description"] for name in shown)
    assert shown["liquid"].startswith("direct-to-chip liquid cooling")
    with TestClient(create_app()) as client:
        web = client.get("/api/catalog/cooling").json()
    assert {e["name"]: e["display_name"] for e in web["entries"]} == shown


@pytest.mark.parametrize(("kind", "command"), [
    ("failure-rates", ["reliability", "--system", "meta-rsc", "--gpus", "4096", "--failure-rate", "nope"]),
    ("build-types", ["facility", "--accelerator", "h100-sxm", "--count", "8", "--build-type", "nope"]),
    ("locations", ["facility", "--accelerator", "h100-sxm", "--count", "8", "--location", "nope"])])
def test_an_unknown_table_name_is_refused_as_the_command_refuses_it(kind: str, command: list[str],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """`catalog failure-rates nope` and `reliability --failure-rate nope` say one line ("unknown failure rate 'nope';
    known: ..."), and so for build types and locations."""
    said = []
    for args in (["catalog", kind, "nope"], command):
        assert main(args) == 2
        said.append(capsys.readouterr().err)
    assert said[0] == said[1] and said[0].count("\n") == 1 and "'nope'; known: " in said[0]
