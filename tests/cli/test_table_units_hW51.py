"""A metric table's value wraps between words, never inside a number and its unit (hW51; hU51's walk: `serve` at 80
columns printed "p99 23" / "ms"). Rich breaks at any whitespace, U+00A0 included; `_output.metric_table` holds the
spaces `HELD_SPACES` names while it wraps."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from infraplan.cli.commands._output import metric_table
from infraplan.cli.main import main

PERCENTILES = re.compile(r"p\d\d [\d.,]+ [a-zµ]+")


def _lines(value: str, width: int) -> list[str]:
    table = metric_table("t")
    table.add_row("time per output token", value)
    out = io.StringIO()
    Console(file=out, width=width, markup=False, color_system=None).print(table)
    return [line.split("│")[2].strip() for line in out.getvalue().splitlines() if line.count("│") == 3]


@pytest.mark.parametrize("width", range(40, 80, 3))
def test_a_value_keeps_each_number_with_its_unit(width: int) -> None:
    value = "p50 9.45 ms · p90 11.7 ms · p99 16.9 ms; 100.0 % within TTFT ≤ 2 s and >= 25 % of 80 GiB"
    lines = _lines(value, width)
    assert " ".join(lines) == value  # wrapped between words only
    for line in lines:  # no line ends in a number, or a percentile or comparison waiting for its number
        assert not re.search(r"(\d|\bp\d\d|≤|>=)$", line), lines
        assert not re.match(r"(ms|s|%|GiB)\b", line), lines  # nor starts with a unit
    assert _lines("x", width) == ["x"]


def test_serve_at_80_columns_prints_each_percentile_on_one_line(capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for argv in (["serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--workload", "chat", "--rate", "5",
                  "--requests", "200"],
                 ["serve-plan", "llama3-8b", "--system", "h100-sxm", "--workload", "chat", "--rate", "5"]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        rows = [line for line in out.splitlines() if line.count("│") == 3]
        cells = " ".join(line.split("│")[2].strip() for line in rows)
        found = PERCENTILES.findall(cells)
        assert len(found) >= 9, cells  # TTFT, TPOT, end-to-end: p50, p90, p99
        for each in found:  # was "p99 16.9" / "ms" on the TPOT row of serve (and "p99 15.6" / "ms" of serve-plan)
            assert any(each in line for line in rows), (each, out)
