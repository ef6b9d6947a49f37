"""fleet-mix's `notes` name only the (service, pool) pairs its answer buys (hM70 mutation wave: taking every priced
option, bought or not, survived every test, whose fleets used each pool they offered). The rule
(`FleetMixResult.notes`): what the capacity of each pool *used* rests on."""

from __future__ import annotations

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec

INGEST = {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264", "quality": "high",
          "daily_hours": 1000}
MSVP = {"name": "asic", "device": "msvp", "price_usd_per_device": 1500}
XEON = {"name": "cpu", "device": "xeon-8480", "price_usd_per_device": 14000}


def test_a_pool_offered_but_not_bought_is_not_in_the_notes():
    r = plan_fleet(FleetSpec(services=[INGEST], pools=[MSVP, XEON]))
    assert {a["pool"] for a in r.assignment} == {"asic"}  # MSVP streams cost far less than a Xeon socket's
    assert r.notes and all(n.startswith("ingest on asic: ") for n in r.notes), r.notes
