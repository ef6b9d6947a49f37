"""The sweep's flat `prefill_token_budget` (`sweep.serve_run.PREFILL_OPTIONS`, as `serve --prefill-token-budget`) and a
`prefill: {token_budget: N}` mapping reach the prefill pool (hM73's mutation wave: `PrefillLayout.read` listed the
layout's fields by hand without `token_budget`, so every sweep point giving it failed with "'token_budget' is none of
them" while the CLI flag ran)."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from infraplan.cli.main import main as cli_main
from infraplan.errors import InputError
from infraplan.serving.disaggregated import PrefillLayout
from infraplan.serving.results import ServingResult
from infraplan.sweep.functions import run_batch
from infraplan.sweep.results import flatten_result

# SGLang on H200 with attention DP 8 in the decode pool: 8,192 // 8 = 1,024 there, the TP8 prefill pool's default
# 8,192 (`test_serving_leftovers_hG73.test_prefill_token_budget_flag`); 4,096 is neither
POINT: dict[str, Any] = {"model": "deepseek-v3", "system": "hgx-h200", "gpus": 16, "attention_dp": 8, "dtype": "fp8",
                         "prefill_gpus": 8, "prefill_tp": 8, "input_len": 2000, "output_len": 100, "rate": 2.0,
                         "requests": 40, "stack": "sglang-0.x"}
LINE = ("serve deepseek-v3 --system hgx-h200 --gpus 16 --attention-dp 8 --dtype fp8 --prefill-gpus 8 --prefill-tp 8 "
        "--input-len 2000 --output-len 100 --rate 2 --requests 40 --stack sglang-0.x --seed 0 --json")


def _outputs(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("key", "error", "config_warnings") and not k.startswith("in_")}


def test_a_sweep_point_runs_its_prefill_token_budget_as_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    layout = {k.removeprefix("prefill_"): v for k, v in POINT.items() if k in ("prefill_tp",)}
    rows = run_batch("serve", [("flat", {**POINT, "prefill_token_budget": 4096}),
                               ("mapping", {**{k: v for k, v in POINT.items() if k != "prefill_tp"},
                                            "prefill": {**layout, "token_budget": 4096}})], 0)
    assert [r["error"] for r in rows] == [None, None]
    capsys.readouterr()
    assert cli_main(shlex.split(LINE + " --prefill-token-budget 4096")) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["deployment"]["prefill"]["token_budget"] == 4096
    assert cli["deployment"]["decode"]["token_budget"] == 1024
    flat = flatten_result(ServingResult.model_validate(cli))
    assert _outputs(rows[0]) == _outputs(rows[1]) == flat


def test_read_takes_every_layout_field_and_refuses_the_rest() -> None:
    assert PrefillLayout.read({"token_budget": 4096, "moe_tp": None}) == PrefillLayout(token_budget=4096)
    assert PrefillLayout.read({"token_budget": 4096}).given
    with pytest.raises(InputError, match="token_budget 0 is not"):
        PrefillLayout.read({"token_budget": 0})
    with pytest.raises(InputError, match=r"mapping of tp, pp, ep, attention_dp, max_batch, moe_tp, token_budget .*"
                                         r"'budget' is none of them"):
        PrefillLayout.read({"budget": 4096})
