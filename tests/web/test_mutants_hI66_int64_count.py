"""hI66 mutation wave on the web's strict-body words (`web.request_fields.strict_type_words`, hE65): mutant W5.

A count posted as a JSON float (the browser's number for a huge count) is said "too large" from 2^63 on: past a
signed 64-bit integer's largest value (2^63 - 1 = 9,223,372,036,854,775,807), where no count the model takes fits
(numpy's int64; hD58's words for 1e+308). 1e19 lies between 2^63 and 2^64; 9e18 below 2^63 is a whole number the
body should have written as a JSON integer.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.web.app import create_app

BODY = '{"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": %s, "seq_len": 2048, "global_batch": 16}'


@pytest.mark.parametrize(("number", "said"), [
    ("1e19", "must be a whole number; 1e+19 is too large"),
    ("9.223372036854775808e18", "must be a whole number; 9.223372036854776e+18 is too large"),
    ("9e18", "must be a JSON integer: 9000000000000000000, not 9e+18"),
])
def test_a_float_count_past_int64_is_too_large(number: str, said: str) -> None:
    client = TestClient(create_app())
    got = client.post("/api/train", content=(BODY % number).encode(), headers={"content-type": "application/json"})
    assert got.status_code == 422 and got.json()["detail"] == f"invalid gpus: {said}", got.json()
