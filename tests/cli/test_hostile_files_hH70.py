"""Input files that are not files (hH70): a named pipe or a device given as a model config, a scenario or a
system was refused as "no such file" though it exists (it is never read: a FIFO blocks until a writer comes,
/dev/zero never ends); now the line says what it is. A sweep spec that was a FIFO hung the command (its reader
opened it). Non-UTF-8 and BOM-prefixed files are one line or read."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from tests.cli.conftest import cli_json

from infraplan.cli import main

TRAIN = ["--system", "h100-sxm", "--gpus", "8", "--seq-len", "4096", "--global-batch", "8"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX named pipes")
@pytest.mark.parametrize("command", [["plan"], ["train", *TRAIN], ["fleet-mix"], ["sweep", "--workers", "1"]])
def test_a_named_pipe_is_refused_as_not_a_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       command: list[str]) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    args = [command[0], str(fifo), *command[1:]]
    assert main(args) == 2  # never opened: opening a FIFO with no writer would block
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1, err
    assert "not a regular file (a pipe or a device)" in err and "no such file" not in err.lower(), err


def test_a_device_and_a_missing_file_are_told_apart(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["train", os.devnull, *TRAIN]) == 2
    assert "is not a regular file" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "missing.json"), *TRAIN]) == 2
    assert "no such file: " in capsys.readouterr().err


def test_a_config_json_with_a_bom_is_read_and_a_latin1_one_is_one_line(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = cli_json(capsys, "catalog models llama3-8b")
    config.pop("source")
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(config).encode())  # Notepad's UTF-8 files start with one
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(config))
    assert cli_json(capsys, ["train", str(bom), *TRAIN])["step_time_s"] == \
        cli_json(capsys, ["train", str(plain), *TRAIN])["step_time_s"]
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(json.dumps({**config, "name": "caf\xe9"}, ensure_ascii=False).encode("latin-1"))
    assert main(["train", str(latin1), *TRAIN]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "is not UTF-8 text" in err, err
