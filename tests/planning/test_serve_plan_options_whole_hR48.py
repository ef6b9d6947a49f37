"""An LLM service's drafts are refused when its file is read, as serve-plan refuses the same flags (hR48's review of
hK46): before, `plan` read them and reported "no pool can serve 'chat' ... (short by 5 requests/s)", a spec error
dressed as a capacity shortfall."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.loader import validated
from infraplan.errors import InputError
from infraplan.planning.fleet_spec import ServiceSpec as FleetService
from infraplan.planning.scenario_spec import ScenarioSpec

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = yaml.safe_load((ROOT / "examples" / "plan-minimal.yaml").read_text(encoding="utf-8"))
LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}


def _scenario(**fields: Any) -> dict[str, Any]:
    return {**SCENARIO, "services": [*SCENARIO["services"], {**LLM, **fields}]}


@pytest.mark.parametrize(("fields", "why"), [
    ({"acceptance": 0.8}, "acceptance is the drafts' acceptance"),
    ({"speculative_tokens": 2}, "speculative_tokens needs acceptance"),
    ({"speculative_tokens": 1, "acceptance": 0.8, "try_speculative": True}, "not both")])
def test_an_incomplete_draft_is_refused_on_reading(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(InputError, match=why):
        validated(ScenarioSpec, _scenario(**fields), "s.yaml", "scenario")
    with pytest.raises(ValueError, match=why):
        FleetService.model_validate({**LLM, **fields})


@pytest.mark.parametrize("fields", [{}, {"speculative_tokens": 2, "acceptance": 0.0}, {"try_speculative": True},
                                    {"try_speculative": True, "acceptance": 0.9}, {"kv_dtype": "fp8"}])
def test_a_whole_draft_is_read(fields: dict[str, Any]) -> None:
    svc = validated(ScenarioSpec, _scenario(**fields), "s.yaml", "scenario").services[-1]
    assert (svc.speculative_tokens, svc.acceptance, svc.try_speculative) == (
        fields.get("speculative_tokens", 0), fields.get("acceptance"), fields.get("try_speculative", False))
    assert FleetService.model_validate({**LLM, **fields}).acceptance == fields.get("acceptance")
