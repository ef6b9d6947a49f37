"""The /train and /serve pages carry every CLI option at the CLI's defaults (hJ, session 64).

Before, /train posted TP 8 (the CLI's default is 1) and had no control for dp, etp, recompute_layers,
offload_layers, attention, order, sequence_parallel, schedule, sharp, lora_* or memory_margin; /serve posted fp8
weights (the CLI's default is bf16), 1,000 requests and seed 0 (the CLI: its own rule and none), and had no control
for pp, ep, moe_tp, speculative_*, kv_dtype, engine, prefill_* and more. tests/test_api_cli_web_defaults.py `PAGES`
holds the two forms to the CLI's options and defaults; here: what the untouched forms post and the line it is, each
select offers the request field's choices, a few filled forms are answered as the CLI answers the same line
(`--json`, field for field), and in Chromium the page posts what the form shows, the advanced options included.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.test_api_cli_web_defaults import page_body, page_form
from tests.web.conftest import web_and_cli
from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.web.requests import REQUESTS

TRAIN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 1, "pp": 1, "cp": 1,
         "ep": 1, "seq_len": 4096, "global_batch": 256, "micro_batch": 1, "recompute": "none", "dtype": "bf16",
         "recompute_layers": 0, "offload_layers": 0, "attention": "flash", "dsa_stage": "sparse"}
"""What the untouched /train form posts: the CLI's defaults written out, and the page's example of the required."""
SERVE = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": "auto", "dtype": "bf16",
         "workload": "chat", "pp": 1, "attention_dp": 1, "moe_tp": 1, "speculative_tokens": 0,
         "prefill_gpus": 0}  # token_budget left empty: the stack's on the part (hJ71)
"""What the untouched /serve form posts for each rate of its list (`rate` added, one run each)."""


def test_the_untouched_forms_post_the_clis_default_lines(client: TestClient) -> None:
    assert page_body("train", "train-form") == TRAIN
    assert page_body("serve", "serve-form") == {**SERVE, "rate": "2,5,10,20,40"}  # the sweep's list, one run a rate
    line = client.post("/api/train/cli", json=TRAIN).json()["command"]
    assert line == "infraplan train llama3-8b --system dgx-h100-superpod --gpus 64 --seq-len 4096 --global-batch 256 " \
                   "--json"  # every other option at the CLI's default, left unsaid
    line = client.post("/api/serve/cli", json={**SERVE, "rate": 2.0}).json()["command"]
    assert line == "infraplan serve llama3-8b --system dgx-h100-superpod --gpus 8 --rate 2.0 --workload chat --json"


@pytest.mark.parametrize(("page", "form", "command"), [("train", "train-form", "train"),
                                                       ("serve", "serve-form", "serve")])
def test_each_select_offers_the_request_fields_choices(page: str, form: str, command: str) -> None:
    """A select written on the page (not a catalog list) offers exactly the values the request field takes, and ""
    (the CLI's default, the stack's or the model's) where the field may be null."""
    fields = REQUESTS[command].model_fields
    checked = 0
    for name, (tag, attrs, options) in page_form(page, form).items():
        if tag != "select" or "data-catalog" in attrs or "data-skip" in attrs:
            continue
        annotation = fields[name].annotation
        args = typing.get_args(annotation)
        literal = next((a for a in (annotation, *args) if typing.get_origin(a) is typing.Literal), None)
        # zero: an int 0-3 or null (its bounds, not a Literal)
        choices = {str(v) for v in typing.get_args(literal)} if literal is not None else {"0", "1", "2", "3"}
        nullable = fields[name].default is None
        assert {v for v, _ in options} == choices | ({""} if nullable else set()), name
        checked += 1
    assert checked == {"train": 10, "serve": 3}[page]  # hR74: train's no_spare_policy


@pytest.mark.parametrize(("command", "body"), [
    ("train", TRAIN),  # the page's default
    ("train", {**TRAIN, "tp": 8, "pp": 2, "dp": 4, "recompute": "full", "recompute_layers": 4,
               "attention": "unfused", "order": "tp-cp-pp-dp", "sequence_parallel": False, "schedule": "1f1b",
               "zero": 1, "memory_margin": 0.1}),
    ("train", {**TRAIN, "model": "mixtral-8x7b", "tp": 2, "ep": 8, "etp": 1, "lora_rank": 16,
               "lora_targets": "all"}),
    ("train", {**TRAIN, "tp": 8, "offload_layers": 4, "sharp": True, "zero_shard": 8}),
    ("serve", {**SERVE, "rate": 5, "requests": 200}),
    ("serve", {**SERVE, "workload": None, "input_len": 1024, "output_len": 128, "offline": True,
               "requests": 300, "kv_dtype": "fp8", "max_batch": 64, "token_budget": 4096}),
    ("serve", {**SERVE, "concurrency": 16, "requests": 160, "usd_per_hour": 2.5, "engine": "vllm", "seed": 3}),
    ("serve", {**SERVE, "gpus": 16, "tp": "4", "rate": 2, "requests": 200, "prefill_gpus": 8,
               "prefill_tp": 8}),
])
def test_a_form_submission_is_the_clis_answer(client: TestClient, capsys: pytest.CaptureFixture[str], command: str,
                                             body: dict[str, Any]) -> None:
    body = {k: v for k, v in body.items() if v is not None}  # a select left at "" is not posted
    web, cli = web_and_cli(client, command, body, capsys)
    assert web == cli


def test_the_training_page_posts_its_advanced_options(live_server: str, browser: Any) -> None:
    """The untouched form posts the CLI's defaults and gets its answer; an advanced option changed is posted and said
    in the CLI line (the sequence-parallel box unchecked: --no-sequence-parallel); the search takes the job's options
    (LoRA) as train does."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/train", CATALOGS_READY, errors)
    with page.expect_request(lambda r: r.url.endswith("/api/train") and r.method == "POST") as request:
        page.click("#run-train")
    assert json.loads(request.value.post_data or "{}") == {k: int(v) if isinstance(v, float) else v
                                                           for k, v in TRAIN.items()}
    page.wait_for_selector("#train-out .tools .cli", timeout=60_000)
    api = httpx.post(live_server + "/api/train", json=TRAIN, timeout=60).json()
    assert float(page.get_attribute("#step-time", "data-value") or "nan") == api["step_time_s"]
    assert page.inner_text("#train-out .cli") == ("infraplan train llama3-8b --system dgx-h100-superpod --gpus 64 "
                                                  "--seq-len 4096 --global-batch 256 --json")
    page.click("#train-advanced summary")
    page.uncheck("input[name=sequence_parallel]")
    page.fill("input[name=lora_rank]", "16")
    with page.expect_request(lambda r: r.url.endswith("/api/train") and r.method == "POST") as request:
        page.click("#run-train")
    body = json.loads(request.value.post_data or "{}")
    assert body["sequence_parallel"] is False and body["lora_rank"] == 16
    page.wait_for_function("document.querySelector('#train-out .status').textContent === 'done'", timeout=60_000)
    assert "--no-sequence-parallel" in page.inner_text("#train-out .cli")
    page.fill("input[name=search_gpus]", "64")
    with page.expect_request(lambda r: r.url.endswith("/api/search") and r.method == "POST") as request:
        page.click("#run-search")
    assert json.loads(request.value.post_data or "{}")["lora_rank"] == 16
    page.wait_for_function("document.querySelector('#search-out .status').textContent === 'done'", timeout=60_000)
    assert "--lora-rank 16" in page.inner_text("#search-out .cli")
    assert errors == []
    page.close()


def test_the_serving_page_posts_the_clis_defaults_and_runs_offline(live_server: str, browser: Any) -> None:
    """The sweep posts the form (bf16 weights, no seed, the CLI's request count) with one rate each; offline with
    the rates emptied is the one run `serve --offline` is."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/serve", CATALOGS_READY, errors)
    page.fill("input[name=rate]", "5")
    with page.expect_request(lambda r: r.url.endswith("/api/serve") and r.method == "POST") as request:
        page.click("#run-serve")
    assert json.loads(request.value.post_data or "{}") == {
        **{k: int(v) if isinstance(v, float) else v for k, v in SERVE.items()}, "rate": 5}
    page.wait_for_function("document.querySelector('#serve-out .status').textContent === 'done'", timeout=120_000)
    assert page.inner_text("#serve-out .cli") == ("infraplan serve llama3-8b --system dgx-h100-superpod --gpus 8 "
                                                  "--rate 5.0 --workload chat --json")
    page.click("#serve-advanced summary")
    page.check("input[name=offline]")
    page.fill("input[name=requests]", "300")
    page.click("#run-serve")  # the rates not emptied: the CLI's line, before any run
    page.wait_for_function("document.querySelector('#serve-out .error').textContent.length > 0", timeout=60_000)
    assert page.inner_text("#serve-out .error") == "give exactly one of --offline, --rate QPS or --concurrency N"
    page.fill("input[name=rate]", "")
    with page.expect_request(lambda r: r.url.endswith("/api/serve") and r.method == "POST") as request:
        page.click("#run-serve")
    body = json.loads(request.value.post_data or "{}")
    assert body["offline"] is True and "rate" not in body
    page.wait_for_function("document.querySelector('#serve-out .status').textContent === 'done'", timeout=120_000)
    assert page.inner_text("#serve-out .summary tr:nth-child(2) td:first-child") == "offline"
    assert page.inner_text("#serve-out .cli") == ("infraplan serve llama3-8b --system dgx-h100-superpod --gpus 8 "
                                                  "--offline --workload chat --requests 300 --json")
    assert errors == []
    page.close()
