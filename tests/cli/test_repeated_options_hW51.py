"""An option that takes one value, given twice, is refused in one line, exit 2 (hW51): click keeps the last, so
`plan --report a.html --report b.html` wrote b.html alone and said nothing of a.html. Options that collect values
(`plan --vary`), flags and `--help` repeat as before (`cli.main._given_once`, on every command)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.cli.main import main

ROOT = Path(__file__).parents[2]
PLAN = str(ROOT / "examples" / "plan-minimal.yaml")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_refuses_two_reports_and_writes_neither(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    code, out, err = _run(capsys, "plan", PLAN, "--report", str(a), "--report", str(b))
    assert (code, out) == (2, "") and err == "infraplan: error: option --report is given more than once; give it " \
        "once\n", err
    assert not a.exists() and not b.exists()  # was: b.html written, a.html silently dropped


def test_serve_refuses_a_repeated_value_in_either_spelling(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["serve", "llama3-8b", "--system", "h100-sxm", "--workload", "chat", "--offline", "--requests", "20"]
    code, out, err = _run(capsys, *base, "--gpus", "1", "--gpus=2")
    assert (code, out) == (2, "") and err.count("\n") == 1 and "option --gpus is given more than once" in err, err
    code, out, err = _run(capsys, *base[:2], "--system=b200", *base[2:], "--gpus", "1")
    assert code == 2 and "option --system is given more than once" in err, err


def test_flags_collecting_options_and_help_repeat_as_before(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "serve", "llama3-8b", "--system", "h100-sxm", "--gpus", "1", "--workload", "chat",
                        "--offline", "--requests", "20", "--json", "--json")
    assert code == 0 and out.startswith("{")
    code, out, _ = _run(capsys, "plan", PLAN, "--vary", "pue=1.1..1.4", "--vary", "electricity=0.05..0.1", "--json")
    assert code == 0 and out.startswith("{")
    for argv in (["--help", "--gpus", "1", "--gpus", "2"], ["--gpus", "1", "--gpus", "2", "--help"]):
        code, out, _ = _run(capsys, "serve", *argv)
        assert code == 0 and " serve [OPTIONS]" in out
