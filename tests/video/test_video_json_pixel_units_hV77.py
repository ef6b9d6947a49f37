"""hV77 (hW77's walk): `video --json` printed `rungs`, `input.width` and `input.height` with no unit in the name
(pixels); every number carries its unit in its JSON field name, as the catalog's `_px` fields do
(catalog/entry_schemas.UNIT_SUFFIXES): now `rungs_px`, `input.width_px`, `input.height_px`."""

from __future__ import annotations

import pytest
from tests.cli.conftest import cli_json


def test_the_video_json_names_its_pixel_fields_px(capsys: pytest.CaptureFixture[str]) -> None:
    r = cli_json(capsys, ["video", "--device", "msvp", "--input", "1080x1920p30"])
    assert r["input"] == {"width_px": 1080, "height_px": 1920, "fps": 30.0}
    assert r["rungs_px"] == [1080, 720, 480, 360, 240]  # each rung's short side, the portrait's as its landscape's
    assert not {"rungs", "width", "height"} & (set(r) | set(r["input"]))
    assert "1080x1920 at 30 fps -> 5 rungs" in r["baseline"]["comparison"]  # the comparison reads the renamed fields


def test_the_table_still_names_the_job(capsys: pytest.CaptureFixture[str]) -> None:
    from infraplan.cli import main

    assert main(["video", "--device", "msvp", "--input", "1080p30"]) == 0
    assert "1920x1080 at 30 fps -> 1080p, 720p, 480p, 360p, 240p" in capsys.readouterr().out
