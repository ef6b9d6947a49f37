"""A positive daily ingest gets at least one device from `video`, as fleet-mix buys one for the same service (hW77).

`video --device msvp --daily-hours 1e-9` answered "0 devices, 0 W (platform)" (and its baseline "0 xeon-8480 -> 0 W")
while `fleet-mix` of the same service on an msvp pool bought 1 MSVP: the fleet's ceil took 1e-9 off the device
count, meant to keep an exact multiple from rounding up, and so sent any demand under 1e-9 of a device to 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.video.transcode import estimate_video


@pytest.mark.parametrize("daily_hours", [1e-9, 1e-12])
def test_a_tiny_ingest_needs_one_device_and_its_baseline_one_socket(daily_hours: float) -> None:
    r = estimate_video("msvp", "1080p30", 5, daily_hours=daily_hours)
    assert r.fleet is not None and r.fleet.concurrent_streams > 0
    assert r.fleet.devices == 1
    assert r.fleet.power_w == pytest.approx(r.platform_power_w)  # one device's platform watts, not 0
    assert r.baseline is not None and r.baseline.fleet_device_count == 1


def test_an_exact_multiple_still_does_not_round_up() -> None:
    one = estimate_video("msvp", "1080p30", 5, daily_hours=24.0)
    exact = one.streams_per_device * 24.0 * 3  # three devices' worth of streams, to the bit
    assert estimate_video("msvp", "1080p30", 5, daily_hours=exact).fleet.devices == 3  # type: ignore[union-attr]


def test_video_and_fleet_mix_buy_as_many_devices_for_a_tiny_ingest(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text("name: tiny\nservices:\n  - {name: vid, kind: video, input: 1080p30, daily_hours: 1e-9}\n"
                    "pools:\n  - {name: msvp, device: msvp}\n")
    mix = plan_fleet(str(spec))
    alone = estimate_video("msvp", "1080p30", 5, daily_hours=1e-9)
    assert [a["devices"] for a in mix.assignment] == [alone.fleet.devices] == [1]  # type: ignore[union-attr]
