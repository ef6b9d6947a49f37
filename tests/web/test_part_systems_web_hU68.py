"""The facility, campus and recsys pages offer systems where they ask for an accelerator (hU68), as the CLI takes them
(`facility --accelerator mtia-400-rack`, hU67: a system stands for its part, `cluster.cluster.part_ref`): the forms
listed accelerators only. The same question through the web API and the CLI gives one answer, and the page shows
the API's."""

from __future__ import annotations

import json
import shlex
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.catalog import load_system
from infraplan.catalog.loader import list_presets
from infraplan.cli.main import main as cli_main
from infraplan.network.costs import describe_fabric

QUESTIONS = [("facility", {"accelerator": "mtia-400-rack", "count": 72}),
             ("campus", {"power": "5MW", "accelerator": "mtia-400-rack"}),
             ("facility", {"accelerator": "dgx-h100-superpod", "count": 100})]


@pytest.mark.parametrize(("command", "body"), QUESTIONS)
def test_a_system_as_the_part_is_one_answer_on_the_web_and_the_cli(client: TestClient, command: str,
                                                                   body: dict[str, Any],
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    response = client.post(f"/api/{command}", json=body)
    assert response.status_code == 200, response.text
    web = response.json()
    line = client.post(f"/api/{command}/cli", json=body).json()["command"]
    assert f"--accelerator {body['accelerator']}" in line  # the system's name, as the page sends it
    capsys.readouterr()
    assert cli_main([*shlex.split(line)[1:], "--json"] if "--json" not in line else shlex.split(line)[1:]) == 0
    assert json.loads(capsys.readouterr().out) == web
    part = {"mtia-400-rack": "mtia-400", "dgx-h100-superpod": "h100-sxm"}[body["accelerator"]]
    by_part = client.post(f"/api/{command}", json={**body, "accelerator": part}).json()
    if command == "campus":  # the part's answer, and a note that the rack holds 72 of the runs' job (hC73)
        notes = web["training_capacity"]["notes"]
        past = [n for n in notes if n.startswith("the 16,384-accelerator job is more than the 72 accelerators of ")]
        assert len(past) == 1
        runs = {**web["training_capacity"], "notes": [n for n in notes if n not in past]}
        assert web["facility"]["count_note"].startswith(f"--count {web['accelerators']:,} is more than the 72 ")
        facility = {**web["facility"], "count_note": None}  # `facility --count N`'s note on the rack (hD74)
        assert by_part == {**web, "training_capacity": runs, "facility": facility}
        return
    # facility: a count the system holds is built on its own tiers, as `network SYSTEM --gpus N` (hC72)
    fabric = describe_fabric(load_system(body["accelerator"]), -(-body["count"] // 8) * 8)
    assert (web["system"], web["network"]["switches"]) == (body["accelerator"], fabric.switches_total)
    assert web["power_breakdown_w"]["network"] == pytest.approx(fabric.power_w, rel=1e-9)
    same = {k for k in web if k not in ("system", "count_note")}
    assert ({k: web[k] for k in same} == {k: by_part[k] for k in same}) == (body["accelerator"] == "mtia-400-rack")


def _group_options(page: Any, form: str) -> dict[str, list[str]]:
    """The accelerator list of `form` by heading (its optgroups' labels)."""
    groups: dict[str, list[str]] = page.evaluate(
        f"Object.fromEntries([...document.querySelectorAll('{form} select[name=accelerator] optgroup')]"
        ".map(g => [g.label, [...g.querySelectorAll('option')].map(o => o.value)]))")
    return groups


def test_the_facility_and_campus_forms_offer_systems_and_show_the_api_answer(live_server: str, browser: Any) -> None:
    errors: list[str] = []
    page = open_page(browser, live_server + "/facility", CATALOGS_READY, errors)
    for form, heading in (("#fac-form", "systems (a count on their own tiers)"),  # hC72/hC73: facility builds a
                          ("#campus-form", "systems (sized as their accelerator)")):  # system's count on its tiers
        groups = _group_options(page, form)
        assert groups == {"accelerators": list_presets("accelerators"), heading: list_presets("systems")}, (
            form, groups)
    assert page.input_value("#campus-form select[name=accelerator]") == "gb200"  # its preselected part kept
    page.select_option("#fac-form select[name=accelerator]", "mtia-400-rack")
    page.fill("#fac-form input[name=count]", "72")
    page.click("#run-fac")
    page.wait_for_function("document.querySelector('#fac-out .status').textContent === 'done'", timeout=60_000)
    api = httpx.post(live_server + "/api/facility", json={"accelerator": "mtia-400-rack", "count": 72},
                     timeout=60).json()
    assert float(page.get_attribute("#fac-out #it-power", "data-value") or "nan") == api["it_power_w"]
    assert page.inner_text("#fac-out .cli").startswith("infraplan facility --accelerator mtia-400-rack --count 72")
    assert page.inner_text("#fac-out .error") == "" and errors == []
    page.close()


def test_the_recsys_form_offers_systems_too(live_server: str, browser: Any) -> None:
    """recsys reads a system as its part since hF64: its form lists them as the facility forms do."""
    errors: list[str] = []
    page = open_page(browser, live_server + "/recsys", CATALOGS_READY, errors)
    assert _group_options(page, "#recsys-form") == {"accelerators": list_presets("accelerators"),
                                                    "systems (sized as their accelerator)": list_presets("systems")}
    assert page.input_value("#recsys-form select[name=accelerator]") == "mtia-v1" and errors == []
    page.close()
