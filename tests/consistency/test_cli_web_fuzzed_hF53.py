"""The same question asked two ways, fuzzed (hF, session 53; hypothesis, derandomized, bounded): a drawn request
to the web API (`POST /api/<command>`, polled where it is a job: tests/web/conftest.py `web_answer`) and the CLI
line written from the same fields by hand (`--<field-with-hyphens> value`, a true flag bare, a false one `--no-`),
not by the web's own `/cli` line builder, give one JSON answer, wall-clock fields left out.

Drawn: `train` of a search's best plan with a drawn subset of its axes given (the rest the stack's defaults), with
or without `--tokens` and a location; `facility` of a catalog part at a count, cooling, location and PUE;
`collective` of each operation and algorithm on catalog systems, analytical or flow.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from tests.web.conftest import client as web_client  # noqa: E402
from tests.web.conftest import web_answer  # noqa: E402

from infraplan.cli.main import main as cli_main  # noqa: E402
from infraplan.errors import InputError  # noqa: E402
from infraplan.training.search import search_plans  # noqa: E402

client = web_client  # the web tests' in-process client fixture (tests/web/conftest.py), module-scoped
EXAMPLES = int(os.environ.get("HF53_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])
WALL_CLOCK = ("wall_time_s", "configs_per_s")
POSITIONAL = {"train": ("model",), "collective": ("op",), "facility": ()}
TRAIN = [("llama3-8b", "dgx-h100-superpod", 16), ("mixtral-8x7b", "h800", 32), ("qwen3-30b-a3b", "dgx-b200", 16),
         ("gpt-oss-20b", "gb200-nvl72-superpod", 16), ("gpt-oss-120b", "dgx-b200", 16),
         ("llama3-70b", "dgx-b200", 64)]
STACKS = (None, "nemo-26.04", "megatron-core-0.8", "torchtitan", "deepspeed")
AXES = ("tp", "pp", "dp", "cp", "ep", "etp", "vpp", "micro_batch", "recompute", "zero", "dtype", "order",
        "sequence_parallel", "schedule")


def cli_line(command: str, body: dict[str, Any]) -> list[str]:
    """The CLI's words for a web request body, written by hand from the field names."""
    words = [command, *(str(body[k]) for k in POSITIONAL[command])]
    for key, value in body.items():
        if key in POSITIONAL[command] or value is None:
            continue
        flag = "--bytes" if (command, key) == ("collective", "size") else "--" + key.replace("_", "-")
        if isinstance(value, bool):
            words.append(flag if value else "--no-" + flag[2:])
        else:
            words += [flag, str(value)]
    return words


def one_answer(client: TestClient, capsys: pytest.CaptureFixture[str], command: str, body: dict[str, Any]) -> None:
    """Both answer alike, or both refuse: the web with 400 and its one line, the CLI with exit 2 and that line."""
    words = [*cli_line(command, body), "--json"]
    capsys.readouterr()
    code = cli_main(words)
    printed = capsys.readouterr()
    refused = client.post(f"/api/{command}", json=body)
    if refused.status_code in (400, 422):  # 400: the model's one line, as the CLI prints it; 422: a field's type
        detail = refused.json()["detail"]
        event("both refuse")
        assert code == 2, (words, detail, printed.err)
        assert refused.status_code == 422 or detail in " ".join(printed.err.split()), (words, detail, printed.err)
        return
    assert code == 0, (words, printed.err)
    web = web_answer(client, command, body)
    cli = json.loads(printed.out)
    assert _without_wall_clock(cli) == _without_wall_clock(web), words


def _without_wall_clock(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in WALL_CLOCK}


@st.composite
def train_bodies(draw: Any) -> dict[str, Any]:
    model, system, gpus = draw(st.sampled_from(TRAIN))
    stack = draw(st.sampled_from(STACKS))
    try:
        found = search_plans(model, system, gpus, 4096, 4 * gpus, top=1, stack=stack)
    except InputError:
        assume(False)
    assume(found.best is not None)
    config = found.best.config.model_dump()
    given_axes = draw(st.sets(st.sampled_from(AXES)))
    given_axes |= {"tp", "pp", "cp"} if "dp" in given_axes else set()  # a DP degree given with the shape it divides
    body: dict[str, Any] = {"model": model, "system": system, "gpus": gpus, "seq_len": 4096,
                            "global_batch": 4 * gpus, "stack": stack,
                            **{k: config[k] for k in AXES if k in given_axes or k == "dtype"}}
    body |= draw(st.sampled_from([{}, {"recompute": "auto"}, {"memory_margin": 0.12}, {"sharp": True},
                                  {"attention": "unfused"}]))
    if draw(st.booleans()):
        body |= {"tokens": draw(st.sampled_from(["1T", "15.6T", "300B"])),
                 "location": draw(st.sampled_from([None, "ohio", "texas"])),
                 "server_price": draw(st.sampled_from([None, 25000, 41000.5]))}
    return body


@FUZZ
@given(train_bodies())
def test_a_drawn_train_request_is_one_answer_on_the_web_and_the_cli(client, capsys, body) -> None:
    one_answer(client, capsys, "train", body)


@FUZZ
@given(st.sampled_from(["h100-sxm", "b200", "gb200", "h200", "mi300x"]), st.sampled_from([8, 72, 1000, 16384]),
       st.sampled_from([None, "air", "liquid"]), st.sampled_from([None, "ohio", "oregon"]),
       st.sampled_from([None, 1.1, 1.3]))
def test_a_drawn_facility_request_is_one_answer_on_the_web_and_the_cli(client, capsys, accelerator, count, cooling,
                                                                       location, pue) -> None:
    one_answer(client, capsys, "facility", {"accelerator": accelerator, "count": count, "cooling": cooling,
                                            "location": location, "pue": pue})


@FUZZ
@given(st.sampled_from(["all-reduce", "reduce-scatter", "all-gather", "all-to-all", "send-recv"]),
       st.sampled_from(["dgx-h100-superpod", "gb200-nvl72-superpod", "meta-genai-roce-24k", "dgx-b200"]),
       st.sampled_from([2, 8, 16, 64]), st.sampled_from(["1MiB", "64MiB", "1GiB"]),
       st.sampled_from(["auto", "ring", "tree"]), st.sampled_from(["analytical", "analytical", "flow"]),
       st.sampled_from(["packed", "spread"]))
def test_a_drawn_collective_request_is_one_answer_on_the_web_and_the_cli(client, capsys, op, system, gpus, size,
                                                                         algorithm, sim, placement) -> None:
    body = {"op": op, "system": system, "gpus": gpus, "size": size, "algorithm": algorithm, "sim": sim,
            "placement": placement}
    one_answer(client, capsys, "collective", body)
