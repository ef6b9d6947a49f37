"""hU59 (session 59): `infraplan catalog models` lists what a user needs of each model (family, total and active
parameters, layers, context) as the commands read its config.json; hW59 found a column of "-" (config files carry no
display name) and nothing else. At the base tree the table had no family / params column and the JSON entries no
`total_parameters` (both tests fail there)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json

from infraplan.catalog.loader import load_model
from infraplan.cli.main import main
from infraplan.web.app import create_app


def test_the_models_table_shows_family_parameters_layers_and_context(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["catalog", "models"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    assert "family" in out and "display name" not in out
    cells = [cell.strip() for cell in rows["deepseek-v3"].split("│")[2:7]]  # (widths follow the longest entry)
    assert cells == ["deepseek_v3", "671 B", "37.6 B", "61", "163,840"]
    assert "mixtral" in rows["mixtral-8x7b"] and "46.7 B" in rows["mixtral-8x7b"] and "12.9 B" in rows["mixtral-8x7b"]
    assert "1.03 T" in rows["kimi-k2"]  # a trillion-parameter model in T
    assert not any(cell.strip() == "-" for row in rows.values() for cell in row.split("│"))


def test_the_json_and_the_web_carry_the_figures_the_commands_read(capsys: pytest.CaptureFixture[str]) -> None:
    entries: list[dict[str, Any]] = cli_json(capsys, "catalog models")["kinds"][0]["entries"]
    v3 = next(e for e in entries if e["name"] == "deepseek-v3")
    shape = load_model("deepseek-v3")
    assert (v3["family"], v3["total_parameters"], v3["active_parameters"], v3["layers"], v3["context_tokens"]) == (
        "deepseek_v3", shape.total_params(), shape.active_params(), 61, 163_840)
    assert 670e9 < v3["total_parameters"] < 672e9 and 37e9 < v3["active_parameters"] < 38e9  # the report's 671 / 37 B
    with TestClient(create_app()) as client:
        assert client.get("/api/catalog/models").json()["entries"] == entries  # web = CLI --json
    systems = cli_json(capsys, "catalog systems")["kinds"][0]["entries"]
    assert all(e["family"] is None and e["total_parameters"] is None for e in systems)  # models' fields only
