"""hI69's mutation wave on `phased_mix.SHARE_MOST` (hU68): the infeasible plan's explanation (the elastic programme,
`_explain_phased`) caps a tiny demand's row as the plan's own programme does.

A ranking service of 1e-8 QPS beside one no pool can serve (1e12 QPS on at most 16 H100): the plan is infeasible,
and its explanation is the one given beside a 1 QPS service (the tiny one is served by any unit; the large one is
short). Uncapped, its row held ~2e15 and HiGHS answered "the programme is infeasible and its elastic relaxation
failed"."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.errors import InputError
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

MINIMAL = Path(__file__).parents[2] / "examples" / "plan-minimal.yaml"


def _refusal(qps: float) -> str:
    data = load_scenario(MINIMAL).model_dump()
    data["services"][0]["qps"] = qps
    data["services"].append({**data["services"][0], "name": "big", "qps": 1e12})
    data["pools"][0]["available"] = 16
    with pytest.raises(InputError) as refused:
        plan_scenario(ScenarioSpec.model_validate(data))
    return str(refused.value)


def test_an_infeasible_plan_with_a_tiny_demand_is_explained() -> None:
    line = ("infeasible plan: even the LP relaxation leaves big in 2025 short by 100 %; binding: pool h100 used up "
            "(16 devices)")
    assert _refusal(1e-8) == _refusal(1.0) == line
