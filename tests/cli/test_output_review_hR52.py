"""Review of session 51's CLI output code (hR, session 52).

* A metric table's held spaces (`_output.HELD_SPACES`, hW51) joined every word after a number into one unbreakable
  run; where the run was wider than the value column Rich cut it with "…", losing figures that wrapped before:
  `campus --power 1GW --accelerator gb200` at 40 columns printed "470,880 (1,190,…" (its H100-equivalents gone),
  `reliability` "258.9 (232.8 une…", serve's layout "TP1 PP1 DP-attention8 …". A run wider than the cell now
  breaks at its spaces.
* Hand mutants that passed every test before: the percentile-with-a-decimal hold ("p99.9 40 ms") removed; the
  measurement of a cell taken on its text without the held spaces (the table then sized the column for "16.9", not
  for "p99 16.9 ms"); `_given_once` refusing while the shell completes a word (`ctx.resilient_parsing`);
  `write_together`'s error naming the last file written, not the one whose rename failed; a dangling link at a
  target treated as no file (removed on a failure, not put back).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from rich.console import Console
from rich.measure import Measurement
from tests.cli.readme_examples import click
from tests.cli.test_table_units_hW51 import _lines

from infraplan.catalog import output_files
from infraplan.catalog.output_files import write_together
from infraplan.cli.commands._output import unit_text
from infraplan.cli.main import load_command
from infraplan.errors import InputError


@pytest.mark.parametrize("value", ["470,880 (1,190,293 H100-equivalents)", "258.9 (232.8 unexpected)",
                                   "1 × (TP1 PP1 DP-attention8 EP4 MoE-TP2) h200, 8 GPUs"])
@pytest.mark.parametrize("width", [46, 50, 56])  # value columns wider than any one word
def test_a_held_run_wider_than_its_cell_wraps_and_loses_nothing(value: str, width: int) -> None:
    lines = _lines(value, width)
    assert " ".join(lines) == value, lines  # was "470,880 (1,190,…" at 40 columns
    assert not any("…" in line for line in lines)


@pytest.mark.parametrize("width", range(30, 60, 4))
def test_a_decimal_percentile_stays_with_its_number(width: int) -> None:
    value = "p50 9.45 ms · p99.9 40.1 ms · p99 52 ms within the SLO of 60 ms"
    lines = _lines(value, width)
    assert " ".join(lines) == value
    assert not any(line.endswith(("p99.9", "p99")) for line in lines), lines


def test_a_cell_is_measured_with_its_held_spaces() -> None:
    console = Console(width=80)
    measured = Measurement.get(console, console.options, unit_text("p99 16.9 ms · p50 9.45 ms"))
    assert measured.minimum == len("p99 16.9 ms")  # the longest held run; "16.9" without them


def test_a_repeated_option_is_let_through_while_the_shell_completes(capsys: pytest.CaptureFixture[str]) -> None:
    """`_given_once` refuses `--gpus 1 --gpus 2` (hW51) but not while click parses resiliently for completion."""
    command = load_command("serve")
    with pytest.raises(click.exceptions.UsageError, match="option --gpus is given more than once"):
        command.make_context("serve", ["llama3-8b", "--gpus", "1", "--gpus", "2"])
    ctx = command.make_context("serve", ["llama3-8b", "--gpus", "1", "--gpus", "2"], resilient_parsing=True)
    assert ctx.params["gpus"] == 2


def _fail_rename_onto(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    real = os.replace

    def replace(src: str, dst: str | Path) -> None:
        if Path(dst).name == name and Path(src).name.startswith(".infraplan-"):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real(src, dst)

    monkeypatch.setattr(output_files.os, "replace", replace)


def test_a_failed_first_rename_names_its_own_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The error names the file whose rename failed, not the last one written (the three were all written)."""
    _fail_rename_onto(monkeypatch, "a.txt")
    files = [(str(tmp_path / n), lambda tmp, n=n: Path(tmp).write_text(n)) for n in ("a.txt", "b.txt", "c.txt")]
    with pytest.raises(InputError, match=r"^--out: cannot write .*a\.txt: Invalid cross-device link$"):
        write_together(files, "--out")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_rename_puts_a_dangling_link_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link to nothing is an old file too: kept and put back, not removed as if the path had been free."""
    (tmp_path / "a.txt").symlink_to("gone.txt")
    _fail_rename_onto(monkeypatch, "b.txt")
    with pytest.raises(InputError, match=r"b\.txt: Invalid cross-device link$"):
        write_together([(str(tmp_path / n), lambda tmp: Path(tmp).write_text("new")) for n in ("a.txt", "b.txt")],
                       "--out")
    assert (tmp_path / "a.txt").is_symlink() and os.readlink(tmp_path / "a.txt") == "gone.txt"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
