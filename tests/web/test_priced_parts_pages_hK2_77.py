"""The web's compare and fleet-mix show the money over the priced parts where a pool has no price (hK2, session 77),
as `compare` and `fleet-mix` print it: the API carries `capex_priced_usd`, `fleet_value_priced_usd` (compare),
`tco_priced_usd_per_year` and `capex_unpriced_parts` (hK77; fleet-mix's totals since hK2-77), and the pages, which
listed only the money rows (null: "-"), add the priced-part rows and the servers they leave out."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.planning.test_fleet_mix_priced_parts_hK2_77 import spec as fleet_spec
from tests.planning.test_plan_priced_parts_hK77 import PRICE
from tests.planning.test_plan_priced_parts_hK77 import _spec as scenario
from tests.web.test_web_browser import open_page
from web_jobs import finished

from infraplan.planning.compare import compare_scenarios
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec

PRESETS_READY = "document.querySelector('select[name=preset-0]').options.length > 2"
PRICED_KEYS = ("capex_priced_usd", "fleet_value_priced_usd", "tco_priced_usd_per_year", "capex_unpriced_parts")


def _result(answer: dict[str, Any]) -> dict[str, Any]:
    return dict(answer["result"]) if "poll" in answer else answer  # a job the page's run already finished


def test_the_compare_api_carries_the_priced_parts(client: TestClient) -> None:
    specs = [scenario(), scenario(PRICE)]
    web = finished(client, client.post("/api/compare", json={"scenarios": [
        {"spec": json.loads(s.model_dump_json())} for s in specs]}))
    cli = compare_scenarios(specs)
    for key in PRICED_KEYS:
        assert [p[key] for p in web["scenarios"]] == [getattr(p, key) for p in cli.scenarios]
    assert web["scenarios"][0]["capex_unpriced_parts"] == ["servers of pool gb (gb300)"]
    assert web["deltas"][1]["capex_priced_usd"] is None  # other parts left out: no delta


def test_the_compare_page_shows_the_priced_rows(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/compare", PRESETS_READY, errors)
    specs = [scenario(), scenario(PRICE)]
    for i, s in enumerate(specs):
        page.set_input_files(f"input[name=file-{i}]", {"name": f"{s.name}.json", "mimeType": "application/json",
                                                       "buffer": s.model_dump_json().encode()})
    page.select_option("select[name=preset-2]", "")
    page.click("#run-compare")
    page.wait_for_selector("#m-capex_priced_usd-1", timeout=120_000)
    api = _result(httpx.post(live_server + "/api/compare", timeout=120, json={"scenarios": [
        {"text": s.model_dump_json(), "filename": f"{s.name}.json"} for s in specs]}).json())
    for key in PRICED_KEYS[:3]:
        for i in (0, 1):
            shown = page.get_attribute(f"#m-{key}-{i}", "data-value")
            assert float(shown or "nan") == api["scenarios"][i][key]
    assert "(" not in page.inner_text("#m-capex_priced_usd-1")  # the second prices the servers: no delta
    assert page.inner_text("#m-capex_usd-0").strip() == "-"
    parts = page.inner_text("#priced-parts")
    assert "gb300-unpriced: priced parts leave out servers of pool gb (gb300)" in parts
    assert "the catalog has no price for gb300" in parts and "gb300-priced" not in parts
    table = page.inner_text("#compare-out")
    assert "capex, priced parts ($ M)" in table and "TCO / year, priced parts ($ M)" in table
    # every pool priced: the priced sums are the money rows, not shown twice (as the CLI); the list is emptied
    page.set_input_files("input[name=file-0]", {"name": "priced.json", "mimeType": "application/json",
                                                "buffer": specs[1].model_dump_json().encode()})
    page.click("#run-compare")
    page.wait_for_function("document.querySelector('#m-capex_usd-0') && "
                           "document.querySelector('#m-capex_usd-0').textContent.trim() !== '-'", timeout=120_000)
    assert page.locator("#m-capex_priced_usd-0").count() == 0 and page.locator("#priced-parts").count() == 0
    assert "priced parts" not in page.inner_text("#compare-out")
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def unpriced_mix() -> dict[str, Any]:
    return plan_fleet(FleetSpec.model_validate(fleet_spec(False))).model_dump(mode="json")


def test_the_fleet_mix_api_carries_the_priced_parts(client: TestClient, unpriced_mix: dict[str, Any]) -> None:
    web = finished(client, client.post("/api/fleet-mix", json={"fleet": {"spec": fleet_spec(False)}}))
    for key in ("capex_priced_usd", "tco_priced_usd_per_year", "capex_unpriced_parts"):
        assert web["totals"][key] == unpriced_mix["totals"][key]
    assert web["totals"]["capex_usd"] is None and web["totals"]["capex_priced_usd"] > 0


def test_the_fleet_mix_page_shows_the_priced_rows(live_server: str, browser: Any,
                                                  unpriced_mix: dict[str, Any]) -> None:
    import yaml

    errors: list[str] = []
    page = open_page(browser, live_server + "/fleet-mix",
                     "document.querySelector('select[data-fleets]').options.length > 1", errors)
    page.set_input_files("input[name=file]", {"name": "mix.yaml", "mimeType": "application/yaml",
                                              "buffer": yaml.safe_dump(fleet_spec(False)).encode()})
    page.click("#run-fleet")
    page.wait_for_selector("#t-capex_priced_usd", timeout=120_000)
    for key in ("capex_priced_usd", "tco_priced_usd_per_year"):
        assert float(page.get_attribute(f"#t-{key}", "data-value") or "nan") == unpriced_mix["totals"][key]
        assert float(page.get_attribute(f"#g-{key}", "data-value") or "nan") == \
            unpriced_mix["gpu_only"]["totals"][key]
    assert page.inner_text("#t-capex_usd").strip() == "-"
    assert "priced parts leave out: servers of pool mtia-v2 (mtia-v2-rack), servers of pool msvp (msvp)" in \
        page.inner_text("#fleet-notes")
    assert errors == []
    page.close()
