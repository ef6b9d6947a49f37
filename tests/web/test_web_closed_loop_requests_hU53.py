"""The web's serve runs a closed loop's default count (10 per client, serving_api) within its own cap (hU53)."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.serving.serve_inputs import closed_loop_requests
from infraplan.web import runners
from infraplan.web.requests import WEB_MAX_REQUESTS, ServeRequest


def _requests_sent(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> Any:
    seen: dict[str, Any] = {}

    def fake(*args: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(runners, "estimate_serving", fake)
    monkeypatch.setattr(runners, "serving_with_fabric_note", lambda result, *rest: result)
    runners.run_serve(ServeRequest(model="llama3-8b", system="h100-sxm", gpus=1, input_len=128, output_len=64,
                                   **fields))
    # the count the call simulates: the web passes its cap and `estimate_serving` cuts a closed loop's default to it
    # (hF46, so that its note says the cap: tests/web/test_web_serve_sizes_hF46.py runs it)
    default = closed_loop_requests(seen["requests"], seen["concurrency"], None)
    return default if seen["requests"] is not None or default is None else min(default, seen["requests_cap"])


def test_a_closed_loop_runs_ten_per_client_as_the_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _requests_sent(monkeypatch, concurrency=1000) == 10_000


def test_a_large_loop_stays_within_the_web_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _requests_sent(monkeypatch, concurrency=50_000) == WEB_MAX_REQUESTS


def test_given_requests_and_open_loops_pass_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _requests_sent(monkeypatch, concurrency=1000, requests=500) == 500
    assert _requests_sent(monkeypatch, rate=2.0) is None
