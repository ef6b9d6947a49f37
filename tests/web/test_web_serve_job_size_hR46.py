"""Review fixes to the web (hR46).

A web `serve` is a job when the requests it simulates pass `SYNC_SERVE_REQUESTS`, a closed loop's default count
included: hU53 made a closed loop without `requests` run 10 per client, but `jobs.is_long` still sized it at 2,000,
so 4,096 clients (40,960 requests) ran inline on the request thread.
"""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from fastapi.testclient import TestClient  # noqa: E402

from infraplan.serving.serve_inputs import CLOSED_LOOP_REQUESTS_PER_CLIENT, DEFAULT_REQUESTS  # noqa: E402
from infraplan.training.results import TrainingEstimate  # noqa: E402
from infraplan.web import runners  # noqa: E402
from infraplan.web.jobs import SYNC_SERVE_REQUESTS, is_long  # noqa: E402
from infraplan.web.requests import ServeRequest  # noqa: E402


def _serve(**fields: object) -> ServeRequest:
    return ServeRequest(model="llama3-8b", system="h100-sxm", gpus=8, input_len=128, output_len=64,
                        **fields)  # type: ignore[arg-type]


def test_a_large_closed_loop_without_requests_is_a_job() -> None:
    clients = SYNC_SERVE_REQUESTS // CLOSED_LOOP_REQUESTS_PER_CLIENT + 1  # its default count just past the line
    request = _serve(concurrency=clients)
    assert runners.serve_requests(request) == CLOSED_LOOP_REQUESTS_PER_CLIENT * clients > SYNC_SERVE_REQUESTS
    assert is_long(request)


def test_the_size_is_the_count_the_run_simulates() -> None:
    few_clients = _serve(concurrency=DEFAULT_REQUESTS // CLOSED_LOOP_REQUESTS_PER_CLIENT)  # 2,000: inline
    assert runners.serve_requests(few_clients) == DEFAULT_REQUESTS and not is_long(few_clients)
    given = _serve(concurrency=4096, requests=500)  # a count given is the count run
    assert runners.serve_requests(given) == 500 and not is_long(given)
    assert runners.serve_requests(_serve(rate=2.0)) is None and not is_long(_serve(rate=2.0))  # serving_api's default
    assert is_long(_serve(rate=2.0, requests=SYNC_SERVE_REQUESTS + 1))


def test_the_train_page_shows_the_flop_convention_and_the_executed_flops(client: TestClient) -> None:
    """`train` prints MFU with its FLOP convention and the executed FLOPs' utilisation beside it (hF45: an MFU above
    100 % is not shown unexplained); the web page showed a bare "MFU" and no executed figure (hR46)."""
    page = client.get("/train")
    assert page.status_code == 200
    assert "r.executed_flops_utilisation" in page.text and "executed_flops_utilisation" in TrainingEstimate.model_fields
    assert '"MFU (full s×s scores)"' in page.text and '["MFU",' not in page.text  # (a DSA warm-up's own, hI62)
