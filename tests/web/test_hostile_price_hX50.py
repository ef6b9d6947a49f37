"""hX50 (session 46): the web's `electricity_price` refuses what the CLI refuses, in the CLI's line with a 422: a
400-digit JSON integer (an OverflowError, a 500, before) and an exponent past decimal's range (decimal.Overflow)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(("price", "why"), [("1" + "0" * 400, "not a finite number"),
                                            ('"1e999999999999/MWh"', "not a finite number"),
                                            ('"1e-400/MWh"', "rounds to 0")])
def test_a_hostile_price_is_a_422_with_one_line(client: TestClient, price: str, why: str) -> None:
    body = '{"accelerator": "h100-sxm", "count": 8, "electricity_price": ' + price + '}'
    r = client.post("/api/facility", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and why in r.json()["detail"] and len(r.json()["detail"]) < 300
