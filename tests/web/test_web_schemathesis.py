"""Property tests against the OpenAPI spec (schemathesis): no generated request makes the server fail (5xx).

The default run keeps a few examples per operation (about 15 s in all); `pytest -m slow` runs many more
(`test_web_schemathesis_slow.py`).
Generated bodies reach the models with any value the schema admits, so every input the schema lets through must
end as a result or a one-line 4xx.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402

from infraplan.web.app import create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
SETTINGS: dict[str, Any] = {"deadline": None, "derandomize": True, "database": None,
                            "suppress_health_check": list(HealthCheck)}


def _no_server_error(case: Any, response: Any) -> None:
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        detail = response.json().get("detail", "")
        assert isinstance(detail, str) and "\n" not in detail and "Traceback" not in detail


@schema.parametrize()
@settings(max_examples=5, **SETTINGS)
def test_no_server_errors(case: Any) -> None:
    _no_server_error(case, case.call())
