"""`plan`'s `notes` name only the (service, pool) pairs it buys (hM70 mutation wave: taking every sized option,
bought or not, survived every test, whose plans used each pool they offered). The rule (`ScenarioPlan.notes`): what
a video service's devices per stream rest on, for its job on each pool used; as fleet-mix says it."""

from __future__ import annotations

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

INGEST = {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 5, "codec": "h264", "quality": "high",
          "daily_hours": 1000}
MSVP = {"name": "asic", "device": "msvp", "price_usd_per_device": 1500}
XEON = {"name": "cpu", "device": "xeon-8480", "price_usd_per_device": 14000}


def test_a_pool_offered_but_not_bought_is_not_in_the_plans_notes():
    spec = ScenarioSpec(name="video", phases=[{"name": "y", "year": 2026}], services=[INGEST],
                        pools=[{**MSVP, "site": "s"}, {**XEON, "site": "s"}],
                        sites=[{"name": "s", "power": "10MW", "location": "us-average", "cooling": "air"}])
    plan = plan_scenario(spec)
    assert {r.pool for r in plan.pools if r.devices > 0} == {"asic"}
    video = [n for n in plan.notes if n.startswith("ingest on ")]
    assert video and all(n.startswith("ingest on asic: ") for n in video), video
    assert video == plan_fleet(FleetSpec(services=[INGEST], pools=[MSVP, XEON])).notes
