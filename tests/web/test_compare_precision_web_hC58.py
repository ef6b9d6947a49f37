"""The web's compare carries `compare`'s precision lines and like-for-like numbers (hC58: one answer through the
CLI, the API and the page; planning/compare_precision.py). The serve-plan searches are stubbed as in
tests/planning/test_compare_precision_hC58.py: the rule, not the search, is tested."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_jobs import finished

from infraplan.planning import scenario_sizing
from infraplan.planning.compare import compare_scenarios
from infraplan.planning.llm_precision import runnable_dtypes
from infraplan.planning.scenario_spec import ScenarioSpec


def _scenario(name: str, device: str) -> dict[str, Any]:
    return {"name": name, "phases": [{"name": "2026", "year": 2026}],
            "services": [{"name": "chat", "kind": "llm", "model": "llama3-70b", "workload": "chat", "rate": 50,
                          "stack": "vllm-0.x"}],
            "pools": [{"name": name, "device": device, "site": "ohio", "price_usd_per_device": 30000}],
            "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}]}


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> None:
    def search(model: str, system: str, rate: float, workload: str, ttft: Any, tpot: Any,
               dtypes: tuple[str, ...], stack: str | None, *_: Any) -> Any:
        runs = runnable_dtypes(dtypes, system, stack)[0]
        dtype = "fp8" if "fp8" in runs else runs[0]
        n = 8 if dtype == "fp8" else 16
        dep = SimpleNamespace(replicas=n, tp=1, pp=1, dtype=dtype, kv_dtype=dtype, max_batch=64, disaggregated=False,
                              attention_dp=1, prefill=None, decode=None, prefill_replicas=0, decode_replicas=0)
        return SimpleNamespace(feasible=True, gpus=n, deployment=dep, serve=None, slo=None, why=None,
                               meets_slo_full_run=True)

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", search)


def test_the_web_compare_carries_the_precision_lines_and_the_like_for_like_plan(stub: None,
                                                                                client: TestClient) -> None:
    body = {"scenarios": [{"spec": _scenario("mtia", "mtia-400-rack")}, {"spec": _scenario("gb200", "gb200-nvl72")}]}
    web = finished(client, client.post("/api/compare", json=body))
    cli = compare_scenarios([ScenarioSpec.model_validate(s["spec"]) for s in body["scenarios"]])
    assert web["like_for_like_dtypes"] == {"chat": ["bf16"]} and len(web["precision_notes"]) == 3
    assert web["precision_notes"] == cli.precision_notes and web["like_for_like"] == cli.like_for_like
    assert [s["services"][0]["precision"] for s in web["scenarios"]] == [
        "bf16 weights and activations, bf16 KV", "fp8 weights and activations (W8A8), fp8 KV"]


def test_the_compare_page_renders_them(client: TestClient) -> None:
    html = client.get("/compare").text
    assert 'ul.id = "precision-notes"' in html and "c.like_for_like" in html
