"""A one-token request has no TPOT, so `serve`'s TPOT percentiles are those of the other requests (hI73 mutant of
`serving_metrics.summarize`: dropping `tpot[one_token] = NaN` passed the hG72 tests, which check the formula's
home, not the report).

vLLM's benchmarks/benchmark_serving.py `calculate_metrics` takes TPOT only where output_len > 1 (the formula's module,
`serving.request_metrics`). A trace of requests 1 s apart (each alone on the engine: 20 tokens of Llama 3.1 8B take
well under a second on one H100), every other one of one output token, must report the TPOT of the 20-token ones
alone, as the same trace without the one-token requests does; counting a one-token request's 0 s span halved the
mean and pulled the p50 to 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli.main import main

SERVE = ["serve", "llama3.1-8b", "--system", "dgx-h100-superpod", "--gpus", "1", "--json"]


def _tpot(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, rows: list[str]) -> dict[str, float]:
    path = tmp_path / name
    path.write_text("arrival_s,input_tokens,output_tokens\n" + "\n".join(rows) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main([*SERVE, "--trace", str(path)]) == 0
    return json.loads(capsys.readouterr().out)["tpot_s"]  # type: ignore[no-any-return]


def test_one_token_requests_leave_the_tpot_percentiles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    long = [f"{float(i):.1f},200,20" for i in range(20)]
    short = [f"{i + 0.5:.1f},200,1" for i in range(20)]
    mixed = _tpot(tmp_path, capsys, "mixed.csv", sorted(long + short, key=lambda r: float(r.split(",")[0])))
    alone = _tpot(tmp_path, capsys, "long.csv", long)
    assert alone["p50"] > 0.0
    for key in ("p50", "p90", "p99", "mean"):
        assert mixed[key] == pytest.approx(alone[key], rel=1e-9), key
