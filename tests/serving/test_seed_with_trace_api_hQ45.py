"""`estimate_serving` refuses a seed beside a trace, as `serve --seed` does (hQ45): the trace carries the arrivals
and lengths a seed draws, so a seed changed no answer; before, only the CLI refused it and the Python API (and a
sweep of `serve` over a trace) took it silently. The CLI's one line is the API's (one place)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.serving.serving_api import estimate_serving
from infraplan.sweep.functions import run_batch


def _trace(tmp_path: Path) -> str:
    trace = tmp_path / "t.csv"
    trace.write_text("arrival_s,input_tokens,output_tokens\n0,100,20\n0.5,200,10\n1.0,50,30\n")
    return str(trace)


@pytest.mark.parametrize("seed", [0, 7])
def test_the_api_refuses_a_seed_with_a_trace(tmp_path: Path, seed: int) -> None:
    with pytest.raises(InputError, match="--seed draws arrivals and lengths, which a --trace carries"):
        estimate_serving("llama3-8b", "h200", 1, trace=_trace(tmp_path), seed=seed)


def test_the_api_runs_a_trace_without_a_seed_and_draws_with_one(tmp_path: Path) -> None:
    assert estimate_serving("llama3-8b", "h200", 1, trace=_trace(tmp_path)).model_dump()["seed"] == 0
    kw = {"input_len": 100, "output_len": 20, "rate": 5.0, "requests": 50}
    unset, zero, one = (estimate_serving("llama3-8b", "h200", 1, **kw, **s).model_dump()  # type: ignore[arg-type]
                        for s in ({}, {"seed": 0}, {"seed": 1}))
    assert unset["duration_s"] == zero["duration_s"] != one["duration_s"]  # no seed is seed 0


def test_a_sweep_over_a_trace_gives_serve_no_seed(tmp_path: Path) -> None:
    rows = run_batch("serve", [("a", {"model": "llama3-8b", "system": "h200", "gpus": 1,
                                      "trace": _trace(tmp_path)})], 3)
    assert not rows[0].get("error"), rows[0].get("error")
