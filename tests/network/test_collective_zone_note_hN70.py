"""`collective` on an accelerator preset beyond one zone says the zones `facility` builds (hN, session 70).

`collective all-to-all --system h100-sxm --gpus 8192` is timed on one non-blocking Clos of 8,192 H100 (the fabric
`train` and `serve` price on), where `facility --accelerator h100-sxm --count 8192`, `campus` and `plan` build 4
non-blocking zones of 2,048 joined at 1:7 (416 switches, $44.4 M): `network h100-sxm --gpus 8192` has said so since
session 58, `collective` said nothing (its `notes` were empty), so a planner asking what the facility's fabric does
to an all-to-all got the non-blocking answer without a word. Before the change the first test failed.
"""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json


def test_a_collective_beyond_one_zone_names_the_zones(capsys: pytest.CaptureFixture[str]) -> None:
    base = "--system h100-sxm --gpus 8192 --bytes 256MiB"
    answer = cli_json(capsys, f"collective all-to-all {base}")
    facility = cli_json(capsys, "facility --accelerator h100-sxm --count 8192")
    zoned = [n for n in answer["notes"] if "non-blocking zones" in n]
    assert len(zoned) == 1
    assert zoned[0].startswith("one non-blocking Clos of 8,192 h100-sxm, the fabric this collective is timed on")
    assert f"{facility['network']['switches']:,} switches" in zoned[0]  # facility's own count: 416
    assert f"${facility['capex_usd']['network'] / 1e6:,.1f} M" in zoned[0]
    flow = cli_json(capsys, f"collective all-reduce {base} --sim flow")
    assert [n for n in flow["notes"] if "non-blocking zones" in n] == zoned
    # `--fabric clos` is the default fabric (`rail_leaves.with_fabric` keeps the system): the same note, on `network`
    # too (it said nothing there before)
    assert cli_json(capsys, f"collective all-to-all {base} --fabric clos")["notes"] == answer["notes"]
    network = cli_json(capsys, "network h100-sxm --gpus 8192 --fabric clos")["notes"]
    assert network == cli_json(capsys, "network h100-sxm --gpus 8192")["notes"] and len(network) == 1


@pytest.mark.parametrize("args", ["--system h100-sxm --gpus 1024", "--system meta-genai-roce-24k --gpus 8192",
                                  "--system h100-sxm --gpus 8192 --fabric rail-only"])
def test_no_zone_note_within_one_zone_on_a_catalog_system_or_another_fabric(
        capsys: pytest.CaptureFixture[str], args: str) -> None:
    answer = cli_json(capsys, f"collective all-to-all {args} --bytes 64MiB")
    assert not [n for n in answer["notes"] if "non-blocking zones" in n]


def test_the_web_says_it_too(capsys: pytest.CaptureFixture[str]) -> None:
    from fastapi.testclient import TestClient

    from infraplan.web.app import create_app

    body = {"op": "all-to-all", "system": "h100-sxm", "gpus": 8192, "bytes": "256MiB"}
    web = TestClient(create_app()).post("/api/collective", json=body)
    assert web.status_code == 200
    assert any("non-blocking zones" in n for n in web.json()["notes"])
    assert web.json()["notes"] == cli_json(capsys, "collective all-to-all --system h100-sxm --gpus 8192 "
                                                   "--bytes 256MiB")["notes"]


def test_a_sweep_says_it_too(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.sweep import callables

    swept = callables.collective("all-to-all", "h100-sxm", 8192, "256MiB")
    cli = cli_json(capsys, "collective all-to-all --system h100-sxm --gpus 8192 --bytes 256MiB")
    assert any("non-blocking zones" in n for n in swept.notes)
    assert swept.notes == cli["notes"]
