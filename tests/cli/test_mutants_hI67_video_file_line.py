"""hI67 mutation wave on hH66's video-device line (`inference_loader.video_device_line`): it is for a shipped preset
name (`msvp`), which `infraplan catalog video-devices` lists; a user's file of kind video-asic keeps the file's own
line ("is a video device file (kind: video-asic)"), since the catalog listing does not hold it."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.catalog.inference_loader import video_device_line
from infraplan.cli.main import main as cli_main

MSVP = Path(__file__).parents[2] / "src/infraplan/catalog/video/devices/msvp.yaml"


def test_a_video_device_file_is_named_as_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = tmp_path / "my-msvp.yaml"
    mine.write_text(MSVP.read_text(encoding="utf-8"), encoding="utf-8")
    assert video_device_line(str(mine), "an accelerator") is None
    assert video_device_line("msvp", "an accelerator") is not None
    code = cli_main(["facility", "--accelerator", str(mine), "--count", "8"])
    err = capsys.readouterr().err
    assert code == 2 and "is a video device file (kind: video-asic)" in err and err.count("\n") == 1
