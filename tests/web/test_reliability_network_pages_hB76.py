"""hB (session 76): what session 75 added to `reliability` and `network` shows in the browser too.

- No page ran `reliability` (hV75: "no web page renders reliability"): the API took it, `--plan` included (hS75), but
  a planner who only uses the browser could not ask how often a job stops or what its goodput with repairs is. The
  facility page now has its form (every CLI option, `--plan` as a few of train's plan fields), and its rows are the
  CLI's table's.
- The network page showed the tiers alone: hE75's `load_balancing`, whether the system file states it, its basis and
  the ECMP flows per GPU pair, and the totals line the CLI prints under its table (switches, bisection, power, capex)
  were in the JSON only.
- serve-plan (always a job) of an unknown model answered 202, then a failed job: now a job its command refuses at
  once is a 400 with the line, as every inline command answers it.
- No job could be cancelled: DELETE /api/jobs/{id}, and a "cancel" button beside a page's job progress.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.test_api_cli_web_defaults import page_body
from tests.web.conftest import web_answer
from tests.web.test_web_browser import open_page

from infraplan.web import jobs as jobs_module
from infraplan.web.app import create_app

NVL72 = "gb200-nvl72-superpod"
PLAN_FIELDS = {"tp": "4", "pp": "2", "seq_len": "8192", "global_batch": "576"}
PLAN = {"tp": 4, "pp": 2, "dtype": "fp8", "seq_len": 8192, "global_batch": 576}  # the form's order
READY = "document.querySelector('#rel-form select[name=model]').options.length > 1 && " \
        "document.querySelector('#rel-form select[name=no_spare_policy]').options.length > 1"


def test_the_untouched_reliability_form_posts_the_clis_line(client: TestClient) -> None:
    """The system and GPUs preselected (the CLI needs both: Llama 3's 16,384-GPU job on its RoCE cluster), every other
    option the CLI's default. The model select always names one (hR76: `--plan` prices the plan of a model given, and
    `ReliabilityRequest.model` null is "not given", so the line names it); the optimizer is "(default)", null: adam
    without a plan, train's choice with one (hR76; hV76: this test still expected hB76's base, adam posted and no
    --model, and failed on land76)."""
    body = page_body("facility", "rel-form")
    assert body == {"system": "meta-genai-roce-24k", "gpus": 16384, "model": "llama3-405b", "no_spare_policy": "shrink"}
    line = client.post("/api/reliability/cli", json=body).json()["command"]
    assert line == "infraplan reliability --system meta-genai-roce-24k --gpus 16384 --model llama3-405b --json"


def _done(page: Any, out: str) -> None:
    page.wait_for_function(f"document.querySelector('#{out} .status').textContent === 'done' || "
                           f"document.querySelector('#{out} .error').textContent !== ''", timeout=60_000)
    assert page.text_content(f"#{out} .error") == ""


def _value(page: Any, cell: str) -> str:
    return str(page.get_attribute(cell, "data-value"))


def test_the_reliability_form_with_a_plan_is_the_apis_answer(live_server: str, browser: Any) -> None:
    """llama3-70b TP4 PP2 fp8 on 576 GB200 (hS75's job): the page's goodput with repairs is `reliability --plan`'s
    (its smaller plans priced: below the 0.91 of each replica at full speed), its line the CLI's --plan line."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", READY, errors)
    page.select_option("#rel-form select[name=system]", NVL72)
    page.fill("#rel-form input[name=gpus]", "576")
    page.select_option("#rel-form select[name=model]", "llama3-70b")
    page.fill("#rel-form input[name=days]", "10")
    for name, value in PLAN_FIELDS.items():
        page.fill(f"#rel-form input[name=plan_{name}]", value)
    page.select_option("#rel-form select[name=plan_dtype]", "fp8")
    page.click("#run-rel")
    _done(page, "rel-out")
    body = {"system": NVL72, "gpus": 576, "model": "llama3-70b", "days": "10", "plan": PLAN}
    api = httpx.post(live_server + "/api/reliability", json=body, timeout=60).json()
    assert float(_value(page, "#rel-goodput-repairs")) == api["goodput_with_repairs"] < 0.90
    assert float(_value(page, "#rel-goodput")) == api["goodput"]
    assert float(_value(page, "#rel-mttf")) == api["job_mttf_s"]
    assert float(_value(page, "#rel-interruptions")) == api["expected_interruptions"]
    assert page.text_content("#rel-out .cli") == httpx.post(live_server + "/api/reliability/cli", json=body).json()[
        "command"]
    assert "--plan '--tp 4 --pp 2 --dtype fp8 --seq-len 8192 --global-batch 576'" in str(
        page.text_content("#rel-out .cli"))
    assert api["error_band"] is not None and page.text_content("#rel-out #error-band")  # the band, as the CLI's
    assert api["notes"][0] in str(page.text_content("#rel-out .notes"))
    page.fill("#rel-form input[name=plan_tp]", "")  # a plan without its sequence length: one line, no answer left
    page.fill("#rel-form input[name=plan_seq_len]", "")
    page.click("#run-rel")
    page.wait_for_function("document.querySelector('#rel-out .error').textContent !== ''", timeout=60_000)
    assert "plan.seq_len" in str(page.text_content("#rel-out .error"))
    assert page.query_selector("#rel-goodput-repairs") is None
    assert errors == []
    page.close()


def test_the_network_page_says_the_fabrics_load_balancing(live_server: str, browser: Any) -> None:
    """RoCE 24K's E-ECMP (16 QPs a GPU pair, stated in its file) and the totals, as `network --json` gives them."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/network",
                     "document.querySelector('#net-form select[name=system]').options.length > 1", errors)
    page.fill("#net-form input[name=gpus]", "1024")
    page.click("#run-network")
    _done(page, "net-out")
    api = httpx.post(live_server + "/api/network", json={"system": "meta-genai-roce-24k", "gpus": 1024},
                     timeout=60).json()
    assert api["load_balancing"] == "ecmp" and api["ecmp_flows_per_pair_count"] == 16
    assert page.text_content("#net-load-balancing-cases") == api["load_balancing_basis"]
    shown = str(page.text_content("#net-load-balancing")).removesuffix(api["load_balancing_basis"])
    assert shown == "ecmp, 16 flows per GPU pair hashed (stated)"
    assert int(_value(page, "#net-switches")) == api["switches_total"]
    assert float(_value(page, "#net-bisection")) == api["bisection_bytes_per_s"]
    assert float(_value(page, "#net-power")) == api["power_w"]
    assert float(_value(page, "#net-capex")) == api["capex_usd"]
    assert "205 Tb/s" in str(page.text_content("#net-bisection"))  # the CLI's "bisection 205 Tb/s"
    assert errors == []
    page.close()


@pytest.mark.parametrize(("command", "body", "words"), [
    ("serve-plan", {"model": "nope", "system": "dgx-h100-superpod", "rate": 2.0, "workload": "chat"},
     "unknown model 'nope'"),
    ("serve-plan", {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 2.0, "workload": "image-generation"},
     "serve-plan searches LLM deployments"),
    ("search", {"model": "llama3-8b", "system": "nope-superpod", "gpus": [8, 16, 32], "seq_len": 4096,
                "global_batch": 256}, "unknown system or accelerator 'nope-superpod'"),
])
def test_a_job_its_command_refuses_at_once_is_a_400(command: str, body: dict[str, Any], words: str) -> None:
    """serve-plan (always a job) of an unknown model answered 202 and a job to poll, whose status was then 'failed'
    with the line: every other command refuses such input with a 400 at once. The job's line is the CLI's (it is the
    runner's own); hB77: decided before the job is queued, with no wait to raise (`jobs.check_input`)."""
    with TestClient(create_app(), raise_server_exceptions=False) as fresh:
        response = fresh.post(f"/api/{command}", json=body)
    assert response.status_code == 400, response.text
    assert words in response.json()["detail"]


def test_a_job_that_runs_is_still_a_202(client: TestClient) -> None:
    """The wait is for a refusal only: a long search that runs answers 202 and is polled, as before."""
    body = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [8, 16, 32], "seq_len": 4096,
            "global_batch": 256}
    response = client.post("/api/search", json=body)
    assert response.status_code == 202, response.text
    assert web_answer(client, "search", body)["scaling"][0]["gpus"] == 8


SERVE_PLAN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "rate": 2.0, "workload": "chat"}


def _slow_run(request: Any, progress: Any = None) -> Any:
    """A job that reports progress every 20 ms for 10 s and is never meant to end (cancelled before)."""
    for step in range(500):
        progress(step / 500)
        time.sleep(0.02)
    raise AssertionError("the job was not cancelled")


def _poll(client: TestClient, poll: str, until: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while not until(job := client.get(poll).json()):
        assert time.monotonic() < deadline, job
        time.sleep(0.02)
    return job


def test_a_running_or_queued_job_is_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    """No job could be stopped (no endpoint, no button): a long compare or serve-plan a planner gave up on ran to its
    end and held one of the 8 pending slots. DELETE /api/jobs/{id}: a running job stops at its next progress
    report, a queued one never starts, a finished one is left as it is, an unknown one is a 404."""
    monkeypatch.setattr(jobs_module, "run", _slow_run)
    with TestClient(create_app(), raise_server_exceptions=False) as fresh:
        fresh.app.state.jobs.workers = 1  # type: ignore[attr-defined]  # (the pool is made on first use)
        running = fresh.post("/api/serve-plan", json=SERVE_PLAN).json()
        queued = fresh.post("/api/serve-plan", json={**SERVE_PLAN, "rate": 3.0}).json()
        _poll(fresh, running["poll"], lambda job: job["status"] == "running" and job["progress"] > 0)
        assert fresh.get(queued["poll"]).json()["status"] == "queued"  # one worker: behind the first
        answer = fresh.delete(queued["poll"])
        assert answer.status_code == 200
        assert answer.json()["status"] == "cancelled" and answer.json()["error"] == "cancelled before it started"
        assert fresh.delete(running["poll"]).status_code == 200
        job = _poll(fresh, running["poll"], lambda job: job["status"] != "running")
        assert job["status"] == "cancelled" and job["error"].startswith("cancelled at ") and job["result"] is None
        assert fresh.delete(running["poll"]).json()["status"] == "cancelled"  # a finished job: as it was
        assert fresh.delete("/api/jobs/" + "0" * 32).status_code == 404


def test_the_pages_cancel_button_stops_the_job(live_server: str, browser: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """/serve's capacity search (a serve-plan job) shows "cancel" beside its progress; clicked, the job stops and the
    page says so in its error line, with no answer left and the button gone."""
    monkeypatch.setattr(jobs_module, "run", _slow_run)
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", "document.querySelector('select[name=model]').options.length > 1",
                     errors)
    page.fill("#serve-form input[name=requests]", "1234")  # a question no other test asks (the cache answers those)
    page.click("#run-plan")
    page.wait_for_selector("#plan-out button.cancel", timeout=10_000)
    page.click("#plan-out button.cancel")
    page.wait_for_function("document.querySelector('#plan-out .error').textContent !== ''", timeout=10_000)
    assert str(page.text_content("#plan-out .error")).startswith("cancelled at ")
    assert page.query_selector("#plan-out button.cancel") is None and page.query_selector("#plan-out table") is None
    assert errors == []
    page.close()


@pytest.mark.parametrize(("value", "words"), [
    (1e30, "plan.seq_len: must be a whole number; 1e+30 is too large"),
    (8192.5, "plan.seq_len: must be a whole number, not 8192.5"),
    ("8192", "plan.seq_len: must be a JSON integer, not the text '8192'"),
])
def test_a_bad_value_in_the_plan_is_said_as_in_the_body(client: TestClient, value: Any, words: str) -> None:
    """reliability's `plan` said pydantic's "Input should be a valid integer" where the body's own field says which
    whole number it wanted (`request_fields.strict_type_words`, the body's words)."""
    plan = {**PLAN, "seq_len": value}
    response = client.post("/api/reliability", json={"system": NVL72, "gpus": 576, "model": "llama3-70b", "plan": plan})
    assert response.status_code == 400 and response.json()["detail"] == words
