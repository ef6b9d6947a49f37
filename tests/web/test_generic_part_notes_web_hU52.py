"""The generic-part note (`cluster.generic.generic_part_notes`: the GPU server's host share and the generic node of 8
assumed for a part without a catalog system or host figure, hU50/hU51) is said where the answer is built, so the
CLI, the web API and the Python API say it alike (hU52): `train` (the node; the host share only with --tokens,
whose energy prices it), `search` (the node), `serve` and `facility` (both). TPU v5p: no catalog system, no host
figure (tests/planning/test_part_assumptions_hU51.py shows its two notes)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli

from infraplan.facility.facility import size_facility
from infraplan.planning.training_run import training_run_totals
from infraplan.serving.serving_api import estimate_serving
from infraplan.training.estimate import estimate_training
from infraplan.training.search import search_plans

PART = "tpu-v5p"
TRAIN = {"model": "llama3-8b", "system": PART, "gpus": 16, "tp": 1, "pp": 1, "seq_len": 4096, "global_batch": 64,
         "micro_batch": 1}


def _kinds(lines: list[str]) -> tuple[int, int]:
    """(host-share notes, generic-node notes) among an answer's lines: a host share in its one wording
    (`host_share.assumed_share_note`, said once: hK71; `serve` said it in two)."""
    text = [" ".join(n.split()) for n in lines]
    return (sum("of host and scale-up switches is ASSUMED" in n for n in text),
            sum("generic node is ASSUMED" in n for n in text))


def test_the_python_api_says_it() -> None:
    estimate = estimate_training(**TRAIN)
    assert _kinds(estimate.notes) == (0, 1)  # train's step time prices no host
    assert _kinds(training_run_totals(estimate, PART, 1e9).notes) == (1, 0)  # the run's energy does
    assert _kinds(estimate_training(**{**TRAIN, "system": "h100-sxm"}).notes) == (0, 0)  # a GPU: its own rules
    search = search_plans("llama3-8b", PART, 16, 4096, 64, top=1)
    assert _kinds(search.notes) == (0, 1)
    facility = size_facility(accelerator=PART, count=64)
    assert _kinds(facility.figures_notes) == (1, 1)
    assert _kinds(size_facility(accelerator="h100-sxm", count=64).figures_notes) == (0, 0)
    serve = estimate_serving("llama3-8b", PART, 1, rate=2, requests=20, input_len=256, output_len=32)
    assert _kinds(serve.warnings) == (1, 1)


@pytest.mark.parametrize(("command", "body", "field", "kinds"), [
    ("train", TRAIN, "notes", (0, 1)),
    ("train", {**TRAIN, "tokens": "1000M"}, "notes", (1, 1)),
    ("search", {"model": "llama3-8b", "system": PART, "gpus": [16], "seq_len": 4096, "global_batch": 64, "top": 1},
     "notes", (0, 1)),
    ("serve", {"model": "llama3-8b", "system": PART, "gpus": 1, "rate": 2, "requests": 20, "input_len": 256,
               "output_len": 32}, "warnings", (1, 1)),
    ("facility", {"accelerator": PART, "count": 64}, "figures_notes", (1, 1)),
])
def test_web_and_cli_say_it_alike(client: TestClient, capsys: pytest.CaptureFixture[str], command: str,
                                  body: dict[str, Any], field: str, kinds: tuple[int, int]) -> None:
    web, cli = web_and_cli(client, command, body, capsys)
    assert _kinds(web[field]) == kinds
    assert web[field] == cli[field]
