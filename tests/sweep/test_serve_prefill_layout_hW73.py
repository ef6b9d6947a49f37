"""A sweep over a disaggregated deployment's prefill layout (hW73's walk): `fixed: {prefill: {tp: 2}}` failed every
point with "AttributeError: 'dict' object has no attribute 'given'" (the API's `prefill` took a PrefillLayout only),
an axis `prefill: [{tp: 2}, ...]` cannot be written (axis values are numbers or text) and `prefill_tp` was "no
argument". Now the sweep's `serve` takes the CLI's flat prefill options and the API reads a mapping of the layout's
fields; each point is `serve --prefill-tp ... --json` of it."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.results import ServingResult
from infraplan.serving.serving_api import estimate_serving
from infraplan.sweep.functions import run_batch
from infraplan.sweep.results import flatten_result

POINT: dict[str, Any] = {"model": "llama3-70b", "system": "dgx-h100-superpod", "gpus": 16, "tp": 4, "dtype": "fp8",
                         "rate": 5.0, "workload": "chat", "requests": 200, "prefill_gpus": 4}
LINE = ("serve llama3-70b --system dgx-h100-superpod --gpus 16 --tp 4 --dtype fp8 --rate 5 --workload chat "
        "--requests 200 --prefill-gpus 4 --seed 0 --json")


def _outputs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("key", "error", "config_warnings") and not k.startswith("in_")}


def _cli(capsys: pytest.CaptureFixture[str], line: str) -> dict[str, Any]:
    capsys.readouterr()
    assert cli_main(shlex.split(line)) == 0
    return flatten_result(ServingResult.model_validate(json.loads(capsys.readouterr().out)))


def test_a_prefill_axis_and_a_fixed_layout_run_as_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    rows = run_batch("serve", [("a", {**POINT, "prefill_tp": 2}), ("b", {**POINT, "prefill": {"tp": 2}}),
                               ("c", {**POINT, "prefill_tp": 4})], 0)
    assert [r["error"] for r in rows] == [None, None, None]
    two, four = _cli(capsys, LINE + " --prefill-tp 2"), _cli(capsys, LINE + " --prefill-tp 4")
    assert _outputs(rows[0]) == _outputs(rows[1]) == two and _outputs(rows[2]) == four
    assert two["deployment__disaggregated"] and two["ttft_s__p50"] != four["ttft_s__p50"]


def test_the_api_reads_a_mapping_and_refuses_the_rest_in_one_line() -> None:
    args = {k: v for k, v in POINT.items() if k not in ("model", "system", "gpus")}
    given = estimate_serving("llama3-70b", "dgx-h100-superpod", 16, **args, prefill={"tp": 2})
    assert given == estimate_serving("llama3-70b", "dgx-h100-superpod", 16, **args, prefill=PrefillLayout(tp=2))
    for bad, words in (("tp2", "prefill takes a PrefillLayout or a mapping"), ({"tensor": 2}, "'tensor' is none"),
                       ({"tp": 0}, "tp 0 is not"), ({"tp": 2.5}, "tp 2.5 is not")):
        with pytest.raises(InputError, match=words):
            estimate_serving("llama3-70b", "dgx-h100-superpod", 16, **args, prefill=bad)
    row = run_batch("serve", [("d", {**POINT, "prefill_tp": 2, "prefill": {"tp": 4}})], 0)[0]
    assert row["error"].startswith("InputError: give the prefill pool's layout once")
