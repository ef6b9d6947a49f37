"""A fleet-mix or `plan` pool stating its own `host_power_w` is priced at it, and the video notes quote it (hX67):
before, the notes still quoted the device file's host share (MSVP's ASSUMED 40 W per module, a Xeon socket's
150 W) beside the pool's line naming the pool's figure."""

from __future__ import annotations

import pytest

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.video.transcode import estimate_video

INGEST = {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264", "quality": "high",
          "daily_hours": 1000}


@pytest.mark.parametrize(("device", "file_w", "word"), [("msvp", 40.0, "module"), ("xeon-8480", 150.0, "socket")])
def test_fleet_mix_video_notes_quote_the_pools_host_share(device: str, file_w: float, word: str) -> None:
    own = FleetSpec(services=[INGEST], pools=[{"name": "p", "device": device, "price_usd_per_device": 1500,
                                               "host_power_w": 25}])
    r = plan_fleet(own)
    assert any(f"host share 25 W per {device} {word}: the pool's host_power_w" in n for n in r.notes)
    assert not any(f"{file_w:g} W per" in n for n in r.notes)  # the file's share is not the one priced
    base = plan_fleet(FleetSpec(services=[INGEST], pools=[{"name": "p", "device": device,
                                                           "price_usd_per_device": 1500}]))
    assert any(f"host share {file_w:g} W per" in n for n in base.notes)  # without the pool's: the file's, as before
    assert not any("host_power_w" in n and "pool's" in n for n in base.notes)


def test_the_video_answers_platform_power_takes_the_pools_share() -> None:
    file_share = estimate_video("msvp", "1080p30", 5, baseline="none")
    pool_share = estimate_video("msvp", "1080p30", 5, baseline="none", host_power_w=25.0)
    assert file_share.platform_power_w - pool_share.platform_power_w == pytest.approx(40.0 - 25.0)
    assert pool_share.streams_per_device == file_share.streams_per_device  # capacity is the module's alone


def test_plan_quotes_the_pools_host_share_as_fleet_mix_does() -> None:
    pool = {"name": "p", "device": "msvp", "price_usd_per_device": 1500, "host_power_w": 25}
    plan = plan_scenario(ScenarioSpec(name="v", phases=[{"name": "y", "year": 2026}], services=[INGEST],
                                      pools=[{**pool, "site": "s"}],
                                      sites=[{"name": "s", "power": "10MW", "location": "us-average",
                                              "cooling": "air"}]))
    fleet = plan_fleet(FleetSpec(services=[INGEST], pools=[pool]))
    assert [n for n in plan.notes if n.startswith("ingest on p: ")] == fleet.notes
    assert any("host share 25 W per msvp module: the pool's host_power_w" in n for n in plan.notes)
