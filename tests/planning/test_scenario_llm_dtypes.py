"""A scenario's LLM service searches the weight dtypes it names (`dtypes`, serve-plan's --dtypes, as fleet-mix's
services do); `dtype` (a training service's field) on an LLM service was read by nothing and is refused, as is
`dtypes` on a service that does not read it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infraplan.catalog.loader import validated
from infraplan.errors import InputError
from infraplan.planning import scenario_sizing
from infraplan.planning.scenario_spec import ScenarioSpec

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = yaml.safe_load((ROOT / "examples" / "plan-minimal.yaml").read_text(encoding="utf-8"))


def _with(service: dict[str, Any]) -> dict[str, Any]:
    return {**SCENARIO, "services": [*SCENARIO["services"], service]}


LLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}


def test_an_llm_service_searches_the_dtypes_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, ...]] = []

    def search(model: str, system: str, rate: float, workload: str, ttft: Any, tpot: Any, dtypes: tuple[str, ...],
               stack: Any, *rest: Any) -> Any:  # rest: serve-plan's other options, the limit
        seen.append(dtypes)
        raise InputError("stop here")

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    spec = validated(ScenarioSpec, _with({**LLM, "dtypes": ["fp8"]}), "s.yaml", "scenario")
    service = spec.services[-1]
    with pytest.raises(InputError, match="stop here"):
        scenario_sizing.size_llm(service, spec.pools[0], 5.0)
    assert seen == [("fp8",)]
    default = validated(ScenarioSpec, _with(LLM), "s.yaml", "scenario").services[-1]
    assert default.dtypes == ["bf16", "fp8"]  # serve-plan's default --dtypes


def test_dtype_on_an_llm_service_is_refused_not_ignored() -> None:
    with pytest.raises(InputError, match=r"an llm service takes dtypes .*not dtype 'fp8'"):
        validated(ScenarioSpec, _with({**LLM, "dtype": "fp8"}), "s.yaml", "scenario")


def test_dtypes_on_a_training_service_is_refused_not_ignored() -> None:
    training = {"name": "t", "kind": "training", "model": "llama3-8b", "tokens": "1T", "deadline": "30d",
                "dtypes": ["fp8"]}
    with pytest.raises(InputError, match="dtypes is an llm service's field"):
        validated(ScenarioSpec, _with(training), "s.yaml", "scenario")
