"""A trace served as a closed loop says its arrival times are not used (hW, session 70).

`serve --trace FILE --rate R` is refused ("the trace carries arrival times"), but `--trace FILE --concurrency N` ran
the trace's lengths through N clients and dropped its arrival_s column without a word: the answer now says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli.main import main

SERVE = ["serve", "llama3.1-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--json"]


def _trace(tmp_path: Path) -> str:
    path = tmp_path / "trace.csv"
    rows = [f"{0.5 * i:.1f},{200 + 10 * i},{20 + i}" for i in range(40)]  # one request every 0.5 s
    path.write_text("arrival_s,input_tokens,output_tokens\n" + "\n".join(rows) + "\n")
    return str(path)


def _warnings(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert main([*SERVE, *args]) == 0
    return json.loads(capsys.readouterr().out).get("warnings") or []


def test_a_trace_in_a_closed_loop_says_its_arrivals_are_unused(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    trace = _trace(tmp_path)
    said = [w for w in _warnings(capsys, "--trace", trace, "--concurrency", "4") if "arrival_s" in w]
    assert said == ["--concurrency 4 with --trace: the trace's lengths are sent by 4 clients, each request when its "
                    "client's last one ends; its arrival_s column is not used (leave --concurrency out to replay "
                    "the arrivals)"]
    assert not [w for w in _warnings(capsys, "--trace", trace) if "arrival_s" in w]  # the arrivals replayed
    assert not [w for w in _warnings(capsys, "--concurrency", "4", "--input-len", "200", "--output-len", "20",
                                     "--requests", "40") if "arrival_s" in w]
