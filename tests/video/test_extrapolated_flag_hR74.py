"""hR (session 74): a video ASIC's answer beyond its published modes says so in the JSON as a flag, `extrapolated`,
besides the note (hW58's `outside_modes_note`): MSVP's source (Meta's MSVP blog, May 2023; Chaudhari et al., SPIE
2023) gives throughput at one 4K input and no largest input, so 4320p is answered, extrapolated in pixels per
second (session 73 hR's reading). A CPU has no published modes: no flag."""

from __future__ import annotations

import json

import pytest

from infraplan.cli.main import main
from infraplan.video.transcode import estimate_video


@pytest.mark.parametrize(("video", "rungs", "outside"), [
    ("4320p60", 1, True), ("4320p240", 1, True), ("2160p60", 5, False), ("2160p61", 1, True), ("1080p60", 1, False),
    ("2160p30", 6, True)])
def test_the_flag_is_the_note(video: str, rungs: int, outside: bool) -> None:
    result = estimate_video("msvp", video, rungs, baseline="none")
    noted = any(n.startswith("outside msvp's published modes") for n in result.notes)
    assert result.extrapolated is outside and noted is outside


def test_the_json_carries_it_and_a_cpu_has_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["video", "--device", "msvp", "--input", "4320p60", "--baseline", "none", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["extrapolated"] is True
    assert main(["video", "--device", "xeon-8480", "--input", "4320p60", "--baseline", "none", "--json"]) == 0
    assert "extrapolated" not in json.loads(capsys.readouterr().out)
