"""hK71: `serve-plan --requests` is bounded by `limits.MAX_PROBE_REQUESTS` (400,000), the longest whole run
serve-plan judges; above it every edge refuses in one line (the CLI with exit 2) instead of running for an hour (10 M
was accepted: the simulation's limit, `MAX_REQUESTS`)."""

from __future__ import annotations

import time

import pytest
from tests.cli.conftest import CliRun

from infraplan.errors import InputError
from infraplan.limits import MAX_PROBE_REQUESTS, MAX_REQUESTS
from infraplan.serving.capacity import search_capacity
from infraplan.serving.capacity_horizon import HORIZON_MAX_REQUESTS
from infraplan.web.requests import WEB_MAX_PROBE_REQUESTS

ARGS = ["serve-plan", "llama3-8b", "--system", "hgx-h200", "--rate", "150", "--workload", "chat"]


def test_the_limit_is_the_longest_whole_run_and_the_web_stays_below_it() -> None:
    assert MAX_PROBE_REQUESTS == HORIZON_MAX_REQUESTS < MAX_REQUESTS
    assert WEB_MAX_PROBE_REQUESTS <= MAX_PROBE_REQUESTS


@pytest.mark.parametrize("requests", [MAX_PROBE_REQUESTS + 1, MAX_REQUESTS, 0])
def test_the_cli_refuses_beyond_the_limit_in_one_line_at_once(cli: CliRun, requests: int) -> None:
    started = time.monotonic()
    code, out, err = cli([*ARGS, "--requests", str(requests), "--json"])
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    if requests > MAX_PROBE_REQUESTS:
        assert "400,000 requests per probe" in err
    assert time.monotonic() - started < 5.0  # refused before any probe runs


@pytest.mark.parametrize("requests", [MAX_PROBE_REQUESTS + 1, 0])
def test_the_api_refuses_too(requests: int) -> None:
    """A sweep or a script calls `search_capacity` without the CLI's parser: the same bound."""
    with pytest.raises(InputError, match="--requests must be 1..400,000 requests per probe"):
        search_capacity("llama3-8b", "hgx-h200", 150.0, workload="chat", requests=requests)
