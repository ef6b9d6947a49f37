"""The ASSUMED host share reads the same in every answer, device word included (hV71, review of hK71).

hK71 made `cluster.host_share.assumed_share_note` the one wording, but `serve` and `serve-plan`
(`serving_metrics.assumed_host_note`) called it without the part's device word, so a TPU's line read "246 of the
246 W per accelerator of host ..." there and "... W per TPU of host ..." in `plan`, `fleet-mix`, `recsys` and
`facility`. Each answer's line, past its own prefix ("joules_per_token: ", "tpu-v6e: "), is now one text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from tests.cli.conftest import json_strings
from tests.serving.test_host_share_said_once_hK71 import _fleet, _plan

from infraplan.catalog.loader import load_system
from infraplan.recsys.estimate import estimate_recsys
from infraplan.results import Result
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving
from infraplan.serving.serving_metrics import assumed_host_note

LINE = re.compile(r"\d[\d.,]* of the [\d.,]+ W per \w+ of host and scale-up switches is ASSUMED "
                  r".*?\(device_joules_per_token, qps_per_w\) does not")  # `assumed_share_note`, whole


def _line(result: Result) -> str:
    found = {m.group(0) for s in json_strings(result.model_dump()) for m in [LINE.search(s)] if m}
    assert len(found) == 1, found
    return found.pop()


def test_every_tpu_answer_says_the_same_line() -> None:
    answers: dict[str, Any] = {
        "serve": estimate_serving("llama3-8b", "tpu-v6e", 8, rate=2, requests=20, input_len=256, output_len=32),
        "serve-plan": search_capacity("llama3-8b", "tpu-v6e", 5.0, workload="chat"),
        "plan": _plan({}),
        "fleet-mix": _fleet({}),
    }
    lines = {name: _line(result) for name, result in answers.items()}
    assert "W per TPU of host" in lines["plan"]
    assert set(lines.values()) == {lines["plan"]}, lines  # serve / serve-plan said "W per accelerator" before
    recsys = _line(estimate_recsys("dlrm-medium", "tpu-v5p", latency_slo_s=0.02))
    assert "W per TPU of host" in recsys


@pytest.mark.parametrize(("system", "word"), [("gb300-nvl72", "GPU"), ("mtia-400-rack", "accelerator")])
def test_the_word_is_the_parts(system: str, word: str) -> None:
    [note] = assumed_host_note({"joules_per_token": 1.0}, load_system(system))
    assert f" W per {word} of host and scale-up switches is ASSUMED" in note
