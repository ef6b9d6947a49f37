"""An image (diffusion) `serve` answer says which software its figure assumes, in text and JSON (hU67).

An LLM answer names its stack profile (`stack`); an image answer named none, though its figure rests on the
simulator's own engine and the part's catalog kernel rates, no serving release. Now `stack` is null (no profile)
and `stack_basis` says what stands in its place, with the numbers the run read.
"""

from __future__ import annotations

import json

import pytest

from infraplan import ImageServingResult, simulate_serving
from infraplan.cli.main import main

ARGS = ["serve", "sd-v1.5-512", "--system", "h100-sxm", "--gpus", "1", "--workload", "image-generation",
        "--offline", "--requests", "64"]


def test_the_image_answer_names_its_stack_basis(capsys: pytest.CaptureFixture[str]) -> None:
    r = simulate_serving("sd-v1.5-512", "h100-sxm", 1, workload="image-generation", offline=True, requests=64)
    assert isinstance(r, ImageServingResult)
    assert r.stack is None and r.stack_basis is not None
    for words in ("no serving stack profile", "0.5 ms per iteration (ASSUMPTION", "bf16 GEMMs at h100-sxm's catalog "
                  "0.70 of peak", "600 launches per U-Net pass at its 4 µs each"):
        assert words in r.stack_basis
    assert main([*ARGS, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["stack"] is None and data["stack_basis"] == r.stack_basis
    assert main(ARGS) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "no serving stack profile" in text.split("┐")[0]  # the title says it
    assert f"stack: {r.stack_basis}" in text


def test_fp8_names_its_own_rate() -> None:
    r = simulate_serving("sd-v1.5-512", "h100-sxm", 1, workload="image-generation", offline=True, requests=16,
                         dtype="fp8")
    assert isinstance(r, ImageServingResult) and r.stack_basis is not None
    assert "fp8 GEMMs at h100-sxm's catalog 0.63 of peak" in r.stack_basis


def test_the_web_answer_says_it_and_its_page_shows_it() -> None:
    from importlib import resources

    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    body = {"model": "sd-v1.5-512", "system": "h100-sxm", "gpus": 1, "workload": "image-generation", "offline": True,
            "requests": 64}
    got = TestClient(create_app()).post("/api/serve", json=body)
    assert got.status_code == 200, got.text
    r = simulate_serving("sd-v1.5-512", "h100-sxm", 1, workload="image-generation", offline=True, requests=64)
    assert got.json()["stack_basis"] == r.stack_basis
    app_js = (resources.files("infraplan.web") / "static" / "app.js").read_text(encoding="utf-8")
    assert 'r.stack_basis ? ["stack: " + r.stack_basis]' in app_js  # IP.context lists it with the notes


def test_plan_says_it_of_an_image_service_as_serve_does() -> None:
    """`plan` sizes an image service with `serve`'s model (planning/image_capacity.py): its row says the same
    software (`serving_stack_basis`, null before), at the dtype the capacity search runs (bf16)."""
    from infraplan import plan_scenario
    from infraplan.planning.scenario_spec import ScenarioSpec

    plan = plan_scenario(ScenarioSpec.model_validate({
        "name": "img", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "imagine", "kind": "image", "workload": "image-generation", "images_per_day": "1M"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}],
        "sites": [{"name": "s", "power": "10MW", "location": "ohio"}]}))
    (row,) = plan.services
    r = simulate_serving("sd-v1.5-512", "h100-sxm", 1, workload="image-generation", offline=True, requests=16)
    assert isinstance(r, ImageServingResult)
    assert row.serving_stack is None and row.serving_stack_basis == r.stack_basis
