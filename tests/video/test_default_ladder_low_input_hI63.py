"""hI63: an input lower than 720p ran nowhere without a `--ladder` (`video --device msvp --input 480p30`: "--ladder 5:
a 480p input has 4 rungs at or below it", a flag the user had not written; plan / fleet-mix with such a service
alike). The default is now the top five rungs, or every rung a lower input has; a count the user asks for and the
input does not have is still refused in one line, as before (hC51's "--ladder 50 encoded 8 rungs")."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.cli.conftest import cli_json

from infraplan.cli import main
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.video.transcode import DEFAULT_RUNGS, estimate_video
from infraplan.web.app import create_app

LOW = {"480p30": [480, 360, 240, 144], "240p30": [240, 144], "144p30": [144]}


@pytest.mark.parametrize(("source", "rungs"), LOW.items())
def test_a_low_input_without_a_ladder_encodes_every_rung_it_has(capsys: pytest.CaptureFixture[str], source: str,
                                                                  rungs: list[int]) -> None:
    cli = cli_json(capsys, ["video", "--device", "msvp", "--input", source])
    assert cli["rungs_px"] == rungs
    explicit = estimate_video("msvp", source, len(rungs))  # the same job asked for in rungs: the same answer
    assert cli["streams_per_device"] == explicit.streams_per_device
    assert cli["baseline"]["streams_per_device"] == explicit.baseline.streams_per_device  # type: ignore[union-attr]
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        web = client.post("/api/video", json={"device": "msvp", "input": source})
    assert web.status_code == 200, web.text
    assert web.json()["rungs_px"] == rungs and web.json()["streams_per_device"] == cli["streams_per_device"]


def test_the_default_is_still_five_rungs_where_the_input_has_them() -> None:
    assert DEFAULT_RUNGS == 5
    assert estimate_video("msvp").rungs_px == [2160, 1440, 1080, 720, 480]
    assert estimate_video("msvp", "720p30").rungs_px == [720, 480, 360, 240, 144]


@pytest.mark.parametrize(("source", "ladder", "words"), [
    ("480p30", 5, "a 480p input has 4 rungs at or below it"), ("144p30", 2, "a 144p input has 1 rung at or below it")])
def test_a_ladder_asked_for_beyond_the_input_is_still_refused_in_one_line(
        capsys: pytest.CaptureFixture[str], source: str, ladder: int, words: str) -> None:
    capsys.readouterr()
    code = main(["video", "--device", "msvp", "--input", source, "--ladder", str(ladder)])
    err = capsys.readouterr().err
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1


def test_a_fleet_video_service_at_480p_without_a_ladder_is_placed(tmp_path: Path) -> None:
    service = {"name": "clips", "kind": "video", "input": "480p30", "codec": "h264", "quality": "high",
               "daily_hours": 10000}
    spec = {"name": "low", "objective": "power", "services": [service],
            "pools": [{"name": "asic", "device": "msvp", "price_usd_per_device": 1500}]}
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(spec))
    used = plan_fleet(str(path)).pools[0].used
    streams = estimate_video("msvp", "480p30", 4).streams_per_device
    assert used == pytest.approx(10000 / 24 / streams, abs=1.0)
