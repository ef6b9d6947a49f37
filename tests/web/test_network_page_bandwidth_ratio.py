"""The /network page's tier table shows the tier's bandwidth oversubscription (`bandwidth_oversubscription`, the
built fabric's NICs against its uplinks at port speed, hN58), with the port ratio beside it where the two differ, as
the CLI's table does (lead, session 48). On meta-genai-roce-24k the pod tier is 6.98:1 (3,072 GPUs' NICs over 440
built uplinks at the same 400G) by both counts, so the page shows the one ratio and no port ratio beside it."""

from __future__ import annotations

from typing import Any

import httpx
from tests.web.test_web_browser import open_page


def test_the_tier_table_shows_the_apis_bandwidth_ratio(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/network",
                     "[...document.querySelectorAll('select[data-catalog]')].every(s => s.options.length > 1)", errors)
    page.click("#run-network")
    page.wait_for_selector("#net-out .summary tr:nth-child(2)", timeout=60_000)
    api = httpx.post(live_server + "/api/network", json={"system": "meta-genai-roce-24k"}, timeout=60).json()
    tiers = api.get("result", api)["tiers"]
    pod = next(t for t in tiers if t["name"] == "pod")
    assert abs(pod["bandwidth_oversubscription"] - 3072 / 440) < 1e-6  # by hand: NICs over built uplinks
    text = page.inner_text("#net-out .summary")
    assert "oversubscription (bandwidth)" in text  # the column says which ratio it shows
    assert "6.98:1" in text and "ports)" not in text  # equal ratios: one shown
    assert errors == []
    page.close()
