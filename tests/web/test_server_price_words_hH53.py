"""hH53: `server_price "40k"` was refused by the web (422, pydantic's "must be a valid number, unable to parse string
as a number") and the CLI (exit 2, "'40k' is not a number") in two wordings: the web now says the CLI's
(`limits.number_text`, the CLI's `Bounded` reading: `_` and spaces dropped), with its field for the flag."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from infraplan.cli.main import main as cli_main


@pytest.mark.parametrize(("command", "body", "argv"), [
    ("facility", {"accelerator": "h100-sxm", "count": 8}, ["facility", "--accelerator", "h100-sxm", "--count", "8"]),
    ("campus", {"power": "10MW", "accelerator": "h100-sxm"},
     ["campus", "--power", "10MW", "--accelerator", "h100-sxm"]),
])
def test_a_price_that_is_no_number_is_one_line_both_ways(client: TestClient, capsys: pytest.CaptureFixture[str],
                                                         command: str, body: dict[str, object],
                                                         argv: list[str]) -> None:
    r = client.post(f"/api/{command}", json={**body, "server_price": "40k"})
    assert r.status_code == 422 and r.json()["detail"] == "invalid server_price: '40k' is not a number"
    assert cli_main([*argv, "--server-price", "40k"]) == 2
    assert "'--server-price': '40k' is not a number" in capsys.readouterr().err


def test_a_price_written_as_text_is_read_as_the_cli_reads_it(client: TestClient) -> None:
    plain = client.post("/api/facility", json={"accelerator": "h100-sxm", "count": 8, "server_price": 40000})
    text = client.post("/api/facility", json={"accelerator": "h100-sxm", "count": 8, "server_price": " 40_000 "})
    assert plain.status_code == text.status_code == 200 and plain.json() == text.json()
