"""Issue 18: `validate` parses each case file once and builds each inference case's iteration-cost table once per
report; the memos hand out copies and change no input of the simulation."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.validation import inference, runner


def test_case_files_parse_once_and_hand_out_copies():
    first = inference.load_inference_cases()
    first["cases"][0]["published"] = -1.0
    first["engine"]["front_end"] = "mutated"
    again = inference.load_inference_cases()
    assert again["cases"][0]["published"] > 0 and again["engine"]["front_end"] is False
    assert inference._parsed_case_file.cache_info().hits >= 1
    cases = runner.load_cases()
    cases[0]["published"] = -1.0
    assert runner.load_cases()[0]["published"] > 0


def _record(monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[Any]]:
    """Stub the simulator (record the cost it is handed) and count the iteration-cost builds."""
    built: list[Any] = []
    handed: list[Any] = []
    real_build = inference.build_iteration_cost

    def build(*args: Any, **kwargs: Any) -> Any:
        built.append(real_build(*args, **kwargs))
        return built[-1]

    def simulate(*args: Any, cost: Any = None, **kwargs: Any) -> dict[str, Any]:
        handed.append(cost)
        return {"requests_per_s": 1.0, "duration_s": 600.0}  # one pass already as long as an MLPerf run

    monkeypatch.setattr(inference, "build_iteration_cost", build)
    monkeypatch.setattr(inference, "simulate_deployment", simulate)
    return built, handed


def test_one_cost_table_per_deployment_and_none_without_a_memo(monkeypatch):
    built, handed = _record(monkeypatch)
    data = inference.load_inference_cases()
    case = next(c for c in data["cases"] if c["scenario"] == "server")
    memo: dict[str, dict[str, Any]] = {}
    for rate in (None, 2.0, 4.0):  # the offline run and two bisection probes: one deployment, one table
        inference._simulate(case, data["engine"], data["workloads"], rate, inference._costs(memo))
    assert len(built) == 1 and all(cost is built[0] for cost in handed)
    other = {**case, "deployment": {**case["deployment"], "tp": case["deployment"].get("tp", 1) * 2}}
    inference._simulate(other, data["engine"], data["workloads"], None, inference._costs(memo))
    assert len(built) == 2 and handed[-1] is built[1]  # another deployment: its own table
    inference._simulate(case, data["engine"], data["workloads"], None)
    assert handed[-1] is None and len(built) == 2  # no memo: simulate_deployment builds its own, as before
