"""Video transcoding: MSVP's published reference points, linear resolution scaling, CPU cores, fleet sizing, CLI."""

from __future__ import annotations

import json
import math

import pytest

from infraplan.catalog.inference_loader import load_ladder
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.video.transcode import estimate_video, parse_input


def run(capsys, args):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_input() -> None:
    lad = load_ladder()
    assert parse_input("2160p60", lad) == (3840, 2160, 60.0)
    assert parse_input("1080p", lad) == (1920, 1080, 30.0)
    assert parse_input("1440x1080p25", lad) == (1440, 1080, 25.0)
    with pytest.raises(InputError):
        parse_input("4k", lad)


@pytest.mark.parametrize(("quality", "fps"), [("high", 15), ("standard", 60)])
def test_msvp_reproduces_its_published_reference_jobs(quality: str, fps: int) -> None:
    # published: 4K at 15 fps (highest quality) / 60 fps (standard), one input, five outputs
    r = estimate_video("msvp", f"2160p{fps}", 5, "h264", quality)
    assert r.streams_per_device == pytest.approx(1.0)
    assert r.watts_per_stream == pytest.approx(10.0)


def test_msvp_scales_linearly_with_output_pixels() -> None:
    a = estimate_video("msvp", "2160p30", 5)
    b = estimate_video("msvp", "1080p30", 5)
    assert b.streams_per_device / a.streams_per_device == pytest.approx(
        a.output_pixels_per_s / b.output_pixels_per_s)
    fewer = estimate_video("msvp", "2160p30", 3)
    assert fewer.rungs == [2160, 1440, 1080] and fewer.streams_per_device > a.streams_per_device


def test_cpu_streams_scale_with_cores_and_quality_costs_throughput() -> None:
    xeon = estimate_video("xeon-8480", "1080p30", 5)
    epyc = estimate_video("epyc-9654", "1080p30", 5)
    assert epyc.streams_per_device / xeon.streams_per_device == pytest.approx(96 / 56)
    assert estimate_video("xeon-8480", "1080p30", 5, quality="standard").streams_per_device > \
        4 * xeon.streams_per_device
    assert estimate_video("xeon-8480", "1080p30", 5, codec="vp9").streams_per_device < xeon.streams_per_device


def test_fleet_devices_cover_the_daily_ingest() -> None:
    r = estimate_video("msvp", "1080p30", 5, daily_hours=10_000, peak_to_average=1.5)
    f = r.fleet
    assert f.concurrent_streams == pytest.approx(10_000 / 24 * 1.5)
    assert f.devices == math.ceil(f.concurrent_streams / r.streams_per_device)
    per = r.streams_per_device
    assert (f.devices - 1) * per < f.concurrent_streams <= f.devices * per
    assert f.energy_per_day_j == pytest.approx(10_000 * 3600 * r.platform_watts_per_stream)


def test_msvp_beats_software_per_watt_by_the_published_factors() -> None:
    for codec, factor in (("h264", 9), ("vp9", 50)):
        asic = estimate_video("msvp", "2160p60", 5, codec)
        cpu = estimate_video("xeon-8480", "2160p60", 5, codec)
        assert cpu.watts_per_stream / asic.watts_per_stream >= factor


def test_cli_json_and_units(capsys) -> None:
    code, out, _ = run(capsys, ["video", "--device", "msvp", "--input", "2160p60", "--ladder", "5",
                                "--daily-hours", "1000", "--json"])
    assert code == 0
    data = json.loads(out)
    assert {"streams_per_device", "watts_per_stream", "fleet"} <= set(data)
    code, out, _ = run(capsys, ["video", "--device", "epyc-9654", "--input", "1080p30", "--ladder", "4"])
    assert code == 0 and "W" in out and "pixel/s" in out and "Wh" in out


@pytest.mark.parametrize(("args", "needle"), [
    (["video", "--device", "h100-sxm", "--input", "1080p30"], "NVENC"),
    (["video", "--device", "msvp", "--input", "fullhd"], "cannot read video input"),
    (["video", "--device", "msvp", "--codec", "av1"], "does not encode av1"),
    (["video", "--device", "msvp", "--ladder", "0"], "--ladder"),
    (["video", "--device", "xeon-8480", "--quality", "ultra"], "unknown quality"),
])
def test_cli_bad_input_exit_2(capsys, args, needle) -> None:
    code, out, err = run(capsys, args)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1
