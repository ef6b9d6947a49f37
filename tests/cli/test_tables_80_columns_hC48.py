"""hC48 (session 45): `plan`, `compare` and `fleet-mix` tables at 80 and 120 columns (cli/commands/_fitted_table.py).

At 80 columns Rich cut headers and numbers ("devic es", "$49 8 k", "reque…", hU57). Now no table line is wider than
the console, every identifier and number cell is printed whole inside one cell, every header word is whole, and a
table too wide is printed in parts that each repeat its identifier columns; at 120 fewer are split.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.cli import main
from infraplan.cli.commands import _fitted_table, _output
from infraplan.cli.commands._fitted_table import ID, NUMBER, TEXT, Col, fitted_tables, table_width

BOX = set("┃│┏┡└━─╇┳┴")
SCENARIO = {
    "name": "wide-scenario", "phases": [{"name": "2025", "year": 2025}, {"name": "2027", "year": 2027}],
    "services": [{"name": "ranking-for-the-home-feed", "kind": "recsys", "model": "dlrm-low", "qps": "40M",
                  "latency_slo": "10ms", "growth": {"2027": 3.0}},
                 {"name": "video-ingest", "kind": "video", "daily_hours": 300000}],
    "pools": [{"name": "h100-ohio-expansion", "device": "h100-sxm", "site": "ohio-datacenter-east",
               "price_usd_per_device": 41_000},
              {"name": "msvp", "device": "msvp", "site": "ohio-datacenter-east", "price_usd_per_device": 1_500}],
    "sites": [{"name": "ohio-datacenter-east", "power": "50MW", "location": "ohio"}],
    "policy": {"objective": "tco", "spare_probability": 0.99}}
FLEET = {"name": "wide-fleet", "objective": "power",
         "services": [{"name": "early-ranking", "kind": "recsys", "model": "dlrm-low", "qps": "400M",
                       "latency_slo": "10ms"},
                      {"name": "video-ingest", "kind": "video", "daily_hours": 75000}],
         "pools": [{"name": "mtia-v2", "device": "mtia-v2", "available": 3000, "price_usd_per_device": 9000},
                   {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42000},
                   {"name": "msvp", "device": "msvp", "available": 20000, "price_usd_per_device": 1500}]}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {}
    for name, data in (("plan", SCENARIO), ("fleet", FLEET),
                       ("other", {**SCENARIO, "name": "the-same-with-dearer-h100s", "pools": [
                           {**SCENARIO["pools"][0], "price_usd_per_device": 52_000}, SCENARIO["pools"][1]]})):
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(data))
        paths[name] = str(path)
    return paths


def _render(args: list[str], width: int, monkeypatch: pytest.MonkeyPatch,
            capsys: pytest.CaptureFixture[str]) -> tuple[str, list[tuple[list[Col], list[list[str]]]]]:
    """The command's text at `width` columns, and every table it printed through `fitted_tables` (its columns and
    rows)."""
    seen: list[tuple[list[Col], list[list[str]]]] = []
    real = _fitted_table.fitted_tables

    def spy(title: str | None, cols: Any, rows: Any, at: int) -> Any:
        seen.append((list(cols), [list(r) for r in rows]))
        return real(title, cols, rows, at)

    monkeypatch.setattr(_fitted_table, "fitted_tables", spy)
    monkeypatch.setattr(_output.console, "width", width)
    capsys.readouterr()
    assert main(args) == 0
    return capsys.readouterr().out, seen


def _check(out: str, tables: list[tuple[list[Col], list[list[str]]]], width: int) -> None:
    lines = [line for line in out.splitlines() if BOX & set(line)]
    assert tables and lines and max(len(line) for line in lines) <= width
    for cols, rows in tables:
        for i, col in enumerate(cols):
            for word in col.header.split():  # a header wraps at its spaces only
                assert re.search(rf"[┃ ]{re.escape(word)}[ ┃]", out), (word, width)
            if col.kind == TEXT:
                continue
            for row in rows:  # a number with its unit or a name, whole inside one cell (a label's words whole)
                for part in row[i].split() if " " in row[i] and col.kind == ID else [row[i]]:
                    assert re.search(rf"[│┃] +{re.escape(part)} +[│┃]" if part == row[i] else
                                     rf"[│┃ ]{re.escape(part)}[ │┃]", out), (part, width)


@pytest.mark.parametrize("command", ["plan", "compare", "fleet-mix"])
def test_tables_fit_80_columns_without_cutting_a_cell_and_print_whole_at_120(
        command: str, files: dict[str, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    args = {"plan": ["plan", files["plan"]], "compare": ["compare", files["plan"], files["other"]],
            "fleet-mix": ["fleet-mix", files["fleet"]]}[command]
    narrow, tables = _render(args, 80, monkeypatch, capsys)
    _check(narrow, tables, 80)
    wide, tables = _render(args, 120, monkeypatch, capsys)
    _check(wide, tables, 120)
    if command == "compare":  # two scenarios fit 80 columns whole, the metric labels wrapped at their spaces
        assert "(1/2)" not in narrow + wide and "(installed" in narrow
    else:  # tables too wide for 80 are split there, fewer of them at 120 (fleet-mix's none)
        assert "(1/" in narrow and wide.count("(1/") < narrow.count("(1/")
        assert command == "plan" or "(1/2)" not in wide


def test_a_split_repeats_the_identifier_columns_and_keeps_the_columns_order() -> None:
    cols = [Col("name", ID), *(Col(f"figure {k}") for k in range(8)), Col("note", TEXT)]
    rows = [["pool-with-a-long-name", *(f"{k * 1111.1:,.1f} kW" for k in range(8)), "a long note " * 4]]
    parts = fitted_tables("t", cols, rows, 80)
    assert len(parts) >= 2 and [p.title for p in parts] == [f"t ({n}/{len(parts)})" for n in range(1, len(parts) + 1)]
    headers = [[str(c.header) for c in p.columns] for p in parts]
    assert all(h[0] == "name" for h in headers)
    assert [x for h in headers for x in h[1:]] == [c.header for c in cols[1:]]  # each column once, in order
    for p in parts:  # each part within 80 columns at the widths it was given
        assert table_width([c.width or 0 for c in p.columns]) <= 80
    assert fitted_tables("t", cols[:3], rows, 80)[0].title == "t"  # one part: the title as given


def test_a_number_column_is_never_narrower_than_its_widest_cell() -> None:
    cols = [Col("pool", ID), Col("spare nodes (mean down)", NUMBER), Col("capex")]
    rows = [["a", "12 (0.531)", "$498 k"], ["b", "-", "$29.6 M"]]
    # 4 + 10 + 7 and 3 a column plus 1: 31; the header wraps at its spaces ("(mean" is 5), "12 (0.531)" is 10
    (table,) = fitted_tables(None, cols, rows, 31)
    assert [c.width for c in table.columns] == [4, 10, 7]
    (table,) = fitted_tables(None, cols, rows, 40)  # 9 more: to the first column short of its natural width
    assert [c.width for c in table.columns] == [4, 19, 7]
    assert [[c.header for c in t.columns] for t in fitted_tables(None, cols, rows, 30)] == [
        ["pool", "spare nodes (mean down)"], ["pool", "capex"]]  # one column fewer: two parts
