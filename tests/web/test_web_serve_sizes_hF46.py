"""A web `serve` is sized as it runs (hF46, after hR46's closed loops):

* an image run at a rate without `requests` runs the steady-state length (`serving.image_steady_state`: 10,000 to
  200,000 images), but `jobs.is_long` sized it as 2,000, so a run near saturation ran inline on the request thread;
* a closed loop whose default (10 per client) passes the web's cap runs the cap, and its note told the user to
  "leave --requests out", which they had: it says the cap.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("fastapi")

from infraplan.serving.results import ImageServingResult, ServingResult  # noqa: E402
from infraplan.serving.serving_api import estimate_serving  # noqa: E402
from infraplan.web import runners  # noqa: E402
from infraplan.web.jobs import SYNC_SERVE_REQUESTS, is_long, serve_size  # noqa: E402
from infraplan.web.requests import ServeRequest  # noqa: E402


def _image(**fields: object) -> ServeRequest:
    return ServeRequest(model="sd-v1.5-512", system="h100-sxm", gpus=1, workload="image-generation",
                        **fields)  # type: ignore[arg-type]


def test_an_image_run_near_saturation_is_a_job_sized_as_the_images_it_runs() -> None:
    busy = _image(rate=17.5)  # an H100 serves ~17.7 images/s offline (serving.image_steady_state's fit)
    result = runners.run_serve(busy)
    assert isinstance(result, ImageServingResult) and result.requests is not None
    assert serve_size(busy) == result.requests > SYNC_SERVE_REQUESTS  # the relaxation's length, not 2,000
    assert is_long(busy)


def test_a_light_image_run_and_a_given_count_stay_inline() -> None:
    light = _image(rate=2.0)
    result = runners.run_serve(light)
    assert isinstance(result, ImageServingResult) and serve_size(light) == result.requests == 10_000
    assert not is_long(light)
    assert serve_size(_image(rate=17.5, requests=500)) == 500 and not is_long(_image(rate=17.5, requests=500))
    assert serve_size(_image(offline=True)) == 2000  # an offline image run's default count
    assert serve_size(_image(rate=2.0, max_batch=10**6)) == 2000  # refused by its run (memory): sized as default


def test_a_capped_closed_loop_says_the_cap_not_leave_requests_out() -> None:
    shape: dict[str, Any] = {"input_len": 128, "output_len": 16, "dtype": "fp8"}
    capped = estimate_serving("llama3-8b", "h100-sxm", 1, concurrency=300, requests_cap=2500, **shape)
    assert isinstance(capped, ServingResult) and capped.requests == 2500  # the default 3,000 cut to the cap
    note = [w for w in capped.warnings if w.startswith("closed loop")]
    assert len(note) == 1 and "2,500 requests (the most a run here simulates)" in note[0]
    assert "leave --requests out" not in note[0] and "the CLI runs the default 3,000" in note[0]
    given = estimate_serving("llama3-8b", "h100-sxm", 1, concurrency=300, requests=2500, requests_cap=2500, **shape)
    assert isinstance(given, ServingResult)  # the same count given: the user's to change
    assert any("leave --requests out or give 3,000" in w for w in given.warnings)
    assert given.requests_per_s == capped.requests_per_s  # the same run, only its note differs


def test_the_web_passes_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runners, "WEB_MAX_REQUESTS", 2500)
    request = ServeRequest(model="llama3-8b", system="h100-sxm", gpus=1, input_len=128, output_len=16, dtype="fp8",
                           concurrency=300)
    result = runners.run_serve(request)
    assert isinstance(result, ServingResult) and result.requests == runners.serve_requests(request) == 2500
    assert any("(the most a run here simulates)" in w for w in result.warnings)
