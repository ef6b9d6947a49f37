"""Every web request body is strict (hE65, `request_fields.STRICT_BODY`): a count takes a JSON integer, a number a
JSON number, a flag true or false, as the CLI's options take only their type. Before, pydantic's lax mode ran
`"gpus": "8"` as 8 GPUs, `"gpus": 8.0` as 8, `"sharp": "yes"` as true and `"memory_margin": "0.1"` as 0.1.

Every POST route of the app is checked, every number and flag field of every command's body, and every form the
pages post (what `IP.body` sends as text must be a field that takes text)."""

from __future__ import annotations

import typing
from typing import Annotated, Any, get_args, get_origin

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel
from tests.test_api_cli_web_defaults import PAGES, page_form
from tests.web.request_bodies import VALID_BODIES
from tests.web.test_web_browser import CATALOGS_READY, open_page

from infraplan.web.app import create_app
from infraplan.web.fleet_mix import FleetMixRequest
from infraplan.web.request_fields import UploadedFile, WebRequest
from infraplan.web.requests import REQUESTS

COMMANDS: dict[str, type[WebRequest]] = {**REQUESTS, FleetMixRequest.command: FleetMixRequest}
TEXT_READ: dict[str, str] = {
    "ttft_slo": "2", "tpot_slo": "0.05", "latency_slo": "0.02", "restart_s": "600", "repair_s": "86400",
    "checkpoint_interval_s": "3600", "days": "30", "electricity_price": "70", "server_price": "25000",
    "usd_per_hour": "2.5"}
"""Number fields that read text as the CLI's option reads it (a duration "50ms", a price "70/MWh": the field's own
before-validator), with a bare number as text they take: not refused as text."""
PAGE_READ = {("serve", "rate"): "the page's list of rates, each posted as a number (serve.html, `IP.list`)"}
"""(command, control) -> why a text control of a form never reaches the API as text."""
JSON_WORDS = {int: "a JSON integer", float: "a JSON number", bool: "true or false"}


def _kind(annotation: Any) -> tuple[type, bool] | None:
    """(int | float | bool, whether in a list) where a field holds numbers or flags only; None for text, names,
    choices (Literal) and nested objects."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation in JSON_WORDS:
        return annotation, False
    if origin is Annotated:
        return _kind(args[0])
    if origin is list:
        inner = _kind(args[0])
        return (inner[0], True) if inner is not None and not inner[1] else None
    members = [a for a in args if a is not type(None)] if origin in (typing.Union, type(int | None)) else []
    kinds = {_kind(a) for a in members}
    return kinds.pop() if len(members) >= 1 and len(kinds) == 1 and None not in kinds else None


FIELDS = [(c, n, kind) for c, cls in COMMANDS.items() for n, f in cls.model_fields.items()
          if (kind := _kind(f.annotation)) is not None]


def test_the_fields_checked_are_every_commands_numbers_and_flags() -> None:
    assert {c for c, _, _ in FIELDS} == set(COMMANDS) - {"compare"}  # compare's body is its scenarios alone
    assert ("train", "gpus", (int, False)) in FIELDS and ("search", "gpus", (int, True)) in FIELDS
    assert ("train", "memory_margin", (float, False)) in FIELDS and ("train", "sharp", (bool, False)) in FIELDS
    assert {n for _, n, (t, _) in FIELDS if t is float} >= set(TEXT_READ)


@pytest.fixture(scope="module")
def client() -> typing.Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_base_body_is_valid(client: TestClient, command: str) -> None:
    response = client.post(f"/api/{command}/cli", json=VALID_BODIES[command])
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(("command", "name", "kind"), FIELDS, ids=[f"{c}.{n}" for c, n, _ in FIELDS])
def test_a_number_or_flag_given_as_text_is_refused_in_one_line(client: TestClient, command: str, name: str,
                                                              kind: tuple[type, bool]) -> None:
    """"1" (or "true") where the field takes a JSON number (or a flag) is a 422 naming the field, the JSON type and
    the text; a field reading text as the CLI does (`TEXT_READ`) takes its text."""
    kind_type, listed = kind
    text = "true" if kind_type is bool else TEXT_READ.get(name, "1")
    body = {**VALID_BODIES[command], name: [text] if listed else text}
    response = client.post(f"/api/{command}/cli", json=body)
    if name in TEXT_READ and not listed:
        assert response.status_code == 200, response.text
        return
    where = f"{name}.0" if listed else name
    assert response.status_code == 422
    assert response.json()["detail"] == f"invalid {where}: must be {JSON_WORDS[kind_type]}, not the text {text!r}"


def _first(command: str, kind: type) -> str | None:
    return next((n for c, n, (t, listed) in FIELDS if c == command and t is kind and not listed
                 and n not in TEXT_READ), None)


CHECKED = {c: _first(c, int) or _first(c, bool) or _first(c, float) for c in COMMANDS if c != "compare"}
"""Command -> its first count (a flag where it has none: plan and fleet-mix's optimality_gap; a number for campus);
compare's body is its scenarios alone."""


@pytest.mark.parametrize("command", sorted(CHECKED))
def test_every_body_route_refuses_a_quoted_count(client: TestClient, command: str) -> None:
    """Both routes of each command (`/api/C` runs it, `/api/C/cli` writes its line) refuse its first count given as
    text or as a float (the CLI's `--gpus 8.0` is refused too); a flag given as text or 1, a number as text."""
    name = CHECKED[command]
    kind = next(t for c, n, (t, _) in FIELDS if (c, n) == (command, name))
    cases = {int: [("8", "must be a JSON integer, not the text '8'"), (8.0, "must be a JSON integer: 8, not 8.0"),
                   (2.5, "must be a whole number, not 2.5")],
             bool: [("yes", "must be true or false, not the text 'yes'"), (1, "must be true or false, not 1")],
             float: [("0.5", "must be a JSON number, not the text '0.5'")]}[kind]
    for value, said in cases:
        for path in (f"/api/{command}", f"/api/{command}/cli"):
            response = client.post(path, json={**VALID_BODIES[command], name: value})
            assert (response.status_code, response.json()["detail"]) == (422, f"invalid {name}: {said}"), path


def _models(annotation: Any) -> set[type[BaseModel]]:
    """The request models a field's type holds (an upload, a scenario), at any depth."""
    found = {annotation} if isinstance(annotation, type) and issubclass(annotation, BaseModel) else set()
    for arg in get_args(annotation):
        found |= _models(arg)
    return found


def test_every_post_route_takes_a_strict_body() -> None:
    """Every POST route's body is a command's request model, strict, as is every model it holds (an uploaded file,
    a scenario or fleet input): one rule for all bodies."""
    routes = [r for r in create_app().routes if isinstance(r, APIRoute) and "POST" in r.methods]
    assert len(routes) == 2 * len(COMMANDS)
    seen: set[type[BaseModel]] = set()
    for route in routes:
        command = route.path.removeprefix("/api/").removesuffix("/cli")
        body = route.body_field
        assert body is not None and body.field_info.annotation is COMMANDS[command], route.path
        todo = [COMMANDS[command]]
        while todo:
            model = todo.pop()
            seen.add(model)
            assert model.model_config.get("strict") is True, model.__name__
            assert model.model_config.get("extra") == "forbid", model.__name__
            todo += [m for f in model.model_fields.values() for m in _models(f.annotation) if m not in seen]
    assert UploadedFile in seen and {m.__name__ for m in seen} >= {"ScenarioInput", "FleetInput"}


@pytest.mark.parametrize("command", sorted(PAGES))
def test_each_form_posts_text_only_where_the_field_takes_text(command: str) -> None:
    """What `IP.body` posts as text (a text input, a select not marked data-number) is a field that takes text: a
    ZeRO stage select posted "1", refused by the strict body (now data-number: posted 1)."""
    page, form_id = PAGES[command]
    fields = COMMANDS[command].model_fields
    wrong = []
    for name, (tag, attrs, _) in page_form(page, form_id).items():
        if attrs.get("type") in ("number", "checkbox", "file") or {"data-skip", "data-number"} & set(attrs):
            continue
        if attrs.get("data-list") == "int" or (command, name) in PAGE_READ:
            continue
        kind = _kind(fields[name].annotation) if name in fields else None
        if kind is not None and name not in TEXT_READ:
            wrong.append(f"/{page} {tag} {name!r} posts text to a {kind[0].__name__} field")
    assert wrong == []


def test_the_zero_stage_select_posts_a_number(live_server: str, browser: Any) -> None:
    """/train's ZeRO select (data-number) posts 2, not the text "2" the strict body refuses."""
    page = open_page(browser, live_server + "/train", CATALOGS_READY)
    page.click("#train-advanced summary")
    page.select_option("select[name=zero]", "2")
    assert page.evaluate("IP.body(document.getElementById('train-form')).zero") == 2
    page.close()
