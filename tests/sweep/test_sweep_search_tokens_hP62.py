"""A sweep of `search` takes `search --tokens`' whole-run options (hP62, `sweep.train_run.search`): a point with
`tokens` is `search --tokens --json` of that point, row for row (hI62: "sweep function 'search' takes no argument
'tokens'"); a bad `server_price` is refused naming the spec's key, not the cost override's field
`server_usd_per_accelerator`."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.planning.results import SearchRunResult
from infraplan.sweep.functions import check_arguments, run_batch
from infraplan.sweep.results import flatten_result

POINT: dict[str, Any] = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "seq_len": 4096,
                         "global_batch": 512, "top": 3, "compare_dtypes": True, "tokens": "1T",
                         "location": "ohio", "server_price": 30000, "eval_every": "50M", "eval_samples": "24M"}
LINE = ("search llama3-8b --system dgx-h100-superpod --gpus 64 --seq-len 4096 --global-batch 512 --top 3 "
        "--tokens 1T --location ohio --server-price 30000 --eval-every 50M --eval-samples 24M --json")


def _outputs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("key", "error", "config_warnings") and not k.startswith("in_")
            and k not in ("configs_per_s", "wall_time_s")}  # (the search's own speed)


def test_a_sweep_row_of_search_is_search_tokens_json(capsys: pytest.CaptureFixture[str]) -> None:
    check_arguments("search", list(POINT))  # (was: "takes no argument 'tokens'")
    capsys.readouterr()
    assert cli_main(shlex.split(LINE)) == 0
    cli = flatten_result(SearchRunResult.model_validate(json.loads(capsys.readouterr().out)))
    row = run_batch("search", [("a", POINT)], 0)[0]
    assert row["error"] is None, row["error"]
    assert _outputs(row) == _outputs(cli)
    assert row["in_tokens"] == 1e12 and row["best_run__time_to_train_s"] > 0 and row["best_run__evaluations"] > 0
    assert row["best_run_command"].endswith("--tokens 1T --location ohio --server-price 30000.0 --eval-every 50M "
                                            "--eval-samples 24M")


def test_without_tokens_a_row_is_the_search_alone() -> None:
    plain = {k: v for k, v in POINT.items() if k not in ("tokens", "location", "server_price", "eval_every",
                                                          "eval_samples")}
    row = run_batch("search", [("a", plain)], 0)[0]
    assert row["error"] is None and "best_run_command" not in row and row["best__step_time_s"] > 0


@pytest.mark.parametrize(("function", "extra", "said"), [
    ("search", {"tokens": None, "eval_every": None, "eval_samples": None},
     "--location, --server-price and --costs need --tokens"),
    ("search", {"eval_every": "50M", "eval_samples": None}, "--eval-every needs --eval-samples"),
    ("search", {"server_price": float("inf")}, "invalid server_price (USD per accelerator, as --server-price): "
                                               "Input should be less than or equal to 1000000000000; got 'inf'"),
    ("search", {"server_price": -1}, "invalid server_price (USD per accelerator, as --server-price): Input should "
                                     "be greater than or equal to 0"),
    ("train", {"server_price": float("nan")}, "invalid server_price (USD per accelerator, as --server-price): "),
    ("train", {"server_price": "abc"}, "invalid server_price (USD per accelerator, as --server-price): 'abc' is "
                                       "not a number"),
])
def test_run_refusals_name_the_spec_key(function: str, extra: dict[str, Any], said: str) -> None:
    point = {**POINT, **extra}
    if function == "train":
        point = {k: v for k, v in point.items() if k not in ("top", "compare_dtypes")}
    row = run_batch(function, [("a", {k: v for k, v in point.items() if v is not None})], 0)[0]
    assert row["error"] is not None and said in row["error"] and "server_usd_per_accelerator" not in row["error"]
    assert "\n" not in row["error"]
