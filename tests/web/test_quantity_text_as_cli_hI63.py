"""hI63: the web reads a quantity's text (a power, a size in bytes, a token count) as the CLI does.

Found: the web's `Quantity` pattern (`^[0-9][0-9._]*(e[0-9]+)?[ ]?[A-Za-z]*$`) refused `.5GW`, `5E8W`, `1e+9W` and
`2e-3GW`, which `campus --power` (units.parse_power_w) reads: one question, two answers. Its before-validator already
runs the CLI's reader; the pattern is now the readers' own grammar (`units.QUANTITY_TEXT`).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.cli.conftest import cli_json

from infraplan.errors import InputError
from infraplan.units import parse_bytes, parse_count, parse_power_w
from infraplan.web.infrastructure_requests import CampusRequest, ReliabilityRequest
from infraplan.web.requests import TrainRequest


@pytest.mark.parametrize("power", [".05GW", "5E7W", "5e+7W", "5e-2GW"])
def test_the_web_campus_reads_every_power_the_cli_reads(client: TestClient, capsys: pytest.CaptureFixture[str],
                                                         power: str) -> None:
    web = client.post("/api/campus", json={"power": power, "accelerator": "gb200"})
    assert web.status_code == 200, web.text
    cli = cli_json(capsys, ["campus", "--power", power, "--accelerator", "gb200"])
    assert cli["power_w"] == pytest.approx(50e6)
    for key in ("power_w", "accelerators", "racks"):
        assert web.json()[key] == cli[key], key


def _reads(reader: object, text: str) -> bool:
    try:
        reader(text)  # type: ignore[operator]
    except InputError:
        return False
    return True


def _takes(request: type, field: str, text: str, **others: object) -> bool:
    try:
        request.model_validate({field: text, **others})
    except ValidationError:
        return False
    return True


UNITS = ["W", "kW", "MW", "GW", "B", "KiB", "GiB", "TB", "M", "B", "T", "", " GW", "w", "%", "/"]
NUMBERS = st.from_regex(r"[0-9]{0,3}\.?[0-9]{1,3}([eE][-+]?[0-9]{1,2})?", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.builds(lambda n, u: n + u, NUMBERS, st.sampled_from(UNITS)),
                 st.text(alphabet="0123456789.eE+-_, kMGTWBi", max_size=12)))
def test_a_quantity_is_taken_on_the_web_exactly_when_the_cli_reads_it(text: str) -> None:
    assert _takes(CampusRequest, "power", text) == _reads(parse_power_w, text), text
    assert _takes(ReliabilityRequest, "checkpoint_size", text, system="h100-sxm", gpus=8) == \
        _reads(parse_bytes, text), text
    assert _takes(TrainRequest, "tokens", text, model="llama3-8b", system="h100-sxm", gpus=8,
                  seq_len=8192, global_batch=64) == \
        _reads(parse_count, text), text
