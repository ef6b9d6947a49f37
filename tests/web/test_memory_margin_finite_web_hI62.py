"""The web's `memory_margin` (train, search) refuses a non-finite share as not finite, as the CLI's --memory-margin
does (hI62: "nan" was refused as "must be less than 1", "-inf" as "greater than or equal to 0")."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

TRAIN = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": 8, "tp": 8, "seq_len": 2048,
         "global_batch": 16}
SEARCH = {"model": "llama3-8b", "system": "dgx-h100-superpod", "gpus": [8], "seq_len": 2048, "global_batch": 16}


@pytest.mark.parametrize("command, body", [("train", TRAIN), ("search", SEARCH)])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "nan", "NaN"])
def test_a_non_finite_memory_margin_is_refused_as_not_finite(client: TestClient, command: str, body: dict[str, object],
                                                             value: float | str) -> None:
    """JSON's NaN / Infinity tokens (Python's json writes and reads them) are refused as not finite; the text "nan" is
    refused as text, a number field taking a JSON number only (hE65's strict bodies; before, it was read as NaN)."""
    response = client.post(f"/api/{command}", content=json.dumps({**body, "memory_margin": value}),  # NaN: a token
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    detail = response.json()["detail"]
    said = f"must be a JSON number, not the text {value!r}" if isinstance(value, str) else "finite"
    assert detail.startswith("invalid memory_margin:") and said in detail, detail
    assert "less than" not in detail and "greater than" not in detail
