"""The many-examples run of `test_web_schemathesis.py` (`pytest -m slow`): 150 examples per operation.

A module of its own, with the whole coverage phase (both modes). Its operations' tests are built when it runs
(`test_web_schemathesis.run_operations`, schemathesis's own builder), not at collection, like the default run's;
`tests/conftest.py` still skips collecting it (`SLOW_ONLY_MODULES`) when `-m` excludes slow tests.
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import settings  # noqa: E402
from test_web_schemathesis import SETTINGS, SHARDS, _no_server_error, run_operations  # noqa: E402

from infraplan.web.app import create_app  # noqa: E402

pytestmark = pytest.mark.slow


@settings(max_examples=150, **SETTINGS)
def _case_has_no_server_error(case: Any) -> None:
    _no_server_error(case, case.call())


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_server_errors_many_examples(shard: int) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())  # the whole coverage phase: both modes
    run_operations(schema, _case_has_no_server_error, shard, SHARDS)
