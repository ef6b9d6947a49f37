"""Shared helpers of the planning tests."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infraplan.planning import scenario_sizing


def stub_colocated_answer(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """serve-plan's answer stubbed for `scenario_sizing.size_llm`: 4 colocated replicas of TP4 PP2 bf16 (32 GPUs,
    batch <= 128); gives its deployment, which a test may turn disaggregated."""
    dep = SimpleNamespace(replicas=4, tp=4, pp=2, dtype="bf16", max_batch=128, disaggregated=False,
                          prefill_replicas=1, decode_replicas=3, attention_dp=1, prefill=None, decode=None)
    answer = SimpleNamespace(feasible=True, gpus=32, deployment=dep, serve=None, slo=None, why=None)
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a, **k: answer)
    return dep
