"""A TPU answer states its generic host share once, in one wording from one function (hK71, session 70's nit).

`serve` on a TPU said it twice: `cluster.generic.generic_part_notes` ("tpu-v6e: host share ASSUMED 246 W per TPU by
the generic rule ...", hU50) and `serving_metrics.assumed_host_note` ("joules_per_token: 246 of the 246 W per
accelerator of host and scale-up switches is ASSUMED ...", hH70); `recsys` and `fleet-mix` likewise. The wording is
now `cluster.host_share.assumed_share_note`'s alone (`generic_part_notes` says it for answers that do not), and an
answer saying it itself passes `host=False`. A fleet-mix or `plan` pool stating its own `host_power_w` no longer
reads "246 of the 246 W ... is ASSUMED" (the pool is priced with its own figure).
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.cli.conftest import json_strings

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.recsys.estimate import estimate_recsys
from infraplan.results import Result
from infraplan.serving.capacity import search_capacity
from infraplan.serving.serving_api import estimate_serving

ONE_WORDING = "of host and scale-up switches is ASSUMED"  # `host_share.assumed_share_note`
OLD_WORDING = "host share ASSUMED"  # `generic_part_notes`' own line before hK71
LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}
RANKING = {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "4M", "latency_slo": "20ms"}


def _said(result: Result) -> tuple[int, int]:
    text = list(json_strings(result.model_dump()))
    return sum(s.count(ONE_WORDING) for s in text), sum(s.count(OLD_WORDING) for s in text)


def _plan(pool: dict[str, Any]) -> Result:
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "s", "phases": [{"name": "2025", "year": 2025}], "services": [LLM],
        "pools": [{"name": "tpu", "device": "tpu-v6e", "site": "ohio", "price_usd_per_device": 20000, **pool}],
        "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}))


def _fleet(pool: dict[str, Any], service: dict[str, Any] = LLM) -> Result:
    return plan_fleet(FleetSpec(services=[service], pools=[{"name": "t", "device": "tpu-v6e",
                                                            "price_usd_per_device": 20000, **pool}]))


@pytest.mark.parametrize("answer", [
    pytest.param(lambda: estimate_serving("llama3-8b", "tpu-v6e", 8, rate=2, requests=20, input_len=256,
                                          output_len=32), id="serve"),  # was 2, one of each wording
    pytest.param(lambda: search_capacity("llama3-8b", "tpu-v6e", 5.0, workload="chat"), id="serve-plan"),
    pytest.param(lambda: _plan({}), id="plan"),
    pytest.param(lambda: _fleet({}), id="fleet-mix"),  # was 2
    pytest.param(lambda: estimate_recsys("dlrm-medium", "tpu-v5p", latency_slo_s=0.02), id="recsys"),  # was 2
])
def test_a_tpu_answer_says_its_host_share_once(answer: Any) -> None:
    assert _said(answer()) == (1, 0)


def test_a_pools_own_host_figure_is_not_said_assumed() -> None:
    for result in (_plan({"host_power_w": 300}), _fleet({"host_power_w": 300})):
        assert _said(result) == (0, 0)  # was (1, 0): "246 of the 246 W per TPU ... is ASSUMED"
    assert _said(_fleet({"host_power_w": 300}, RANKING)) == (0, 0)
