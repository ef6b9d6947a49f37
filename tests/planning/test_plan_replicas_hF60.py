"""hF (session 60): `plan`'s LLM row names serve-plan's replicas and its devices both, in the text and the JSON.
Before, the detail read "replicas of serve-plan's 158 x TP1 PP4 fp8" (158 replicas of 4 GPUs, read as 158 GPUs) and
the row's JSON had `devices` only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.planning.conftest import plan_cli, stub_colocated_answer

SPEC = {"name": "chat", "phases": [{"name": "2025", "year": 2025}],
        "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 1.0},
                     {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "2M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "a"}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "tco"}}


def test_the_llm_row_names_its_replicas_and_devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    stub_colocated_answer(monkeypatch)  # serve-plan's answer: 4 replicas of TP4 PP2 bf16, 32 GPUs
    rc, out = plan_cli(SPEC, tmp_path, capsys)
    assert rc == 0, out
    rows = {r["service"]: r for r in json.loads(out)["services"]}
    chat, rank = rows["chat"], rows["rank"]
    assert (chat["devices"], chat["replicas"]) == (32, 4) and rank["replicas"] is None
    assert "4 replicas of TP4 PP2 bf16 (8 devices each, 32 in all)" in chat["detail"]
