"""A trace whose header names a column twice is refused, one line (hR80, session 50 review of hR70's duplicate-key
rule): `csv.DictReader` keeps the last of two same-named columns silently, as `json.loads` keeps the last name, so
`arrival_s,input_tokens,output_tokens,input_tokens` ran every request at the fourth column's prompt length (before
the fix `read_trace` returned input lengths 900 / 800 for the rows below, the first column's 100 / 200 dropped)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from infraplan.errors import InputError
from infraplan.serving.workloads import read_trace

ROWS = "0,100,20,900\n0.5,200,10,800\n"


def test_a_repeated_trace_column_is_refused(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens,input_tokens\n" + ROWS)
    with pytest.raises(InputError, match=r"line 1: header names input_tokens twice"):
        read_trace(str(trace))


def test_an_extra_column_of_another_name_is_still_read(tmp_path: Path) -> None:
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens,note\n" + ROWS)
    requests = read_trace(str(trace))
    assert np.array_equal(requests.input_tokens, [100, 200])  # the named column, the extra one unread
    assert np.array_equal(requests.output_tokens, [20, 10])


def test_serve_says_it_in_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli.main import main

    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens,output_tokens\n" + ROWS)
    assert main(["serve", "llama3-8b", "--system", "hgx-h200", "--gpus", "1", "--trace", str(trace)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "header names output_tokens twice" in err


def test_each_of_the_three_columns_repeated_is_refused(tmp_path: Path) -> None:
    """The arrival column too (hR, session 51: a mutant checking only the two token columns passed the tests above):
    `0,100,20,9` would have run every request at the fourth column's arrival time."""
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens,arrival_s\n0,100,20,9\n0.5,200,10,8\n")
    with pytest.raises(InputError, match=r"line 1: header names arrival_s twice"):
        read_trace(str(trace))
