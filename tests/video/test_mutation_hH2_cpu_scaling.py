"""Mutation spot-check (hH2, session 33): a software ladder scales every rung but the one at the input size."""

from __future__ import annotations

import pytest

from infraplan.video.transcode import estimate_video


def test_a_one_rung_ladder_at_the_input_size_pays_no_scaling() -> None:
    """One rung at the input's own resolution is encoded from the decoded frames as they are (no scale filter), so
    a core-second of video is decode + encode only. 1080p30 on Xeon 8480 (56 cores), libx264 veryslow (high):
    p = 1920 x 1080 x 30 px/s; core s = p / 400e6 (h264 decode) + p / 2.1e6 (encode), catalog
    software-encoders.yaml. Two rungs (1080p + the next) pay the scaler on the lower rung's pixels only."""
    p = 1920 * 1080 * 30.0
    one = estimate_video("xeon-8480", "1080p30", 1, baseline="none")
    assert one.core_seconds_per_video_second == pytest.approx(p / 400e6 + p / 2.1e6, rel=1e-9)
    assert one.streams_per_device == pytest.approx(56 / (p / 400e6 + p / 2.1e6), rel=1e-9)
    two = estimate_video("xeon-8480", "1080p30", 2, baseline="none")
    lower = two.output_pixels_per_s - p
    assert two.core_seconds_per_video_second == pytest.approx(
        p / 400e6 + two.output_pixels_per_s / 2.1e6 + lower / 300e6, rel=1e-9)
