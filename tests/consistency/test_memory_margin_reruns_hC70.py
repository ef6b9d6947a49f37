"""`search --memory-margin F`'s rows rerun through their `train_command` (hC70, session 49).

Before, `train` had no --memory-margin: a row's command reran at the default 5 %, so a plan the search flagged
(`low_memory_headroom` True at 90 %: 9.7 GiB left of 80 GiB, below 71.7 GiB) came back unflagged, with another
`memory_margin_bytes` (4.28 GB against 77.0 GB). Now the command carries the margin and `train --memory-margin`
(the web's `memory_margin`) flags the plan as the search did; the search's reasons add only how it ranked the row
("; ranked after plans with the margin", as its MFU-guard reason adds "; ranked after plans within it").
"""

from __future__ import annotations

import shlex

import pytest
from tests.cli.conftest import cli_json

SEARCH = "llama3-70b --system dgx-h100-superpod --gpus 64 --seq-len 8192 --global-batch 128 --top 3"
RANKED = {"low_memory_headroom_reason": "; ranked after plans with the margin",
          "beyond_published_mfu_reason": "; ranked after plans within it"}


@pytest.mark.parametrize("margin", ["0.9", "0.3"])
def test_a_rows_train_command_flags_its_headroom_as_the_search(margin: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    rows = cli_json(capsys, ["search", *shlex.split(SEARCH), "--memory-margin", margin])["top"]
    assert len(rows) == 3
    assert all(row["low_memory_headroom"] for row in rows) == (margin == "0.9")  # at 90 % none keeps it
    for row in rows:
        args = shlex.split(row["train_command"])
        assert args[args.index("--memory-margin") + 1] == margin
        trained = cli_json(capsys, args[1:])
        assert trained["memory_margin_bytes"] == pytest.approx(float(margin) * trained["memory_capacity_bytes"],
                                                               rel=1e-12)
        for key in sorted(set(row) & set(trained) - {"train_command"}):
            ranked = RANKED.get(key, "")
            expected = row[key][:-len(ranked)] if ranked and row[key] and row[key].endswith(ranked) else row[key]
            assert trained[key] == expected, (margin, key)


def test_without_a_margin_the_line_and_the_answer_are_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    (row,) = cli_json(capsys, ["search", *shlex.split(SEARCH.replace("--top 3", "--top 1"))])["top"]
    args = shlex.split(row["train_command"])
    assert "--memory-margin" not in args
    default = cli_json(capsys, args[1:])
    assert cli_json(capsys, [*args[1:], "--memory-margin", "0.05"]) == default  # the default, stated
    assert default["memory_margin_bytes"] == pytest.approx(0.05 * default["memory_capacity_bytes"], rel=1e-12)


def test_a_margin_outside_zero_to_one_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli import main

    capsys.readouterr()
    assert main(["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len",
                 "4096", "--global-batch", "16", "--memory-margin", "1.5"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--memory-margin is a share of the accelerator's memory in [0, 1)" in err
