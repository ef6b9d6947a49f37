"""An `extends:` naming a file that is not there says which file's `extends` it is and where it was looked for
(hI62: `--stack a.yaml` whose `extends: f/base.yaml` was read beside it printed "no such file: .../f/f/base.yaml",
naming neither a.yaml nor its extends line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main

TRAIN = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8", "--tp", "8", "--seq-len", "2048",
         "--global-batch", "16"]


@pytest.mark.parametrize("option, text", [("--stack", "extends: sub/base.yaml\n"),
                                          ("--system", "extends: sub/h100.yaml\n")])
def test_a_missing_extends_file_names_the_file_that_extends_it(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, option: str,
                                                               text: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "what-if.yaml").write_text(text)
    what = "cfg/what-if.yaml"  # relative: the line shows paths whole (a long one is shortened)
    argv = [*TRAIN, option, what] if option == "--stack" else [*TRAIN[:2], option, what, *TRAIN[4:]]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "cfg/what-if.yaml: extends 'sub/" in err and "no such file cfg/sub/" in err, err
    assert "read beside the file" in err


def test_an_extends_file_that_is_there_still_loads(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.yaml").write_text("extends: nemo-26.04\n")
    (tmp_path / "what-if.yaml").write_text("extends: sub/base.yaml\n")
    assert main([*TRAIN, "--stack", str(tmp_path / "what-if.yaml"), "--json"]) == 0
    assert '"step_time_s"' in capsys.readouterr().out
