"""Property tests against the OpenAPI spec (schemathesis): no generated request makes the server fail (5xx).

The default run keeps a few examples per operation; `pytest -m slow` runs many more
(`test_web_schemathesis_slow.py`, with the whole coverage phase).
Generated bodies reach the models with any value the schema admits, so every input the schema lets through must
end as a result or a one-line 4xx.

The coverage phase here runs its positive cases only (every enum value, boundary and property combination the
schema admits: the inputs that reach the models); the fuzzing phase still draws positive and negative bodies for
every operation. The coverage phase's ~2,400 negative cases were six wrong types for every property of every
operation, each refused by the same request validation: `test_each_kind_of_bad_body_is_a_one_line_4xx` sends one
of each kind (no body, another content type, malformed JSON, a non-object body, a wrong type in each property)
to every operation with a JSON body instead (suite CPU: -5 s of ~95 s; the slow run keeps them all).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from infraplan.web.app import create_app  # noqa: E402

POSITIVE_COVERAGE = SchemathesisConfig.from_dict({"phases": {"coverage": {"generation": {"mode": "positive"}}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(), config=POSITIVE_COVERAGE)
JSON = {"content-type": "application/json"}
SETTINGS: dict[str, Any] = {"deadline": None, "derandomize": True, "database": None,
                            "suppress_health_check": list(HealthCheck)}


def _no_server_error(case: Any, response: Any) -> None:
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        detail = response.json().get("detail", "")
        assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail


@pytest.fixture(scope="module")
def asgi_session() -> Iterator[Any]:
    """One in-process client for every generated case: `case.call()` would build a `requests.Session` per case and
    look up the proxy variables of the environment twice per request (~0.4 ms a case: nothing to proxy in-process;
    the app keeps no cookies, so a shared session sends what fresh ones would)."""
    from schemathesis.python import asgi

    with asgi.get_client(schema.app) as session:
        session.trust_env = False
        yield session


@schema.parametrize()
@settings(max_examples=5, **SETTINGS)
def test_no_server_errors(case: Any, asgi_session: Any) -> None:
    _no_server_error(case, case.call(session=asgi_session))


def _json_bodies() -> list[tuple[str, dict[str, Any]]]:
    """(path, request-body schema) of every operation that takes a JSON body."""
    spec = schema.raw_schema
    found = []
    for path, item in spec["paths"].items():
        body = item.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = body.get("schema", {}).get("$ref", "")
        if ref:
            found.append((path, spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]))
    return found


def test_each_kind_of_bad_body_is_a_one_line_4xx() -> None:
    bodies = _json_bodies()
    assert len(bodies) >= 26  # every command's endpoint and its /cli twin
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        for path, body_schema in bodies:
            sent: list[tuple[str, Any]] = [
                ("no body", client.post(path)),
                ("text/plain", client.post(path, content=b"gpus=8", headers={"content-type": "text/plain"})),
                ("malformed JSON", client.post(path, content=b'{"gpus": ', headers=JSON)),
                ("a list", client.post(path, json=[body_schema.get("required", [])])),
            ]
            sent += [(f"{name}: [null]", client.post(path, json={name: [None]}))
                     for name in body_schema.get("properties", {})]
            for what, response in sent:
                assert 400 <= response.status_code < 500, f"{path} {what}: {response.status_code} {response.text[:200]}"
                detail = response.json().get("detail", "")
                assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail, (path, what)
