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

The operations' tests are built when a test runs, not at collection: `@schema.parametrize()` builds every
operation's hypothesis test (its coverage cases included) while collecting, in every xdist worker, ~1.4 CPU s
each (the schema's load through the app ~0.5 s of it), although one worker runs them. `test_no_server_errors`
builds the same tests with schemathesis's own builder (`build_operation_test`, what its pytest collector
`SchemathesisCase.collect` calls: the same phases, settings, per-operation seed and checks) for a share of the
operations (`SHARDS`, so that the xdist workers can split them) and reports every failing operation by label
(`run_operations`, shared with the slow module; schemathesis's pytest plugin is not loaded at all).
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402

from infraplan.web.app import create_app  # noqa: E402

POSITIVE_COVERAGE = SchemathesisConfig.from_dict({"phases": {"coverage": {"generation": {"mode": "positive"}}}})
JSON = {"content-type": "application/json"}
SETTINGS: dict[str, Any] = {"deadline": None, "derandomize": True, "database": None,
                            "suppress_health_check": list(HealthCheck)}
SHARDS = 4  # test_no_server_errors[k] runs operations k, k + SHARDS, ... (of 32)


@functools.cache
def _schema() -> Any:
    """The app's OpenAPI schema, loaded through the app (as `from_asgi` does) once per process that needs it."""
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(), config=POSITIVE_COVERAGE)


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

    with asgi.get_client(_schema().app) as session:
        session.trust_env = False
        yield session


@settings(max_examples=5, **SETTINGS)
def _case_has_no_server_error(case: Any, asgi_session: Any) -> None:
    _no_server_error(case, case.call(session=asgi_session))


def _operation_failures(schema: Any, result: Any, test_func: Any, feedback: Any, kwargs: dict[str, Any]) -> list[str]:
    """Run one operation's schemathesis test as its pytest plugin would (`SchemathesisCase._gen_items` builds it,
    `pytest_pyfunc_call` runs it): what failed, one line per problem plus the failure's own report."""
    from schemathesis.core.errors import InvalidHeadersExample
    from schemathesis.core.failures import FailureGroup, as_reported_failure
    from schemathesis.core.result import Ok
    from schemathesis.generation.hypothesis.builder import (
        InvalidHeadersExampleMark,
        MissingPathParameters,
        UnserializablePayloadMark,
    )
    from schemathesis.generation.hypothesis.reporting import ignore_hypothesis_output
    from schemathesis.pytest._test_builder import build_operation_test
    from schemathesis.pytest.warnings import emit_unserializable_payload_warning

    if not isinstance(result, Ok):
        return [f"invalid operation: {result.err()}"]
    operation = result.ok()
    try:  # the build raises InvalidSchema for a malformed definition (the plugin's collector reports it as a test)
        test = build_operation_test(config=schema.config, operation=operation, test_func=test_func,
                                    given_kwargs={}, feedback=feedback)
        with ignore_hypothesis_output():
            test(**kwargs)
    except FailureGroup as exc:
        return [f"{operation.label}: {as_reported_failure(exc)}"]
    except Exception as exc:  # every operation runs: each failure is reported with its label
        return [f"{operation.label}: " + "".join(traceback.format_exception_only(exc))]
    payload = UnserializablePayloadMark.get(test)
    if payload is not None:
        emit_unserializable_payload_warning(payload)
    problems = []
    headers = InvalidHeadersExampleMark.get(test)
    if headers is not None:
        problems.append(f"{operation.label}: {InvalidHeadersExample.from_headers(headers)}")
    missing = MissingPathParameters.get(test)
    if missing:
        problems.append(f"{operation.label}: {missing}")
    return problems


def run_operations(schema: Any, test_func: Any, shard: int, shards: int, **kwargs: Any) -> None:
    """`test_func(case, **kwargs)` (a function with hypothesis `@settings`) on the schema's operations number shard,
    shard + shards, ..., each built and run as `@schema.parametrize()` would; fails with every failing operation."""
    from schemathesis.checks import load_all_checks
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.python._constants.orchestrator import make_constants_value_source

    load_all_checks()
    feedback = FeedbackSources(constants_value_source=make_constants_value_source(schema))
    operations = list(schema.get_all_operations())
    assert len(operations) >= 26  # every command's endpoint and its /cli twin
    failures = [problem for result in operations[shard::shards]
                for problem in _operation_failures(schema, result, test_func, feedback, kwargs)]
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_server_errors(shard: int, asgi_session: Any) -> None:
    run_operations(_schema(), _case_has_no_server_error, shard, SHARDS, asgi_session=asgi_session)


def _json_bodies(app: Any) -> list[tuple[str, dict[str, Any]]]:
    """(path, request-body schema) of every operation of the app that takes a JSON body (its OpenAPI document, the
    one `/openapi.json` serves)."""
    spec = app.openapi()
    found = []
    for path, item in spec["paths"].items():
        body = item.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = body.get("schema", {}).get("$ref", "")
        if ref:
            found.append((path, spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]))
    return found


def test_each_kind_of_bad_body_is_a_one_line_4xx() -> None:
    app = create_app()
    bodies = _json_bodies(app)
    assert len(bodies) >= 26  # every command's endpoint and its /cli twin
    with TestClient(app, raise_server_exceptions=False) as client:
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
