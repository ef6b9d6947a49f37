"""hF64: a portrait input is laddered on its short side, as a published ladder's "1080p" names the short side.

The ladder (catalog/video/ladder.yaml) is YouTube's quality menu, 2160p..144p; the p-number of a size is its smallest
dimension (yt-dlp 2026.11.23, METADATA:1705 "`res`: Video resolution, calculated as the smallest dimension";
yt_dlp/utils/_utils.py:5422, `min` of height and width). Before session 64 `video --input 1080x1920p30` was laddered
on its 1920 lines: rungs 1920p, 1440p, 1080p, 720p, 480p (1080x1920, 810x1440, 608x1080, 405x720, 270x480), 129.5
Mpixel/s of output and 1.782 MSVP streams; a portrait job is the landscape job turned, so it encodes the landscape
job's pixels: 1080x1920, 720x1280, 480x854, 360x640, 240x426, 112.1 Mpixel/s, 2.058 streams."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog.inference_loader import load_ladder
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.video.transcode import estimate_video, parse_input

PUBLISHED = [2160, 1440, 1080, 720, 480, 360, 240, 144]  # YouTube's quality menu, the ladder.yaml rungs


def test_the_ladder_file_is_the_published_menu() -> None:
    assert load_ladder().rung_heights == PUBLISHED


@pytest.mark.parametrize(("landscape", "portrait"), [("1920x1080p30", "1080x1920p30"), ("3840x2160p60", "2160x3840p60"),
                                                     ("1280x720p30", "720x1280p30"), ("854x480p30", "480x854p30")])
@pytest.mark.parametrize("device", ["msvp", "xeon-8480"])
def test_a_portrait_input_has_the_rungs_and_pixels_of_the_same_video_turned(device: str, landscape: str,
                                                                           portrait: str) -> None:
    wide = estimate_video(device, landscape, baseline="none")
    tall = estimate_video(device, portrait, baseline="none")
    lines = min(wide.input.width_px, wide.input.height_px)
    assert tall.rungs_px == wide.rungs_px == [h for h in PUBLISHED if h <= lines][:5]
    assert (tall.input.width_px, tall.input.height_px) == (wide.input.height_px, wide.input.width_px)
    assert tall.input_pixels_per_s == wide.input_pixels_per_s
    assert tall.output_pixels_per_s == pytest.approx(wide.output_pixels_per_s, rel=1e-12)
    assert tall.streams_per_device == pytest.approx(wide.streams_per_device, rel=1e-12)


def test_the_portrait_1080p_job_by_hand() -> None:
    """(1080 x 1920 + 720 x 1280 + 480 x 854 + 360 x 640 + 240 x 426) x 30 fps = 112,132,800 pixels/s of output."""
    r = estimate_video("msvp", "1080x1920p30", baseline="none")
    assert r.rungs_px == [1080, 720, 480, 360, 240]
    assert r.output_pixels_per_s == pytest.approx((1080 * 1920 + 720 * 1280 + 480 * 854 + 360 * 640 + 240 * 426) * 30,
                                                  rel=1e-12)
    assert any("1080x1920, 720x1280, 480x854, 360x640, 240x426" in n for n in r.notes)


def test_the_cli_names_the_short_side_rungs_and_refuses_a_seventh(capsys: pytest.CaptureFixture[str]) -> None:
    """A 1080p input has six rungs (1080p..144p) in either orientation; the refusal names the portrait size."""
    assert cli_json(capsys, ["video", "--device", "msvp", "--input", "1080x1920p30", "--ladder", "6"])["rungs_px"] == \
        [1080, 720, 480, 360, 240, 144]
    capsys.readouterr()
    code = main(["video", "--device", "msvp", "--input", "1080x1920p30"])
    assert code == 0 and "1080x1920 at 30 fps -> 1080p, 720p, 480p, 360p, 240p" in capsys.readouterr().out
    code = main(["video", "--device", "msvp", "--input", "1080x1920p30", "--ladder", "7"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "a 1080x1920 (1080p) input has 6 rungs at or below it" in err


def test_a_portrait_4k_input_is_within_msvps_published_4k_mode() -> None:
    """MSVP's published job is a 3840x2160 input; the same pixels turned are not beyond it."""
    tall = estimate_video("msvp", "2160x3840p15", baseline="none")
    assert not any(n.startswith("outside msvp's published modes") for n in tall.notes)
    over = estimate_video("msvp", "2176x3840p15", baseline="none")  # 2176 lines: above 2160 whichever way
    assert any(n.startswith("outside msvp's published modes") for n in over.notes)


def test_the_range_is_on_the_short_and_long_sides() -> None:
    """16K either way: 8640x15360 is read as 15360x8640 is; one pixel longer is refused."""
    ladder = load_ladder()
    assert parse_input("8640x15360p30", ladder) == (8640, 15360, 30.0)
    with pytest.raises(InputError, match="out of range"):
        parse_input("8640x15361p30", ladder)


def test_a_fleet_video_service_in_portrait_is_sized_as_its_landscape_twin(tmp_path: Path) -> None:
    used = []
    for source in ("1080x1920p30", "1920x1080p30"):
        service = {"name": "shorts", "kind": "video", "input": source, "codec": "h264", "quality": "high",
                   "daily_hours": 10000}
        spec = {"name": "portrait", "objective": "power", "services": [service],
                "pools": [{"name": "asic", "device": "msvp", "price_usd_per_device": 1500}]}
        path = tmp_path / "fleet.yaml"
        path.write_text(yaml.safe_dump(spec))
        used.append(plan_fleet(str(path)).pools[0].used)
    assert used[0] == used[1]
