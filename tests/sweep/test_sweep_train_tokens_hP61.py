"""A sweep of `train` prices whole runs (hP61, `sweep.train_run`): a point with `tokens` (and `train`'s run options)
is `train --tokens --json` of that point, row for row; without them the batch is the estimates' path unchanged."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.planning.results import TrainingRunResult
from infraplan.sweep import functions, train_run
from infraplan.sweep.functions import run_batch
from infraplan.sweep.results import flatten_result

POINT: dict[str, Any] = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 2,
                         "seq_len": 4096, "global_batch": 512, "optimizer": "muon", "tokens": "1T",
                         "location": "ohio", "server_price": 30000, "eval_every": "50M", "eval_samples": "24M",
                         "memory_margin": 0.1}
LINE = ("train llama3-8b --system dgx-h100-superpod --gpus 64 --tp 2 --seq-len 4096 --global-batch 512 "
        "--optimizer muon --tokens 1T --location ohio --server-price 30000 --eval-every 50M --eval-samples 24M "
        "--memory-margin 0.1 --json")


def _outputs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("key", "error", "config_warnings") and not k.startswith("in_")}


def test_a_sweep_row_is_train_tokens_json(capsys: pytest.CaptureFixture[str]) -> None:
    """The whole run's columns (time_to_train_s, gpu_hours, energy_mwh, cost_usd, evaluations, ...) and the
    estimate's, batched beside a plain point and alone, equal the CLI's answer flattened; `in_tokens` in tokens."""
    capsys.readouterr()
    assert cli_main(shlex.split(LINE)) == 0
    cli = flatten_result(TrainingRunResult.model_validate(json.loads(capsys.readouterr().out)))
    plain = {k: v for k, v in POINT.items() if k not in train_run.RUN_OPTIONS}
    batched, _ = run_batch("train", [("a", POINT), ("b", plain)], 0)
    alone = run_batch("train", [("a", POINT)], 0)[0]
    assert batched["error"] is None and alone["error"] is None
    assert _outputs(batched) == _outputs(alone) == cli
    assert batched["in_tokens"] == 1e12 and batched["time_to_train_s"] > 0 and batched["evaluations"] > 0
    assert {"gpu_hours", "energy_mwh", "co2_t", "cost_usd", "goodput", "checkpoint_bytes"} <= set(batched)


def test_numbers_and_text_give_one_run() -> None:
    """`tokens` as 1e12 or '1T': one run (read as `--tokens` reads it)."""
    text, number = run_batch("train", [("a", POINT), ("b", {**POINT, "tokens": 1e12})], 0)
    assert _outputs(text) == _outputs(number)


def test_without_run_options_the_batch_is_the_estimates(monkeypatch: pytest.MonkeyPatch) -> None:
    """No run option in a batch: `functions.train_batch` itself answers (the path benchmarks/sweep_throughput.py
    times), its outcomes returned as they are."""
    plain = [{k: v for k, v in POINT.items() if k not in train_run.RUN_OPTIONS}] * 2
    sentinel: list[Any] = [object(), object()]
    monkeypatch.setattr(functions, "train_batch", lambda points: sentinel if points == plain else [])
    assert train_run.train_batch(plain) is sentinel


@pytest.mark.parametrize(("extra", "said"), [
    ({"location": "ohio"}, "--location, --server-price and --costs need --tokens"),
    ({"eval_every": "50M"}, "--eval-every needs --eval-samples"),
    ({"tokens": "1k"}, "is less than one step's"),
])
def test_run_refusals_are_trains_lines(extra: dict[str, Any], said: str) -> None:
    """A price option without tokens, half an evaluation, fewer tokens than a step: `train`'s one line, per row,
    the batch going on."""
    plain = {k: v for k, v in POINT.items() if k not in train_run.RUN_OPTIONS}
    bad, good = run_batch("train", [("a", {**plain, **extra}), ("b", POINT)], 0)
    assert said in bad["error"] and good["error"] is None
