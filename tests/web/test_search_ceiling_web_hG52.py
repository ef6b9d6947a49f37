"""The web's search answers with the published-MFU ceilings the CLI prints (hG52): the same JSON asked two ways,
and the training page shows each ceiling, whose figure it is and the plans it ranked after the best."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import web_and_cli
from tests.web.test_web_browser import open_training_planner

SEARCH = {"model": "llama3-8b", "system": "gb200", "gpus": [64], "seq_len": 8192, "global_batch": 512,
          "dtype": "bf16", "top": 1}


def test_the_web_search_carries_the_cli_ceilings(client: TestClient, capsys: pytest.CaptureFixture[str]) -> None:
    web, cli = web_and_cli(client, "search", SEARCH, capsys)
    assert web["mfu_ceilings"] == cli["mfu_ceilings"] and len(web["mfu_ceilings"]) == 1
    (ceiling,) = web["mfu_ceilings"]
    assert ceiling["fallback"] and ceiling["ranked_after_count"] > 0
    assert web["margin_ranked_after_count"] == cli["margin_ranked_after_count"]
    scaling, _ = web_and_cli(client, "search", {**SEARCH, "gpus": [32, 64]}, capsys)
    assert scaling["scaling"][1]["mfu_ceilings"] == web["mfu_ceilings"]


def test_the_training_page_shows_the_ceiling_and_what_it_ranked_after(live_server: str, browser: Any,
                                                                      client: TestClient) -> None:
    answer = client.post("/api/search", json={**SEARCH, "system": "dgx-h100-superpod"}).json()
    (ceiling,) = answer["mfu_ceilings"]
    errors: list[str] = []
    page = open_training_planner(browser, live_server, errors)
    page.select_option("select[name=model]", "llama3-8b")
    page.select_option("select[name=system]", "dgx-h100-superpod")
    page.fill("input[name=seq_len]", "8192")
    page.fill("input[name=global_batch]", "512")
    page.select_option("select[name=dtype]", "bf16")
    page.fill("input[name=search_gpus]", "64")
    page.click("#run-search")
    cell = page.wait_for_selector("#mfu-ceiling-bf16", timeout=60_000)
    assert float(cell.get_attribute("data-value") or "nan") == ceiling["mfu"]
    after = page.locator("#ranked-after-bf16")
    assert int(after.get_attribute("data-value") or "-1") == ceiling["ranked_after_count"] > 0
    assert after.inner_text().startswith(f"{ceiling['ranked_after_count']} faster plans")
    c = ceiling["fastest_ranked_after_config"]  # the fastest's layout, as the CLI's line names it (hF59)
    assert f"(TP{c['tp']} CP{c['cp']} PP{c['pp']}×V{c['vpp']}" in after.inner_text()
    assert ceiling["source"][:40] in page.inner_text("#search-out .ceilings") and errors == []
    curve = client.post("/api/search", json={**SEARCH, "system": "dgx-h100-superpod", "gpus": [32, 64]}).json()
    counts = [str(sum(c["ranked_after_count"] for c in p["mfu_ceilings"])) for p in curve["scaling"]]
    page.fill("input[name=search_gpus]", "32,64")
    page.click("#run-search")
    page.wait_for_selector("#search-out .scaling .main-svg", timeout=60_000)
    rows = page.locator("#search-out .summary tr")
    assert "faster plans ranked after" in rows.nth(0).inner_text()
    assert [rows.nth(i).locator("td").last.inner_text() for i in (1, 2)] == counts and counts[1] != "0"
    assert page.locator("#ranked-after-bf16").count() == 0 and errors == []  # (per point, in the table above)
    page.close()
