"""The `--schedule` choices of the CLI and the web API are every schedule of the pipeline-schedule table, and
reading them stays cheap (no numpy), so `infraplan <command> --help` does not pay for the models."""

from __future__ import annotations

import subprocess
import sys
from typing import get_args

import pytest
from pydantic import ValidationError

from infraplan.cli import options
from infraplan.training.schedules import PIPELINE_SCHEDULES
from infraplan.web.requests import SearchRequest, TrainRequest


def _table_labels() -> tuple[str, ...]:
    return tuple(code.label for code in PIPELINE_SCHEDULES)


def test_cli_schedule_choices_are_the_table() -> None:
    assert set(get_args(options.PipelineSchedule)) == set(_table_labels())
    assert {"zb-h1", "dualpipe", "zb-v"} <= set(get_args(options.PipelineSchedule))


@pytest.mark.parametrize("request_model", [TrainRequest, SearchRequest])
def test_web_schedule_choices_are_the_table(request_model: type) -> None:
    field = request_model.model_json_schema()["properties"]["schedule"]
    choices = next(a["enum"] for a in field["anyOf"] if "enum" in a)
    assert set(choices) == set(_table_labels())


def test_web_refuses_an_unknown_schedule() -> None:
    with pytest.raises(ValidationError, match="schedule"):
        SearchRequest.model_validate({"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [64],
                                      "seq_len": 2048, "global_batch": 64, "schedule": "gpipe"})
    ok = SearchRequest.model_validate({"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [64],
                                       "seq_len": 2048, "global_batch": 64, "schedule": "dualpipe"})
    assert ok.schedule == "dualpipe"


def test_the_choices_import_without_numpy() -> None:
    code = "import sys, infraplan.cli.options; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
