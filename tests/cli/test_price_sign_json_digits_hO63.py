"""hO63, from hI63's walk:

- `--electricity-price -1` (and '-70/MWh' with its unit) was refused as "cannot read electricity price '-1'": the
  text is read, the sign is the fault; now the line says the price must be >= 0;
- the web answered a JSON number of 5,000 digits with 400 "There was an error parsing the body" (Python's int-from-text
  limit, 4,300 digits, raised inside json.loads before any field was read); a request body's `safe_load_json` reads
  it as JSON reads 1e5000, inf, so the field's own bound refuses it by name (an uploaded file keeps its "malformed
  file" line, as a YAML one).
"""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from infraplan.catalog.yaml_text import safe_load_json
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.limits import parse_energy_price, read_electricity_price
from infraplan.web.app import create_app

LONG = "9" * 5000


@pytest.mark.parametrize("price", ["-1", "-70/MWh", "-0.07/kWh", "$-70/MWh"])
def test_a_negative_electricity_price_is_refused_for_its_sign(capsys: pytest.CaptureFixture[str],
                                                               price: str) -> None:
    capsys.readouterr()
    assert main(["facility", "--accelerator", "h100-sxm", "--count", "8", f"--electricity-price={price}"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and ">= 0" in err and "cannot read" not in err, err


def test_the_readers_say_below_zero_and_still_refuse_what_they_cannot_read() -> None:
    with pytest.raises(InputError, match=r"'-5/MWh' is below 0"):
        parse_energy_price("-5/MWh")
    with pytest.raises(InputError, match=r"-2 is an electricity price|>= 0"):
        read_electricity_price("-2", "electricity_price")
    with pytest.raises(InputError, match="cannot read electricity price"):
        parse_energy_price("-seventy/MWh")
    assert parse_energy_price("70/MWh") == 70.0 and parse_energy_price("-3") is None  # bare: the field's unit


def test_a_json_integer_past_pythons_digit_limit_is_read_as_json_reads_1e5000() -> None:
    body = '{"a": ' + LONG + ', "b": -' + LONG + ', "c": 7}'
    assert safe_load_json(body, long_ints_as_floats=True) == {"a": math.inf, "b": -math.inf, "c": 7}
    assert safe_load_json("9" * 4300, long_ints_as_floats=True) == int("9" * 4300)  # at the limit: still an int
    with pytest.raises(ValueError, match="4300 digits"):  # a file keeps YAML's refusal (web_review_hC's test)
        safe_load_json(body)


def test_the_web_names_the_field_of_a_5000_digit_number() -> None:
    client = TestClient(create_app())
    body = '{"model": "llama3-8b", "system": "dgx-h100", "gpus": ' + LONG + ', "seq_len": 4096, "global_batch": 512}'
    r = client.post("/api/train", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("invalid gpus:"), r.text[:300]
