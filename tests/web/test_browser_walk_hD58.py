"""A first-time user's walk through the pages in Chromium (hD58): what the browser showed that the API tests could not.

- every page logged a console error: the browser's /favicon.ico was a 404 (now 204);
- a number field holding what the browser cannot read as one ("1e") has the value "", so it was left out of the body
  and the answer was the default's (the network page built the whole system); the list fields (search GPU counts,
  arrival rates, collective sizes) dropped "-8" / "abc" silently, and an empty one posted no body ("invalid body: must
  be a valid dictionary ...") or threw a JavaScript TypeError ("Cannot read properties of null");
- the serve page's SLO fields were number inputs: "20 mss" became 20 s (the browser drops the letters), and "50ms",
  which the API and the CLI take, could not be written;
- a failed run left the previous answer's figures beside its error line;
- Enter in "search: GPU counts" ran the estimate, not the search;
- the search table's plans read alike where they differ in the rank order only (the CLI names it);
- the facility page wrote counts without separators (24576 accelerators; the CLI: 24,576).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from tests.web.test_web_browser import CATALOGS_READY, open_page, open_training_planner

from infraplan.cli.commands._search_table import plan_label


def test_the_favicon_is_no_404(client: TestClient) -> None:
    assert client.get("/favicon.ico").status_code == 204


def test_every_page_loads_without_a_console_error_or_an_off_host_request(live_server: str, browser: Any) -> None:
    for path in ("/", "/train", "/serve", "/recsys", "/video", "/network", "/facility", "/compare", "/fleet-mix",
                 "/docs"):
        console: list[str] = []
        off_host: list[str] = []
        page = browser.new_page()
        page.on("console", lambda m, seen=console: seen.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e, seen=console: seen.append(str(e)))
        page.on("request", lambda r, sent=off_host: sent.append(r.url)
                if not r.url.startswith((live_server, "data:", "blob:")) else None)
        page.goto(live_server + path)
        page.wait_for_load_state("networkidle")
        assert page.title().startswith("infraplan"), path
        unlabelled = page.eval_on_selector_all(
            "form input:not([type=hidden]), form select",  # a hidden field (hB76's plan) is no control to label
            "els => els.filter(e => !(e.labels && e.labels.length)).map(e => e.name)")
        assert (console, off_host, unlabelled) == ([], [], []), path
        page.close()


def _run(page: Any, button: str, out: str) -> tuple[str, str]:
    page.click(button)
    page.wait_for_function(f"document.querySelector('#{out} .status').textContent === 'done' || "
                           f"document.querySelector('#{out} .error').textContent !== ''", timeout=60_000)
    return page.inner_text(f"#{out} .status"), page.inner_text(f"#{out} .error")


def _type_number(page: Any, selector: str, text: str) -> None:
    """Type `text` into a number field as a user does (page.fill refuses what is no number)."""
    page.fill(selector, "")
    page.type(selector, text)


def test_the_training_page_refuses_what_it_cannot_read(live_server: str, browser: Any, client: TestClient) -> None:
    posts: list[str] = []
    page = open_training_planner(browser, live_server)
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    assert _run(page, "#run-train", "train-out") == ("done", "")
    assert page.query_selector("#step-time") is not None
    _type_number(page, "input[name=gpus]", "1e")
    posts.clear()
    # the old answer goes: it was shown beside the error as if it answered the new input
    assert _run(page, "#run-train", "train-out") == ("", "GPUs: not a number")
    assert posts == [] and page.query_selector("#step-time") is None
    page.fill("input[name=gpus]", "64")
    for text, line in [("", "search: GPU counts: give one or more, comma-separated (e.g. 16,32,64,128)"),
                       ("64,-8", "search: GPU counts: '-8' is not a positive number"),
                       ("abc", "search: GPU counts: 'abc' is not a positive number")]:
        page.fill("input[name=search_gpus]", text)
        assert _run(page, "#run-search", "search-out") == ("", line)
    assert posts == []
    # Enter in the search's own field runs the search
    page.select_option("select[name=model]", "gpt3-175b")
    page.fill("input[name=seq_len]", "2048")
    page.fill("input[name=global_batch]", "2048")
    page.fill("input[name=search_gpus]", "4096")
    page.press("input[name=search_gpus]", "Enter")
    page.wait_for_function("document.querySelector('#search-out .status').textContent === 'done'", timeout=60_000)
    assert [u.removeprefix(live_server) for u in posts] == ["/api/search", "/api/search/cli"]
    # each row's plan is the CLI's label: rows 1 and 2 differ in the rank order alone
    answer = client.post("/api/search", json={"model": "gpt3-175b", "system": "dgx-h100-superpod", "gpus": [4096],
                                              "seq_len": 2048, "global_batch": 2048, "dtype": "bf16"}).json()
    labels = [page.inner_text(f"#top-plan-{i}") for i in range(len(answer["top"]))]
    assert labels == [plan_label(SimpleNamespace(**p["config"])) for p in answer["top"]]  # type: ignore[arg-type]
    assert len(set(labels)) == len(labels)
    assert page.inner_text("#search-out .summary").count("memory/GPU (GiB)") == 1
    page.close()


def test_the_serve_page_refuses_what_it_cannot_read(live_server: str, browser: Any) -> None:
    page = open_page(browser, live_server + "/serve", CATALOGS_READY)
    for text, line in [("", "arrival rates (requests/s): give one or more, comma-separated (e.g. 2,5,10,20,40)"),
                       ("5,abc", "arrival rates (requests/s): 'abc' is not a positive number")]:
        page.fill("input[name=rate]", text)
        assert _run(page, "#run-serve", "serve-out") == ("", line)
    page.fill("input[name=rate]", "5")
    # an SLO with a unit, as the API and the CLI take it; a unit typo is refused, not read as 20 s (the fix offered
    # since hJ58: "cannot read duration '20 mss'; expected e.g. 50ms, 2s, 12h or 60d" before)
    page.fill("input[name=ttft_slo]", "20 mss")
    assert _run(page, "#run-serve", "serve-out") == (
        "", "invalid ttft_slo: cannot read duration '20 mss'; expected e.g. 50ms, 2s, 12h or 60d; did you mean 20ms?")
    page.fill("input[name=ttft_slo]", "500ms")
    assert _run(page, "#run-serve", "serve-out") == ("done", "")
    assert "--ttft-slo 0.5 " in page.inner_text("#serve-out .cli")
    page.fill("input[name=target_rate]", "")
    assert _run(page, "#run-plan", "plan-out") == ("", "capacity target (requests/s): give a number")
    page.close()


def test_the_network_page_refuses_what_it_cannot_read(live_server: str, browser: Any) -> None:
    page = open_page(browser, live_server + "/network", CATALOGS_READY)
    _type_number(page, "#net-form input[name=gpus]", "1e")
    assert _run(page, "#run-network", "net-out") == ("", "GPUs (fabric; empty: whole system): not a number")
    page.fill("#coll-form input[name=sizes]", "")
    assert _run(page, "#run-coll", "coll-out") == (
        "", "sizes per rank: give one or more, comma-separated (e.g. 1MiB,8MiB,64MiB,256MiB,1GiB,4GiB)")
    page.close()


def test_the_facility_page_writes_counts_as_the_cli(live_server: str, browser: Any) -> None:
    page = open_page(browser, live_server + "/facility", CATALOGS_READY)
    assert _run(page, "#run-fac", "fac-out") == ("done", "")  # meta-genai-roce-24k: 24,576 accelerators
    summary = page.inner_text("#fac-out .summary")
    assert "accelerators\t24,576" in summary and "1,536 ×" in summary
    assert "for 24,576 accelerators" in page.inner_text("#fac-network")
    page.close()


def test_a_huge_count_is_said_in_the_users_words(client: TestClient) -> None:
    """1e308 GPUs was "Unable to parse input string as an integer, exceeded maximum size": no string was given."""
    response = client.post("/api/train", json={"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 1e308,
                                               "seq_len": 4096, "global_batch": 256})
    assert (response.status_code, response.json()["detail"]) == (
        422, "invalid gpus: must be a whole number; 1e+308 is too large")
