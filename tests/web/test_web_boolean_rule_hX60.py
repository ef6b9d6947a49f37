"""The web's request bodies refuse a boolean where a number goes by the catalog specs' one rule (hX60):
`catalog.spec_base.numeric_field` (a field that takes numbers: int, float, a numeric Literal, in a union or list),
the web keeping its own line "FIELD: true/false is not a number". Before, `WebRequest` had a second rule (any field
not typed bool) that called a boolean model name or dtype "not a number"; a field that is no number now gets
pydantic's own word for its type, as the CLI's and the catalog's."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from infraplan.catalog.spec_base import takes_numbers
from infraplan.web.requests import REQUESTS

TRAIN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "seq_len": 4096, "global_batch": 16}


def _refused_as_a_number(model: type[BaseModel], name: str) -> bool:
    try:
        model.model_validate({name: True})
    except ValidationError as exc:
        return f"{name}: true/false is not a number" in str(exc)
    return False


@pytest.mark.parametrize("command", sorted(REQUESTS))
def test_every_request_field_refuses_a_boolean_as_the_catalog_rule_says(command: str) -> None:
    model = REQUESTS[command]
    for name, field in model.model_fields.items():
        assert _refused_as_a_number(model, name) == takes_numbers(field.annotation), (command, name)


@pytest.mark.parametrize(("field", "value", "word"), [("model", True, "valid string"),
                                                      ("dtype", False, "'bf16'")])
def test_a_boolean_for_a_name_is_not_called_a_number(client: TestClient, field: str, value: Any,
                                                     word: str) -> None:
    response = client.post("/api/train", json={**TRAIN, field: value})
    detail = response.json()["detail"]
    assert response.status_code == 422 and field in detail and word in detail
    assert "not a number" not in detail


@pytest.mark.parametrize(("path", "body"), [("/api/train", {**TRAIN, "gpus": True}),
                                            ("/api/search", {**TRAIN, "gpus": [8, True]}),
                                            ("/api/serve-plan", {"model": "llama3-8b", "system": "hgx-h200",
                                                                 "percentile": True})])
def test_a_boolean_for_a_number_keeps_the_webs_line(client: TestClient, path: str, body: dict[str, Any]) -> None:
    response = client.post(path, json=body)
    field = "percentile" if "percentile" in body else "gpus"
    assert response.status_code == 422 and response.json()["detail"].endswith(f"{field}: true/false is not a number")
