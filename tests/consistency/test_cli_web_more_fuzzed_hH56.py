"""The same question asked two ways, fuzzed, for the commands tests/consistency/test_cli_web_fuzzed_hF53.py does not
draw (hH, session 56; hypothesis, derandomized, bounded): a drawn request to the web API (`POST /api/<command>`)
and the CLI line written from the same fields by hand (`--<field-with-hyphens> value`, the CLI's own names where
they differ: `--repair-time`, `--checkpoint-interval`), not by the web's `/cli` line builder, give one JSON answer,
or both refuse with the same line (the web 400, the CLI exit 2).

Drawn: `recsys` (model, part, batch, SLO in ms or s), `video` (device, input, ladder, codec, quality, daily hours,
peak-to-average, baseline), `network` (system or part, GPUs, fabric), `reliability` (system or part, GPUs, days in
words, model, checkpoint size, failure table, restart, spare trays, repair time, checkpoint interval) and `campus`
(power, part, cooling, phases, location, build type, PUE, electricity price, server price, reserve). The hunt
(`HH56_EXAMPLES=150`, 750 requests) found no disagreement: a guard for new fields on either side.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402
from tests.web.conftest import client as web_client  # noqa: E402
from tests.web.conftest import web_answer  # noqa: E402

from infraplan.cli.main import main as cli_main  # noqa: E402

client = web_client  # the web tests' in-process client fixture (tests/web/conftest.py), module-scoped
FUZZ = settings(max_examples=int(os.environ.get("HH56_EXAMPLES", "10")), deadline=None, derandomize=True,
                database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
POSITIONAL = {"recsys": ("model",), "network": ("system",), "video": (), "reliability": (), "campus": ()}
FLAGS = {("reliability", "repair_s"): "--repair-time",  # the CLI's names where they are not the field's
         ("reliability", "checkpoint_interval_s"): "--checkpoint-interval"}
SYSTEMS = ["dgx-h100-superpod", "gb200-nvl72-superpod", "meta-genai-roce-24k", "mi300x-cluster", "mtia-v2-rack",
           "gaudi2-cluster", "h100-sxm", "gb200", "b200", "mi300x"]


def cli_line(command: str, body: dict[str, Any]) -> list[str]:
    """The CLI's words for a web request body, written by hand from the field names."""
    words = [command, *(str(body[k]) for k in POSITIONAL[command])]
    for key, value in body.items():
        if key not in POSITIONAL[command] and value is not None:
            words += [FLAGS.get((command, key), "--" + key.replace("_", "-")), str(value)]
    return words


def one_answer(client: TestClient, capsys: pytest.CaptureFixture[str], command: str, body: dict[str, Any]) -> None:
    body = {k: v for k, v in body.items() if v is not None}
    words = [*cli_line(command, body), "--json"]
    capsys.readouterr()
    code = cli_main(words)
    printed = capsys.readouterr()
    refused = client.post(f"/api/{command}", json=body)
    if refused.status_code in (400, 422):  # 400: the model's one line, as the CLI prints it; 422: a field's type
        event("both refuse")
        detail = refused.json()["detail"]
        assert code == 2, (words, detail, printed.err)
        assert refused.status_code == 422 or detail in " ".join(printed.err.split()), (words, detail, printed.err)
        return
    assert code == 0, (words, printed.err)
    assert json.loads(printed.out) == web_answer(client, command, body), words


def maybe(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from([None, *values])


@FUZZ
@given(st.sampled_from(["dlrm-low", "dlrm-medium", "dlrm-high", "mlperf-dlrm-dcnv2"]),
       st.sampled_from(["mtia-v1", "mtia-v2", "h100-sxm", "a100-80gb", "xeon-8480", "epyc-9654", "b200"]),
       maybe([1, 64, 1024, 4096]), maybe(["1ms", "5ms", "20ms", "0.05"]))
def test_a_drawn_recsys_request_is_one_answer(client, capsys, model, accelerator, batch, slo) -> None:
    one_answer(client, capsys, "recsys", {"model": model, "accelerator": accelerator, "batch": batch,
                                          "latency_slo": slo})


@FUZZ
@given(st.sampled_from(["msvp", "xeon-8480", "epyc-9654"]),
       st.sampled_from(["2160p60", "1440p60", "1080p30", "720p30", "480p24"]), st.sampled_from([1, 3, 5, 8]),
       st.sampled_from(["h264", "vp9"]), st.sampled_from(["high", "standard"]), maybe([1.0, 5000.0, 3.3e6]),
       st.sampled_from([1.0, 1.5]), maybe(["none", "xeon-8480", "msvp"]))
def test_a_drawn_video_request_is_one_answer(client, capsys, device, source, ladder, codec, quality, hours, peak,
                                             baseline) -> None:
    one_answer(client, capsys, "video", {"device": device, "input": source, "ladder": ladder, "codec": codec,
                                         "quality": quality, "daily_hours": hours, "peak_to_average": peak,
                                         "baseline": baseline})


@FUZZ
@given(st.sampled_from(SYSTEMS), maybe([8, 72, 100, 512, 2048]), maybe(["clos", "rail-only"]))
def test_a_drawn_network_request_is_one_answer(client, capsys, system, gpus, fabric) -> None:
    one_answer(client, capsys, "network", {"system": system, "gpus": gpus, "fabric": fabric})


@FUZZ
@given(st.sampled_from(SYSTEMS), st.sampled_from([8, 512, 16384]), st.sampled_from([1, 54, "2w", "12h"]),
       st.sampled_from(["llama3-405b", "llama3-8b", "deepseek-v3"]), maybe(["5TB", "100GB"]),
       maybe(["rsc-1", "rsc-2", "llama3-h100", "epoch-h100"]), maybe([60, "10min"]), st.sampled_from([0, 1]),
       maybe(["3d", 7200]), maybe(["30min", 600]))
def test_a_drawn_reliability_request_is_one_answer(client, capsys, system, gpus, days, model, size, rate, restart,
                                                   spares, repair, interval) -> None:
    one_answer(client, capsys, "reliability", {
        "system": system, "gpus": gpus, "days": days, "model": model, "checkpoint_size": size, "failure_rate": rate,
        "restart_s": restart, "spare_trays_per_domain": spares, "repair_s": repair,
        "checkpoint_interval_s": interval})


@FUZZ
@given(st.sampled_from(["10MW", "100MW", "1GW"]), st.sampled_from(["gb200", "h100-sxm", "b200", "mi300x"]),
       maybe(["air", "liquid"]), maybe(["2026:0.3,2027:0.7"]), maybe(["ohio", "oregon"]),
       maybe(["low-cost", "ai-campus"]), maybe([1.3]), maybe(["70/MWh", "0.05/kWh"]), maybe([30000, 52000.5]),
       st.sampled_from([0.0, 0.2]))
def test_a_drawn_campus_request_is_one_answer(client, capsys, power, accelerator, cooling, phases, location,
                                              build_type, pue, price, server_price, reserve) -> None:
    one_answer(client, capsys, "campus", {
        "power": power, "accelerator": accelerator, "cooling": cooling, "phases": phases, "location": location,
        "build_type": build_type, "pue": pue, "electricity_price": price, "server_price": server_price,
        "reserve": reserve})
