"""Mutation wave 12 (hM12): every rung of the ladder keeps the input's aspect ratio (video/transcode.py `_job`),
by hand from the ladder's rung widths, and the input sizes `parse_input` reads."""

from __future__ import annotations

import pytest

from infraplan.catalog.inference_loader import load_ladder
from infraplan.errors import InputError
from infraplan.video.transcode import estimate_video, parse_input


def test_a_four_by_three_input_encodes_three_quarters_of_the_sixteen_by_nine_pixels() -> None:
    """1080p30, three rungs: (1920 x 1080 + 1280 x 720 + 854 x 480) x 30 = 102,153,600 px/s; 1440x1080p30 keeps
    4:3 on every rung, 1440 / 1920 = 0.75 of each width: 76,615,200 px/s, and MSVP (encoder-bound) runs 4/3 the
    streams."""
    wide = estimate_video("msvp", "1080p30", 3, baseline="none")
    narrow = estimate_video("msvp", "1440x1080p30", 3, baseline="none")
    assert wide.output_pixels_per_s == (1920 * 1080 + 1280 * 720 + 854 * 480) * 30
    assert narrow.output_pixels_per_s == pytest.approx(0.75 * wide.output_pixels_per_s, rel=1e-12)
    assert narrow.input_pixels_per_s == 1440 * 1080 * 30
    assert wide.bound == narrow.bound == "encoder"
    assert narrow.streams_per_device == pytest.approx(wide.streams_per_device / 0.75, rel=1e-12)


def test_the_widest_input_is_16k() -> None:
    """16 <= height <= 8640 (16K), width <= 15360: 15360x8640p30 is read, one pixel wider is refused."""
    ladder = load_ladder()
    assert parse_input("15360x8640p30", ladder) == (15360, 8640, 30.0)
    with pytest.raises(InputError, match="out of range"):
        parse_input("15361x8640p30", ladder)
