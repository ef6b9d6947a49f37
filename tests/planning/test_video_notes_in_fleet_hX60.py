"""fleet-mix and plan say what a video service's capacity assumes (hX60): the `notes` of `video` for the service's
job on each pool it is given (video/notes.py: the device file's ASSUMPTION figures, the CPU encoders' rates, the
ladder's rungs), each line once, naming every (service, pool) pair it holds for; not the device-against-CPU
comparison `video` adds by default (a fleet compares pools by its own programme). Before, both answers dropped them."""

from __future__ import annotations

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.video.transcode import estimate_video

INGEST = {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264", "quality": "high",
          "daily_hours": 1000}
SMALL = {**INGEST, "name": "clips", "input": "720p30", "ladder": 3, "daily_hours": 100}
MSVP = {"name": "asic", "device": "msvp", "price_usd_per_device": 1500}
XEON = {"name": "cpu", "device": "xeon-8480", "price_usd_per_device": 14000}


def _own(service: dict, device: str) -> list[str]:
    """`video`'s notes for the service's job on `device`, without a comparison (what the pool's capacity rests on)."""
    return estimate_video(device, service["input"], service["ladder"], service["codec"], service["quality"],
                          baseline="none").notes


def test_fleet_mix_notes_each_video_line_once_naming_its_pairs() -> None:
    # 12 MSVP (one server) carry part of the ingest's 41.7 peak streams: the rest go to Xeon sockets
    r = plan_fleet(FleetSpec(services=[INGEST], pools=[{**MSVP, "available": 12}, XEON]))
    assert {a["pool"] for a in r.assignment} == {"asic", "cpu"}
    ladder = next(n for n in _own(INGEST, "msvp") if "ladder.yaml" in n)
    assert ladder in _own(INGEST, "xeon-8480")  # the same job's rungs on either device: one line, both pairs
    assert f"ingest on asic, ingest on cpu: {ladder}" in r.notes
    for device, pool in (("msvp", "asic"), ("xeon-8480", "cpu")):
        for note in _own(INGEST, device):
            assert note == ladder or f"ingest on {pool}: {note}" in r.notes
    assert len(r.notes) == len(set(r.notes)) == len(set(_own(INGEST, "msvp")) | set(_own(INGEST, "xeon-8480")))
    assert not any("compared per platform watt" in n for n in r.notes)  # video's default comparison: not a fleet's


def test_two_services_on_one_device_share_its_assumptions_line() -> None:
    r = plan_fleet(FleetSpec(services=[INGEST, SMALL], pools=[MSVP]))
    device_line = next(n for n in _own(INGEST, "msvp") if n.startswith("ASSUMPTIONS of msvp"))
    assert device_line in _own(SMALL, "msvp")  # same codec and quality mode: the same figures read
    assert f"ingest on asic, clips on asic: {device_line}" in r.notes
    assert sum(device_line in n for n in r.notes) == 1
    small_ladder = next(n for n in _own(SMALL, "msvp") if "ladder.yaml" in n)
    assert f"clips on asic: {small_ladder}" in r.notes  # its own rungs (720p, 480p, 360p): its own line


def test_plan_notes_a_video_service_as_fleet_mix_does() -> None:
    spec = ScenarioSpec(name="video", phases=[{"name": "y", "year": 2026}], services=[INGEST],
                        pools=[{**MSVP, "site": "s"}],
                        sites=[{"name": "s", "power": "10MW", "location": "us-average", "cooling": "air"}])
    plan = plan_scenario(spec)
    fleet = plan_fleet(FleetSpec(services=[INGEST], pools=[MSVP]))
    assert [n for n in plan.notes if n.startswith("ingest on asic: ")] == fleet.notes
    assert fleet.notes == [f"ingest on asic: {n}" for n in _own(INGEST, "msvp")]
