"""hI65 mutation wave on video/transcode.rung_sizes (hF64 / hS64): a rung at the input's aspect ratio has even sides.
H.264 4:2:0 crops in units of 2 luma samples (ITU-T H.264 7.4.2.1.1, CropUnitX = SubWidthC = 2 for chroma_format_idc
1), as ffmpeg's `scale=-2:h` makes the computed side divisible by 2. A 19.5:9 phone video, 1080 x 2340 portrait:
scale 2340 / 1920 (the ladder's 1920 at 1080 lines) = 1.21875; the ladder's 480p rung is 854 wide -> 1040.8, 240p
426 -> 519.2: 1040 and 520 at even sides (the nearest even), not 1041 and 519."""

from __future__ import annotations

from infraplan.video.transcode import estimate_video


def test_a_tall_phone_videos_rungs_have_even_sides() -> None:
    r = estimate_video("msvp", "1080x2340p30", baseline="none")
    (note,) = [n for n in r.notes if "output rungs" in n]
    assert "1080x2340, 720x1560, 480x1040, 360x780, 240x520 at the input's aspect ratio" in note
