"""hU (session 53): a user's accelerator file on the web's recsys, facility and campus, a system file on facility.

The CLI takes `--accelerator FILE` on recsys, facility and campus and `--system FILE` on facility; the web took
preset names there only ("String should match pattern ..."), while train and serve took the same file as an upload
(hX52): a hardware architect's what-if chip ran in train / serve on the web, not in recsys / facility / campus. The
answers equal the CLI's for a file of the same name (`web_and_cli`), and campus's `reserve` (hF52's F8) is the CLI's
`--reserve`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.cli.conftest import WHAT_IF_PART as PART
from tests.cli.test_user_walk_hU53 import FOUR_U
from tests.web.conftest import web_and_cli

X1 = {"filename": "x1.yaml", "text": PART}


@pytest.fixture
def beside(tmp_path: Path) -> Iterator[Path]:
    """The uploads' files in a working folder, as the CLI line the web gives names them."""
    (tmp_path / "x1.yaml").write_text(PART)
    (tmp_path / "hgx-h100-4u.yaml").write_text(FOUR_U)
    here = Path.cwd()
    os.chdir(tmp_path)
    yield tmp_path
    os.chdir(here)


@pytest.mark.parametrize(("command", "body"), [
    ("recsys", {"model": "dlrm-medium", "accelerator": X1, "latency_slo": "15ms"}),
    ("facility", {"accelerator": X1, "count": 1000, "server_price": 40000}),
    ("facility", {"system": {"filename": "hgx-h100-4u.yaml", "text": FOUR_U}, "cooling": "liquid"}),
    ("campus", {"power": "100MW", "accelerator": X1, "server_price": 40000, "reserve": 0.25}),
])
def test_an_uploaded_file_answers_as_the_cli(command: str, body: dict[str, Any], client: TestClient, beside: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    web, cli = web_and_cli(client, command, body, capsys)
    assert web == cli
    assert "infraplan-upload" not in str(web) and "(upload)" not in str(web)


def test_the_uploads_are_what_they_say(client: TestClient) -> None:
    recsys = client.post("/api/recsys", json={"model": "dlrm-medium", "accelerator": X1}).json()
    assert recsys["accelerator"] == "x1" and "no host_link_bandwidth_bytes_per_s" in recsys["figures_note"]
    fit = client.post("/api/facility", json={"system": {"filename": "hgx-h100-4u.yaml", "text": FOUR_U},
                                             "cooling": "liquid"}).json()["rack_fit"]
    assert (fit["server_height_u"], fit["servers_per_rack"]) == (4, 10)
    campus = client.post("/api/campus", json={"power": "1.2GW", "accelerator": "gb200", "reserve": 0.3}).json()
    assert campus["reserve_fraction"] == 0.3 and campus["facility"]["facility_power_w"] <= 0.7 * 1.2e9


@pytest.mark.parametrize("reserve", [1, -0.1, "nan", True])
def test_a_bad_reserve_is_refused(reserve: Any, client: TestClient) -> None:
    response = client.post("/api/campus", json={"power": "1GW", "accelerator": "gb300", "reserve": reserve})
    assert response.status_code == 422 and "reserve" in response.json()["detail"]
