"""Metamorphic properties of `infraplan video` (hX2, session 38): the transcoding fleet responds to its inputs as
pixel throughput does (hypothesis, derandomized).

More hours ingested per day, or a burstier day, is more concurrent real-time streams at peak: never fewer devices
or less power. More rungs or more frames per second is more pixels decoded and encoded per stream: never more
streams per device. The average day's energy follows the hours, not the peak.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infraplan.video.transcode import estimate_video

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
REL = 1e-12
DEVICES = ["msvp", "xeon-8480", "epyc-9654"]
INPUTS = ["2160p60", "2160p30", "1440p30", "1080p60", "1080p30", "720p30"]


@SETTINGS
@given(st.sampled_from(DEVICES), st.sampled_from(INPUTS), st.integers(1, 4), st.sampled_from(["h264", "vp9"]),
       st.floats(0.0, 1e6), st.floats(1.0, 1e3), st.floats(1.0, 3.0))
def test_more_hours_per_day_never_need_fewer_devices(device, video, ladder, codec, hours, factor, peak) -> None:
    low = estimate_video(device, video, ladder, codec, daily_hours=hours, peak_to_average=peak, baseline="none")
    high = estimate_video(device, video, ladder, codec, daily_hours=hours * factor, peak_to_average=peak,
                          baseline="none")
    assert low.fleet is not None and high.fleet is not None
    assert high.fleet.devices >= low.fleet.devices
    assert high.fleet.power_w >= low.fleet.power_w * (1 - REL)
    assert high.fleet.energy_per_day_j >= low.fleet.energy_per_day_j * (1 - REL)


@SETTINGS
@given(st.sampled_from(DEVICES), st.sampled_from(INPUTS), st.integers(1, 4), st.floats(1.0, 1e5),
       st.floats(1.0, 2.0), st.floats(1.0, 3.0))
def test_a_burstier_day_needs_no_fewer_devices_and_the_same_energy(device, video, ladder, hours, peak, factor) -> None:
    flat = estimate_video(device, video, ladder, daily_hours=hours, peak_to_average=peak, baseline="none")
    bursty = estimate_video(device, video, ladder, daily_hours=hours, peak_to_average=peak * factor, baseline="none")
    assert flat.fleet is not None and bursty.fleet is not None
    assert bursty.fleet.devices >= flat.fleet.devices
    assert abs(bursty.fleet.energy_per_day_j - flat.fleet.energy_per_day_j) <= 1e-9 * flat.fleet.energy_per_day_j


@SETTINGS
@given(st.sampled_from(DEVICES), st.sampled_from(INPUTS), st.integers(1, 3), st.sampled_from(["h264", "vp9"]),
       st.sampled_from(["standard", "high"]))
def test_more_rungs_never_give_more_streams_per_device(device, video, ladder, codec, quality) -> None:
    fewer = estimate_video(device, video, ladder, codec, quality, baseline="none")
    more = estimate_video(device, video, ladder + 1, codec, quality, baseline="none")
    assert more.output_pixels_per_s > fewer.output_pixels_per_s
    assert more.streams_per_device <= fewer.streams_per_device * (1 + REL)
    assert more.watts_per_stream >= fewer.watts_per_stream * (1 - REL)


@SETTINGS
@given(st.sampled_from(DEVICES), st.sampled_from(["2160p", "1440p", "1080p", "720p"]), st.sampled_from([24, 30]),
       st.sampled_from([1.25, 2.0]), st.integers(1, 3))
def test_more_frames_per_second_never_give_more_streams_per_device(device, height, fps, factor, ladder) -> None:
    slow = estimate_video(device, f"{height}{fps}", ladder, baseline="none")
    fast = estimate_video(device, f"{height}{fps * factor:g}", ladder, baseline="none")
    assert fast.streams_per_device <= slow.streams_per_device * (1 + REL)
    assert fast.streams_per_device >= slow.streams_per_device / factor * (1 - REL)  # pixels/s x f: at most f x


@SETTINGS
@given(st.sampled_from(DEVICES), st.integers(1, 3), st.sampled_from(["h264", "vp9"]))
def test_standard_quality_never_gives_fewer_streams_than_high(device, ladder, codec) -> None:
    standard = estimate_video(device, "1080p30", ladder, codec, "standard", baseline="none")
    high = estimate_video(device, "1080p30", ladder, codec, "high", baseline="none")
    assert standard.streams_per_device >= high.streams_per_device * (1 - REL)
