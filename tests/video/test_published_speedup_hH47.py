"""MSVP against software encoding: what each ratio compares, and the published ~9x (H.264, libx264) / ~50x (VP9,
libvpx speed 2) speed-ups (Meta MSVP blog, May 2023; Chaudhari et al., SPIE 2023).

The published ratios are per watt at on-par quality; the power basis behind them (module or platform, socket or
server), the CPU and the resolution are unpublished, so only their quotient (50 / 9: VP9 speed 2 against libx264 at
matching quality) is reproducible from the catalog on any basis: MSVP encodes both codecs at one rate, so the quotient
is the software side's alone."""

from __future__ import annotations

import pytest

from infraplan.catalog.inference_loader import load_video_device
from infraplan.video.transcode import estimate_video

# "~9x" and "~50x": one significant figure, i.e. 8.5-9.5 and 45-55
H264_LOW, H264_HIGH, VP9_LOW, VP9_HIGH = 8.5, 9.5, 45.0, 55.0


def _baselines() -> dict[str, object]:
    return {codec: estimate_video("msvp", "2160p60", 5, codec, "high").baseline for codec in ("h264", "vp9")}


def test_the_catalog_reproduces_the_published_vp9_over_h264_quotient_on_every_basis() -> None:
    b = _baselines()
    h, v = b["h264"], b["vp9"]
    low, high = VP9_LOW / H264_HIGH, VP9_HIGH / H264_LOW  # 4.74 .. 6.47
    for field in ("perf_per_w_ratio", "device_perf_per_w_ratio", "streams_per_device_ratio"):
        quotient = getattr(v, field) / getattr(h, field)
        assert low <= quotient <= high, (field, quotient)
    # the three bases share the quotient: the MSVP side is one rate and one power for both codecs
    assert v.perf_per_w_ratio / h.perf_per_w_ratio == pytest.approx(
        v.streams_per_device_ratio / h.streams_per_device_ratio)


def test_each_ratio_is_the_per_chip_ratio_times_its_power_ratio() -> None:
    """19.7x per platform watt = 1.97x streams per chip x (500 W socket platform / 50 W module platform)."""
    r = estimate_video("msvp", "2160p60", 5, "h264", "high")
    b = r.baseline
    cpu = estimate_video("xeon-8480", "2160p60", 5, "h264", "high")
    assert b.streams_per_device_ratio == pytest.approx(r.streams_per_device / cpu.streams_per_device)
    assert b.perf_per_w_ratio == pytest.approx(b.streams_per_device_ratio * cpu.platform_power_w / r.platform_power_w)
    assert b.device_perf_per_w_ratio == pytest.approx(b.streams_per_device_ratio * cpu.power_w / r.power_w)


def test_the_answer_names_its_basis_and_the_published_figure() -> None:
    dev = load_video_device("msvp")
    for codec, b in _baselines().items():
        assert b.published_ratio == dev.published_speedup[codec]
        assert dev.published_speedup_versus[codec] in b.published_basis
        assert "unpublished" in b.published_basis or "not published" in b.published_basis
        # the comparison names the codec, both encoders with their presets, and each side's watts
        assert codec in b.comparison and b.encoder in b.comparison and "xeon-8480" in b.comparison
        assert "module 10 W" in b.comparison and "socket TDP 350 W" in b.comparison
    assert _baselines()["h264"].published_ratio == 9 and _baselines()["vp9"].published_ratio == 50


def test_no_published_ratio_where_the_source_compares_nothing() -> None:
    # standard mode (the source's on-par-quality pairing is the highest-quality one) and a CPU against msvp
    assert estimate_video("msvp", "2160p60", 5, "h264", "standard").baseline.published_ratio is None
    cpu = estimate_video("xeon-8480", "2160p60", 5, "h264", "high", baseline="msvp").baseline
    assert cpu.published_ratio is None and cpu.published_basis is None
    assert cpu.streams_per_device_ratio == pytest.approx(
        1 / estimate_video("msvp", "2160p60", 5, "h264", "high").baseline.streams_per_device_ratio)
