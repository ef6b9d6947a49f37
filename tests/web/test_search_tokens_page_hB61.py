"""The training page's whole-run fields (hB61): `tokens`, the run's location and server price, `eval_every` and
`eval_samples`, which the web API's `train` and `search` took since hL60 and the page had no field for. The estimate
sends them as the form holds them; the search passes them on (its body is built, not the form's), and both pages show
the run as the CLI's `render_run` prints it: the estimate's, or the best plan's (`best_run`, `search --tokens`, with
the result's `best_run_command` under it, hR61)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from tests.web.conftest import web_answer
from tests.web.test_search_tokens_web_hL60 import BODY
from tests.web.test_web_browser import open_training_planner

from infraplan.web.requests import SearchRequest, TrainRequest

RUN = ("tokens", "location", "server_price", "eval_every", "eval_samples", "no_spare_policy")  # --tokens, its options


def test_the_training_page_has_a_field_for_each_run_option_and_the_search_sends_them(client: TestClient) -> None:
    page = client.get("/train").text
    names = set(re.findall(r"<(?:input|select) name=\"(\w+)\"", page))
    for name in RUN:
        assert name in SearchRequest.model_fields and name in TrainRequest.model_fields
        assert name in names, name
        tag = re.search(rf"<(?:input|select) name=\"{name}\"[^>]*>", page)
        assert tag is not None and "value=" not in tag.group(0)  # empty: left out, the API's default (the CLI's None)
        assert SearchRequest.model_fields[name].default is None is TrainRequest.model_fields[name].default
    sent = re.search(r"const RUN_FIELDS = \[([^\]]*)\]", page)
    assert sent is not None and set(re.findall(r"\"(\w+)\"", sent.group(1))) == set(RUN)
    assert "...Object.fromEntries(RUN_FIELDS" in page  # (the search's body: built field by field)


def test_the_page_shows_the_best_plans_run_of_the_api(live_server: str, browser: Any, client: TestClient) -> None:
    body = {**BODY, "location": None, "server_price": None, "dtype": "bf16"}  # (the form's dtype: bf16)
    answer = web_answer(client, "search", {k: v for k, v in body.items() if v is not None})
    api = answer["best_run"]
    errors: list[str] = []
    page = open_training_planner(browser, live_server, errors)
    page.select_option("select[name=model]", "llama3-8b")
    page.select_option("select[name=system]", "dgx-h100-superpod")
    page.fill("input[name=seq_len]", "8192")
    page.fill("input[name=global_batch]", "512")
    page.fill("input[name=tokens]", "200B")
    page.fill("input[name=eval_every]", "50M tokens")
    page.fill("input[name=eval_samples]", "2 steps")
    page.fill("input[name=search_gpus]", "64")
    page.click("#run-search")
    page.wait_for_selector("#search-out .tools .cli", timeout=120_000)
    assert float(page.get_attribute("#search-out #time-to-train", "data-value") or "nan") == api["time_to_train_s"]
    assert float(page.get_attribute("#search-out #gpu-hours", "data-value") or "nan") == api["gpu_hours"]
    assert "evaluations" in page.inner_text("#search-out .run")
    # the rerun line: the answer's own field, not one the page builds (hR61)
    assert page.inner_text("#search-out #best-run-command") == "the same run again: " + answer["best_run_command"]
    line = page.inner_text("#search-out .tools .cli")
    assert "--tokens 200B" in line and "--eval-every" in line
    page.fill("input[name=search_gpus]", "32,64")  # a run needs one GPU count: the API's line, no stale run
    page.click("#run-search")
    page.wait_for_function("document.querySelector('#search-out .error').textContent !== ''", timeout=60_000)
    assert "one GPU count" in page.inner_text("#search-out .error")
    assert page.locator("#search-out .run").count() == 0
    page.fill("input[name=tokens]", "")
    page.fill("input[name=eval_every]", "")
    page.fill("input[name=eval_samples]", "")
    page.fill("input[name=gpus]", "64")
    page.fill("input[name=tp]", "8")
    page.fill("input[name=tokens]", "1T")
    page.click("#run-train")
    page.wait_for_selector("#train-out #time-to-train", timeout=60_000)
    train = client.post("/api/train", json={"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 64, "tp": 8,
                                            "pp": 1, "cp": 1, "ep": 1, "seq_len": 8192, "global_batch": 512,
                                            "micro_batch": 1, "tokens": "1T"}).json()
    shown = float(page.get_attribute("#train-out #time-to-train", "data-value") or "nan")
    assert shown == train["time_to_train_s"] and errors == []
    page.close()
