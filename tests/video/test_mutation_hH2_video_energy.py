"""Mutation spot-check (hH2, session 33): energy per video hour is watts per stream x 3,600 s."""

from __future__ import annotations

import pytest

from infraplan.video.transcode import estimate_video


@pytest.mark.parametrize("device", ["msvp", "xeon-8480"])
def test_energy_per_video_hour_is_device_watts_per_stream_times_an_hour(device: str) -> None:
    """A stream running one hour draws its share of the device, watts_per_stream, for 3,600 s: J = W x s."""
    est = estimate_video(device, "1080p30", 3, baseline="none")
    assert est.energy_per_video_hour_j == pytest.approx(est.watts_per_stream * 3600.0, rel=1e-12)
