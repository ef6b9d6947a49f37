"""An output-path option given an empty string is refused in one line, exit 2 (hL, session 70).

`search --plot ""`, `facility --plot ""` and `campus --plot ""` skipped the chart in silence (`if plot:`), and
`plan --out ""` wrote its Parquet tables into the working folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main

CASES = [
    (["search", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "8,16", "--seq-len", "4096",
      "--global-batch", "64", "--plot", ""], "--plot"),
    (["facility", "--system", "dgx-h100-superpod", "--plot", ""], "--plot"),
    (["campus", "--plot", ""], "--plot"),
    (["plan", "examples/plan-minimal.yaml", "--out", ""], "--out"),
]


@pytest.mark.parametrize(("argv", "option"), CASES, ids=[c[0][0] for c in CASES])
def test_empty_output_path_refused(argv: list[str], option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    argv = [str(root / a) if a.startswith("examples/") else a for a in argv]
    monkeypatch.chdir(tmp_path)  # nothing may land in the working folder
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err and option in err, err
    assert list(tmp_path.iterdir()) == []
