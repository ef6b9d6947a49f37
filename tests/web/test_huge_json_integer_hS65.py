"""A JSON integer past a double's range in a number field (hS, session 65's review): hE65's strict bodies
(`request_fields.STRICT_BODY`) made pydantic call it a `float_type` error, which `request_fields.strict_type_words`
said as "must be a JSON number, not 1000000000000000000000000000000000000000", of a JSON number; before, lax mode said
"must be a valid number". Now the words 1e400 gets: "must be a finite number"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.web.app import create_app

BODY = ('{"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "seq_len": 2048, "global_batch": 16, '
        '"memory_margin": %s}')


@pytest.mark.parametrize("number", ["1" + "0" * 400, "-" + "9" * 400, "1e400"])
def test_a_number_past_a_double_is_said_as_not_finite(number: str) -> None:
    client = TestClient(create_app())
    got = client.post("/api/train", content=(BODY % number).encode(), headers={"content-type": "application/json"})
    assert got.status_code == 422 and got.json()["detail"] == "invalid memory_margin: must be a finite number"
