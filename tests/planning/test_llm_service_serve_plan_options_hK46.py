"""An LLM service of `plan` and `fleet-mix` takes serve-plan's KV-cache dtype and drafts (`kv_dtype`,
`speculative_tokens`, `acceptance`, `try_speculative`; hK46, session 45), passes them to the one search both run
(`fleet_mix_llm.serve_plan_search`), names them in the serve-plan line a row gives, and a service of another kind
that names one is refused (read by nothing)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.conftest import cli_json

from infraplan.catalog.loader import validated
from infraplan.errors import InputError
from infraplan.planning import scenario_sizing
from infraplan.planning.fleet_mix_llm import llm_options, serve_plan_command, serve_plan_search
from infraplan.planning.fleet_spec import ServiceSpec as FleetService
from infraplan.planning.scenario_spec import ScenarioSpec

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = yaml.safe_load((ROOT / "examples" / "plan-minimal.yaml").read_text(encoding="utf-8"))
LLM = {"name": "chat", "kind": "llm", "model": "deepseek-r1", "workload": "chat", "rate": 5}


def _with(service: dict[str, Any]) -> dict[str, Any]:
    return {**SCENARIO, "services": [*SCENARIO["services"], service]}


def test_a_scenario_llm_service_passes_its_options_to_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def search(*args: Any) -> Any:
        seen.append(args[8])  # (model, system, rate, workload, ttft, tpot, dtypes, stack, options, max_gpus)
        raise InputError("stop here")

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)
    spec = validated(ScenarioSpec, _with({**LLM, "kv_dtype": "fp8", "try_speculative": True, "acceptance": 0.9}),
                     "s.yaml", "scenario")
    with pytest.raises(InputError, match="stop here"):
        scenario_sizing.size_llm(spec.services[-1], spec.pools[0], 5.0)
    assert seen == [("fp8", 0, 0.9, True)]
    plain = validated(ScenarioSpec, _with(LLM), "s.yaml", "scenario").services[-1]
    assert llm_options(plain) == (None, 0, None, False)  # serve-plan's defaults


@pytest.mark.parametrize(("field", "value"), [("kv_dtype", "fp8"), ("try_speculative", True),
                                              ("speculative_tokens", 1)])
def test_a_recsys_service_naming_one_is_refused(field: str, value: object) -> None:
    recsys = {"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": 100, "latency_slo": 0.02, field: value}
    with pytest.raises(InputError, match=f"{field} is read by llm services only"):
        validated(ScenarioSpec, _with(recsys), "s.yaml", "scenario")


def test_fleet_mix_rows_line_is_the_search_it_ran(capsys: pytest.CaptureFixture[str]) -> None:
    """The serve-plan line a fleet-mix row names carries the service's options, and its answer is the search's."""
    svc = FleetService.model_validate({"name": "c", "kind": "llm", "model": "llama3-8b", "workload": "chat",
                                       "rate": 2, "dtypes": ["bf16"], "kv_dtype": "fp8", "speculative_tokens": 1,
                                       "acceptance": 0.8})
    line = serve_plan_command(svc, "h100-sxm", 2.0, 8)
    assert "--kv-dtype fp8 --speculative-tokens 1 --acceptance 0.8" in line
    ran = serve_plan_search("llama3-8b", "h100-sxm", 2.0, "chat", None, None, ("bf16",), None, llm_options(svc), 8)
    cli = cli_json(capsys, shlex.split(line)[1:])
    assert ran.deployment is not None and (ran.deployment.kv_dtype, ran.deployment.speculative_tokens) == ("fp8", 1)
    assert cli["gpus"] == ran.gpus and cli["deployment"] == ran.deployment.model_dump(mode="json")
