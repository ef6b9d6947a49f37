"""The many-examples run of `test_web_schemathesis.py` (`pytest -m slow`): 150 examples per operation.

A module of its own so that a default run (`-m 'not slow'`) does not collect it: schemathesis builds every
operation's test at collection, before deselection, and that build was half the collection time of the web
tests in every xdist worker (`tests/conftest.py` skips collecting `SLOW_ONLY_MODULES` when `-m` excludes slow).
"""

from __future__ import annotations

from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import settings  # noqa: E402
from test_web_schemathesis import SETTINGS, _no_server_error  # noqa: E402

from infraplan.web.app import create_app  # noqa: E402

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())  # the whole coverage phase: both modes

pytestmark = pytest.mark.slow


@schema.parametrize()
@settings(max_examples=150, **SETTINGS)
def test_no_server_errors_many_examples(case: Any) -> None:
    _no_server_error(case, case.call())
