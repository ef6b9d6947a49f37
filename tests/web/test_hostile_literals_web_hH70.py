"""JSON literals schemathesis never sends reach every field of every command (hH70): Python's JSON reader takes
`NaN`, `Infinity` and `-Infinity` (not JSON, RFC 8259 Sec. 6), reads `1e309` as inf and a 400-digit integer as an
int past a float's range. Each answer is a result without NaN / Infinity or a one-line 4xx, never a 500: a
400-digit `ttft_slo` / `tpot_slo` / `latency_slo` was a 500 (`float()` overflowed in the SLO slip check,
web/request_fields.py `_slo_s`). A scenario's text with a "billion laughs" of aliases is a 400 at once (it ran for
minutes: catalog/yaml_text.py `AliasExpansionError`)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.web.request_bodies import VALID_BODIES

from infraplan.web.fleet_mix import FleetMixRequest
from infraplan.web.requests import REQUESTS

LITERALS = ("NaN", "Infinity", "-Infinity", "1e309", "9" * 400)
MODELS = {**REQUESTS, FleetMixRequest.command: FleetMixRequest}


def test_the_bodies_cover_every_command_and_each_is_answered(client: TestClient) -> None:
    assert set(VALID_BODIES) == set(MODELS)
    for command, body in VALID_BODIES.items():  # a hostile field is then the one thing wrong in its body
        response = client.post(f"/api/{command}", json=body)
        assert response.status_code in (200, 202), f"{command}: {response.text[:200]}"


def _body(command: str, field: str, literal: str) -> bytes:
    rest = json.dumps({k: v for k, v in VALID_BODIES[command].items() if k != field})
    return f'{{"{field}": {literal}{", " if rest != "{}" else ""}{rest[1:]}'.encode()


@pytest.mark.parametrize("command", list(VALID_BODIES))
def test_non_json_and_overflowing_numbers_in_every_field_are_never_a_500(client: TestClient, command: str) -> None:
    problems = []
    for field in MODELS[command].model_fields:
        for literal in LITERALS:
            response = client.post(f"/api/{command}", content=_body(command, field, literal),
                                   headers={"content-type": "application/json"})
            if response.status_code >= 500:
                problems.append(f"{field}={literal[:12]}: {response.status_code} {response.text[:120]}")
            elif response.status_code >= 400:
                detail = response.json().get("detail")
                if not isinstance(detail, str) or "\n" in detail:
                    problems.append(f"{field}={literal[:12]}: detail {detail!r:.120}")
            elif "NaN" in response.text or "Infinity" in response.text:
                problems.append(f"{field}={literal[:12]}: a non-finite number in the answer")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize(("command", "field"), [("serve", "ttft_slo"), ("serve", "tpot_slo"),
                                                ("serve-plan", "ttft_slo"), ("recsys", "latency_slo")])
def test_an_slo_past_a_floats_range_is_one_line_422(client: TestClient, command: str, field: str) -> None:
    response = client.post(f"/api/{command}", content=_body(command, field, "9" * 400),
                           headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text  # was 500 "internal error (OverflowError)"
    assert response.json()["detail"] == f"invalid {field}: a number past a float's range (~1.8e308): not a finite " \
                                        "duration"


@pytest.mark.timeout(60)
def test_a_billion_laughs_scenario_text_is_a_400_at_once(client: TestClient) -> None:
    example = Path(__file__).parents[2] / "examples" / "plan-minimal.yaml"
    kept = [line for line in example.read_text().splitlines() if not line.startswith(("#", "phases:"))]
    anchors = ["  l0: &l0 [" + ", ".join(["lol"] * 9) + "]"]
    anchors += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    text = "x-anchors:\n" + "\n".join(anchors) + "\nphases: *l9\n" + "\n".join(kept) + "\n"
    start = time.perf_counter()
    response = client.post("/api/plan", json={"scenario": {"text": text}})
    assert time.perf_counter() - start < 10
    assert response.status_code == 400 and "1,000,000 values" in response.json()["detail"], response.text
