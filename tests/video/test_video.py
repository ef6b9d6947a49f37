"""Video transcoding: MSVP's published reference points, linear resolution scaling, CPU cores, fleet sizing, the
like-for-like comparison (platform watts, hosts on both sides), CLI."""

from __future__ import annotations

import json
import math

import pytest

from infraplan.catalog.facility_loader import load_network_cost
from infraplan.catalog.inference_loader import load_ladder
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.video.transcode import estimate_video, parse_input

MISC = 1.0 + load_network_cost().misc_it_power_fraction  # hK57: + storage / front-end / management, as every pool


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
    # the module sits in a host: 40 W of a Yosemite V3-class M.2 host per module (msvp.yaml host_source)
    assert r.host_power_w == pytest.approx(40.0) and r.platform_watts_per_stream == pytest.approx(50.0)
    assert "host share 40 W" in r.basis


def test_msvp_scales_linearly_with_output_pixels() -> None:
    a = estimate_video("msvp", "2160p30", 5)
    b = estimate_video("msvp", "1080p30", 5)
    assert b.streams_per_device / a.streams_per_device == pytest.approx(
        a.output_pixels_per_s / b.output_pixels_per_s)
    fewer = estimate_video("msvp", "2160p30", 3)
    assert fewer.rungs_px == [2160, 1440, 1080] and fewer.streams_per_device > a.streams_per_device


def test_cpu_streams_scale_with_cores_and_quality_costs_throughput() -> None:
    xeon = estimate_video("xeon-8480", "1080p30", 5)
    epyc = estimate_video("epyc-9654", "1080p30", 5)
    assert epyc.streams_per_device / xeon.streams_per_device == pytest.approx(96 / 56)
    assert estimate_video("xeon-8480", "1080p30", 5, quality="standard").streams_per_device > \
        4 * xeon.streams_per_device
    assert estimate_video("xeon-8480", "1080p30", 5, codec="vp9").streams_per_device < xeon.streams_per_device


def test_fleet_device_count_cover_the_daily_ingest() -> None:
    r = estimate_video("msvp", "1080p30", 5, daily_hours=10_000, peak_to_average=1.5)
    f = r.fleet
    assert f.concurrent_streams == pytest.approx(10_000 / 24 * 1.5)
    assert f.devices == math.ceil(f.concurrent_streams / r.streams_per_device)
    per = r.streams_per_device
    assert (f.devices - 1) * per < f.concurrent_streams <= f.devices * per
    assert f.energy_per_day_j == pytest.approx(10_000 * 3600 * r.platform_watts_per_stream)


def test_msvp_beats_software_per_platform_watt_by_the_published_factors() -> None:
    # published: ~9x libx264, ~50x libvpx speed 2, per watt at on-par quality; compared here like for like
    for codec, factor in (("h264", 9), ("vp9", 50)):
        asic = estimate_video("msvp", "2160p60", 5, codec)
        cpu = estimate_video("xeon-8480", "2160p60", 5, codec)
        assert asic.baseline is not None and asic.baseline.device == "xeon-8480"
        assert asic.baseline.perf_per_w_ratio == pytest.approx(
            cpu.platform_watts_per_stream / asic.platform_watts_per_stream)
        assert asic.baseline.perf_per_w_ratio >= factor
        # the device-only ratio (module against socket TDP, no host on either side) is larger, and labelled apart
        assert asic.baseline.device_perf_per_w_ratio > asic.baseline.perf_per_w_ratio


def test_the_fleet_saving_counts_the_host_on_both_sides() -> None:
    """The MSVP fleet drew 10 W per module against whole CPU servers: 16.7 kW vs 1.65 MW at 10,000 h/day."""
    asic = estimate_video("msvp", "2160p60", 5, daily_hours=10_000)
    cpu = estimate_video("xeon-8480", "2160p60", 5, daily_hours=10_000)
    f, v = asic.fleet, asic.baseline
    assert f.devices == 1667 and f.power_w == pytest.approx(1667 * (10 + 40))
    assert cpu.fleet.power_w == pytest.approx(cpu.fleet.devices * (350 + 150))
    assert v.fleet_device_count == cpu.fleet.devices and v.fleet_power_w == pytest.approx(cpu.fleet.power_w)
    assert v.fleet_power_saving_w == pytest.approx(cpu.fleet.power_w - f.power_w)
    assert v.energy_saving_per_day_j == pytest.approx(cpu.fleet.energy_per_day_j - f.energy_per_day_j)
    assert cpu.baseline is None  # a CPU compares with nothing unless asked
    assert estimate_video("msvp", "2160p60", 5, baseline="none").baseline is None
    epyc = estimate_video("msvp", "2160p60", 5, baseline="epyc-9654").baseline
    assert epyc.device == "epyc-9654" and epyc.perf_per_w_ratio < v.perf_per_w_ratio  # more cores per socket W


def test_cli_json_and_units(capsys) -> None:
    code, out, _ = run(capsys, ["video", "--device", "msvp", "--input", "2160p60", "--ladder", "5",
                                "--daily-hours", "1000", "--json"])
    assert code == 0
    data = json.loads(out)
    assert {"streams_per_device", "watts_per_stream", "fleet", "basis", "baseline"} <= set(data)
    assert data["baseline"]["fleet_power_saving_w"] > 0
    code, out, _ = run(capsys, ["video", "--device", "msvp", "--daily-hours", "1000"])
    assert code == 0 and "vs xeon-8480" in out and "like for like" in out and "host share 40 W" in out
    code, out, _ = run(capsys, ["video", "--device", "epyc-9654", "--input", "1080p30", "--ladder", "4"])
    assert code == 0 and "W" in out and "pixel/s" in out and "Wh" in out


@pytest.mark.parametrize(("args", "needle"), [
    (["video", "--device", "h100-sxm", "--input", "1080p30"], "NVENC"),
    (["video", "--device", "msvp", "--input", "fullhd"], "cannot read video input"),
    (["video", "--device", "msvp", "--codec", "av1"], "does not encode av1"),
    (["video", "--device", "msvp", "--ladder", "0"], "--ladder"),
    (["video", "--device", "xeon-8480", "--quality", "ultra"], "unknown quality"),
    (["video", "--device", "msvp", "--baseline", "h100-sxm"], "NVENC"),
    (["video", "--device", "msvp", "--baseline", "xeon-848"], "did you mean xeon-8480"),
])
def test_cli_bad_input_exit_2(capsys, args, needle) -> None:
    code, out, err = run(capsys, args)
    assert code == 2 and out == "" and needle in err and err.count("\n") == 1


def test_a_planned_msvp_pool_draws_its_host_share() -> None:
    """`plan` costed an MSVP pool at 10 W per module (no host) unless the pool set host_power_w."""
    from infraplan.planning.pool_money import pool_money
    from infraplan.planning.scenario_spec import ScenarioSpec

    def it_w(pool: dict) -> float:
        spec = ScenarioSpec.model_validate({
            "name": "vod", "phases": [{"name": "2025", "year": 2025}], "pools": [pool],
            "services": [{"name": "vod", "kind": "video", "daily_hours": 1000}],
            "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "power"}})
        return pool_money(spec, spec.pools[0], spec.sites[0], 108).it_w  # 9 whole hosts of 12 (modules_per_host)

    assert it_w({"name": "m", "device": "msvp", "site": "a"}) == pytest.approx(108 * (10 + 40) * MISC)
    assert it_w({"name": "m", "device": "msvp", "site": "a", "host_power_w": 0}) == pytest.approx(108 * 10 * MISC)
