"""hV75: `search --tokens` lists its priced plans in their runs' order and numbers the table's rows so; its note
names that order by the search's own numbers, so "#3" in the note and row 3 of the table are not read as one plan,
and a reorder below an unchanged best is said too (before: no line, the step-time column out of order unexplained)."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.planning.search_run import ranked_note


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> Any:
    capsys.readouterr()
    assert cli_main(argv) == 0, argv
    return json.loads(capsys.readouterr().out)


def _run(days: float, goodput: float) -> SimpleNamespace:
    return SimpleNamespace(time_to_train_s=days * 86_400.0, goodput_with_repairs=goodput, no_spare_policy="shrink")


def test_a_reorder_below_the_same_best_is_said_in_the_searchs_numbers() -> None:
    rows = [SimpleNamespace(step_time_s=s) for s in (1.0, 1.01, 1.02)]
    runs = [_run(10.0, 0.9), _run(10.5, 0.9), _run(10.8, 0.8)]  # the search's #1, #3, #2 by their runs
    (line,) = ranked_note(rows, [0, 2, 1], runs)
    assert line == ("--tokens: the first 3 of the search's were priced and are listed by their runs' time, as the "
                    "search's #1, #3, #2 (#1's run finishes first, 10 days)")
    assert ranked_note(rows, [0, 1, 2], runs) == []
    (moved,) = ranked_note(rows, [1, 0, 2], [_run(9.0, 0.95), _run(10.0, 0.9), _run(10.8, 0.8)])
    assert moved.startswith("--tokens: the best plan is the search's #2 (+1.00% a step): its run finishes first, 9 "
                            "days against the search's #1's 10 (goodput with repairs 95.00% against 90.00%")
    assert moved.endswith("listed by their runs' time, as the search's #2, #1, #3")


def test_the_notes_numbers_are_the_searchs_rows_without_tokens(capsys: pytest.CaptureFixture[str]) -> None:
    """llama3-70b on the 576-GPU GB200 SuperPOD in fp8 (docs/facility.md's job): the note's order, read as the
    search's numbers, maps the search's own rows (no --tokens) onto the rows the --tokens answer lists."""
    base = ["search", "llama3-70b", "--system", "gb200-nvl72-superpod", "--gpus", "576", "--seq-len", "8192",
            "--global-batch", "576", "--dtype", "fp8", "--json"]
    plain = _json(capsys, base)
    run = _json(capsys, [*base, "--tokens", "2T"])
    (line,) = [n for n in run["notes"] if n.startswith("--tokens:")]
    listed = [int(k) for k in re.findall(r"#(\d+)", line.split("as the search's ")[-1])]
    assert listed == [3, 5, 1, 2, 4]  # 11.03, 11.13, 11.97, 12.07, 12.15 days
    assert [r["train_command"] for r in run["top"]] == [plain["top"][k - 1]["train_command"] for k in listed]
    assert line.startswith("--tokens: the best plan is the search's #3 (+0.94% a step)")
