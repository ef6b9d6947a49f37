"""The HTTP API answers every command with the CLI's typed result, refuses bad input with the CLI's line."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main
from infraplan.web.jobs import content_hash
from infraplan.web.requests import REQUESTS, TrainRequest

TRAIN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 8, "seq_len": 4096,
         "global_batch": 256}
CASES: dict[str, dict[str, Any]] = {
    "train": TRAIN,
    "search": {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [64], "seq_len": 4096,
               "global_batch": 256, "top": 3},
    "serve": {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "rate": 5, "workload": "chat",
              "requests": 300, "dtype": "fp8"},
    "recsys": {"model": "dlrm-low", "accelerator": "mtia-v1"},
    "video": {"device": "msvp", "daily_hours": 1000},
    "network": {"system": "meta-genai-roce-24k", "gpus": 6144},
    "collective": {"op": "all-reduce", "system": "meta-genai-roce-24k", "gpus": 1024, "size": "1GiB"},
    "facility": {"system": "meta-genai-roce-24k", "location": "ohio", "pue": 1.2},
    "campus": {"power": "1GW", "accelerator": "gb200", "cooling": "liquid", "phases": "2026:0.3,2027:0.7"},
    "reliability": {"system": "meta-genai-roce-24k", "gpus": 16384, "days": 54},
}


def _cli_json(line: str, capsys: pytest.CaptureFixture[str]) -> Any:
    words = __import__("shlex").split(line)
    assert words[0] == "infraplan" and words[-1] == "--json"
    capsys.readouterr()
    assert cli_main(words[1:]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("command", sorted(CASES))
def test_every_command_equals_its_cli_line(client: TestClient, command: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """POST /api/COMMAND returns exactly what the request's `infraplan ... --json` line prints."""
    response = client.post(f"/api/{command}", json=CASES[command])
    assert response.status_code == 200, response.text
    line = client.post(f"/api/{command}/cli", json=CASES[command]).json()["command"]
    web, cli = response.json(), _cli_json(line, capsys)
    for volatile in ("wall_time_s", "configs_per_s"):  # search wall clock
        web.pop(volatile, None)
        cli.pop(volatile, None)
    assert web == cli


def test_every_command_has_an_endpoint_and_a_response_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for command in REQUESTS:
        op = spec["paths"][f"/api/{command}"]["post"]
        assert "200" in op["responses"] and "202" in op["responses"] and "400" in op["responses"]
    train = spec["paths"]["/api/train"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "TrainingEstimate" in json.dumps(train)


@pytest.mark.parametrize(("body", "status", "line"), [
    ({**TRAIN, "model": "llama3-8bb"}, 400, "unknown model 'llama3-8bb'; did you mean llama3-8b"),
    ({**TRAIN, "gpus": 63}, 400, None),
    ({**TRAIN, "gpus": 0}, 422, "invalid gpus: must be greater than or equal to 1"),
    ({**TRAIN, "gpus": 10**12}, 422, "invalid gpus: must be less than or equal to 10000000"),
    ({**TRAIN, "model": "/etc/passwd"}, 422, "invalid model"),
    ({**TRAIN, "model": "config.json"}, 422, "the web API reads no files"),
    ({**TRAIN, "system": "../systems/x"}, 422, "invalid system"),
    ({**TRAIN, "colour": "red"}, 422, "invalid colour: Extra inputs are not permitted"),
])
def test_bad_input_is_one_line_4xx(client: TestClient, body: dict[str, Any], status: int, line: str | None) -> None:
    response = client.post("/api/train", json=body)
    assert response.status_code == status
    detail = response.json()["detail"]
    assert "\n" not in detail and "Traceback" not in detail
    if line:
        assert line in detail


def test_the_cli_and_the_web_refuse_with_the_same_line(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    body = {**TRAIN, "gpus": 63}
    web = client.post("/api/train", json=body).json()["detail"]
    line = TrainRequest.model_validate(body).cli()
    capsys.readouterr()
    assert cli_main(__import__("shlex").split(line)[1:]) == 2
    assert capsys.readouterr().err.strip() == f"infraplan: error: {web}"


def test_request_size_limit_and_bad_json(client: TestClient) -> None:
    big = client.post("/api/train", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"})
    assert big.status_code == 413
    bad = client.post("/api/train", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and bad.json()["detail"] == "the body is not valid JSON"


def test_no_cors_headers(client: TestClient) -> None:
    response = client.options("/api/train", headers={"Origin": "https://evil.example",
                                                     "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in {k.lower() for k in response.headers}


def test_long_work_is_a_job_and_results_are_cached_by_content_hash(client: TestClient) -> None:
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [8, 16, 32, 64], "seq_len": 2048,
            "global_batch": 128}
    first = client.post("/api/search", json=body)
    assert first.status_code == 202
    job = first.json()
    deadline = time.monotonic() + 60
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
        job = client.get(job["poll"]).json()
    assert job["status"] == "done" and job["progress"] == 1.0
    assert [p["gpus"] for p in job["result"]["scaling"]] == [8, 16, 32, 64]
    again = client.post("/api/search", json=dict(reversed(list(body.items())))).json()  # same content, other order
    assert again["status"] == "done" and again["result"] == job["result"]
    assert client.get("/api/jobs/" + "0" * 32).status_code == 404


def test_content_hash_ignores_spelling_but_not_content() -> None:
    a = TrainRequest.model_validate(TRAIN)
    assert content_hash(a) == content_hash(TrainRequest.model_validate({**TRAIN, "tp": 8, "pp": 1}))
    assert content_hash(a) != content_hash(TrainRequest.model_validate({**TRAIN, "global_batch": 512}))


def test_catalog_lists_presets_with_their_sources(client: TestClient) -> None:
    accelerators = client.get("/api/catalog/accelerators").json()["entries"]
    h100 = next(e for e in accelerators if e["name"] == "h100-sxm")
    assert h100["source"] and "H100" in (h100["display_name"] or "")
    assert all(e["source"] for e in client.get("/api/catalog/systems").json()["entries"])
    assert client.get("/api/catalog/nope").status_code == 404  # no such resource (was 400)
    missing = client.get("/api/catalog/models/llama3-8")
    assert missing.status_code == 404 and "llama3-8b" in missing.json()["detail"]
    assert client.get("/api/catalog/models/llama3-8b").json()["hidden_size"] == 4096


def test_web_bounds_are_the_cli_bounds() -> None:
    """Each bounded request field refuses exactly what the CLI's parser for the same option refuses."""
    from infraplan.cli import options

    pairs = [("gpus", options.ACCELERATORS), ("seq_len", options.TOKENS), ("global_batch", options.SEQUENCES),
             ("tp", options.PP_OR_TP), ("zero", options.ZERO_STAGE)]
    for field, parser in pairs:
        meta = {type(m).__name__: m for m in TrainRequest.model_fields[field].metadata}
        lo = next(m.ge for m in meta.values() if hasattr(m, "ge"))
        hi = next(m.le for m in meta.values() if hasattr(m, "le"))
        assert (lo, hi) == (parser.constraints["ge"], parser.constraints["le"]), field


def test_pages_and_bundled_plotly(client: TestClient) -> None:
    for page in ("/", "/train", "/serve", "/network", "/facility", "/compare"):
        html = client.get(page)
        assert html.status_code == 200 and "/static/plotly.min.js" in html.text
        assert "cdn" not in html.text.lower()
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_serve_takes_tp_as_a_number_like_train_hU(client: TestClient) -> None:
    """/api/train takes "tp": 8; /api/serve refused it (422 "must be a valid string"), taking only "8" or "auto"."""
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "offline": True, "input_len": 100,
            "output_len": 10, "requests": 50}
    as_number = client.post("/api/serve", json={**body, "tp": 8})
    assert as_number.status_code == 200, as_number.text
    assert as_number.json()["deployment"]["tp"] == 8
    assert as_number.json() == client.post("/api/serve", json={**body, "tp": "8"}).json()
    for bad in (0, "x", True):
        assert client.post("/api/serve", json={**body, "tp": bad}).status_code == 422
