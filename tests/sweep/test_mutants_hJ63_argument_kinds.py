"""`sweep.functions.check_argument_kinds` against what the commands themselves take (hJ, session 63).

Independent truths: the CLI's own readers. `--tp` is a whole number (click's INT refuses `true`); `--ttft-slo` reads
'2s' (`parse_duration_s`) and is left out by default (no SLO: `serve`'s `ttft_slo=None`); `--tokens` reads a count
('15.6T') and a whole run is not priced without it, as a spec's `costs: null` / `location: null` is the option left
out (hI62, `sweep.train_run.train`: "a spec's `costs: null` is no option"). A bug found here: `tokens: null` was
refused ("takes a finite number or text ..., got None"), though `train` / `search` take None there (the default of
every run option, `train_run.run_signature`) and `costs: null` ran."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.sweep.functions import check_argument_kinds
from infraplan.sweep.runner import run_sweep


@pytest.mark.parametrize("function", ["train", "search"])
def test_tokens_null_is_no_whole_run_as_costs_null_is(function: str) -> None:
    check_argument_kinds(function, {"tokens": [None], "costs": [None]})  # no InputError


def test_a_sweep_with_tokens_null_runs_as_without(tmp_path: Path) -> None:
    fixed = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8, "seq_len": 2048,
             "global_batch": 16, "tokens": None}
    assert run_sweep({"function": "train", "fixed": fixed, "axes": {"micro_batch": [1]}}, tmp_path / "out",
                     progress=False).points_failed == 0


@pytest.mark.parametrize("argument, value", [("tokens", math.inf), ("tokens", math.nan), ("seq_len", math.inf)])
def test_a_number_that_is_not_finite_is_refused(argument: str, value: float) -> None:
    with pytest.raises(InputError, match=f"^sweep argument '{argument}' takes "):
        check_argument_kinds("train", {argument: [value]})


@pytest.mark.parametrize("value", [True, False])
def test_a_flag_is_no_parallel_degree(value: bool) -> None:
    with pytest.raises(InputError, match="^sweep argument 'tp' takes a whole number"):
        check_argument_kinds("train", {"tp": [value]})


@pytest.mark.parametrize("value", ["2s", "50ms", 0.5, None])
def test_an_slo_takes_its_text_a_number_or_null(value: object) -> None:
    check_argument_kinds("serve", {"ttft_slo": [value], "tpot_slo": [value]})  # no InputError
