"""A demand far below one device's capacity is served by one unit, in `plan` and `fleet-mix` (hU68).

The programmes state each demand row in shares of its demand (capacity / demand per unit, hP26): a ranking service
of 1e-8 QPS on H100 (22.7 M QPS a device) put ~2e15 in a row, and HiGHS answered "the programme is infeasible and
its elastic relaxation failed" (exit 2 on a valid input); at 1e-12 QPS `plan`'s fixed-server stage answered 0 devices
(the service unserved, no warning). A unit that serves its demand a million times over now counts a million
(`phased_mix.SHARE_MOST`): for whole units the rows hold where they held, so the answer is the one of any demand that
one unit covers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

MINIMAL = Path(__file__).parents[2] / "examples" / "plan-minimal.yaml"


def _plan_at(qps: float) -> tuple[int, list[str]]:
    data = load_scenario(MINIMAL).model_dump()
    data["services"][0]["qps"] = qps
    plan = plan_scenario(ScenarioSpec.model_validate(data))
    return plan.phases[0].devices, [*plan.warnings]


@pytest.mark.parametrize("qps", [1e-8, 1e-12, 1e-300])
def test_a_tiny_ranking_demand_plans_one_server(qps: float) -> None:
    assert _plan_at(qps) == _plan_at(1.0) == (8, [])  # one 8-GPU server, as for 1 QPS


@pytest.mark.parametrize("qps", [1e-9, 1e-300])
def test_fleet_mix_sizes_a_tiny_demand_on_one_device(qps: float) -> None:
    def devices(q: float) -> list[tuple[str, int]]:
        spec = FleetSpec.model_validate({"name": "tiny", "services": [
            {"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": q, "latency_slo": "10ms"}],
            "pools": [{"name": "h100", "device": "h100-sxm"}]})
        return [(row["pool"], row["devices"]) for row in plan_fleet(spec).assignment]

    assert devices(qps) == devices(1.0) == [("h100", 1)]
