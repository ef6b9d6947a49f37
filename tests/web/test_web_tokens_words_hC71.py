"""hC71: the web's `tokens` reads "1T tokens" as `train --tokens` does (`units.parse_tokens`; before, a 400)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.web.test_web_tokens_hL47 import BODY


def test_web_tokens_take_the_word_tokens(client: TestClient) -> None:
    worded, bare = (client.post("/api/train", json={**BODY, "tokens": t}) for t in ("1T tokens", "1T"))
    assert worded.status_code == bare.status_code == 200, worded.text
    assert worded.json()["time_to_train_s"] == bare.json()["time_to_train_s"] > 0
    refused = client.post("/api/train", json={**BODY, "tokens": "1T bytes"})
    assert refused.status_code in (400, 422) and "1T bytes" in refused.text
