"""Mutants of hF60's replicas-and-devices words and hE60's share search (`fleet_mix_llm.deployment_short`,
`_share_search`; hM, session 60): one replica is said as one, attention DP counts in a replica's devices, and a share
serve-plan finds nothing for says serve-plan's own why."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix_llm import deployment_short, llm_option, llm_share
from infraplan.planning.fleet_spec import FleetSpec


def test_one_replica_is_said_as_one() -> None:
    one, two = deployment_short(1, 8, 1, "fp8", 8), deployment_short(2, 8, 1, "fp8", 16)
    assert one.startswith("1 replica of TP8 PP1 fp8 (") and "8 devices each, 8 in all" in one
    assert two.startswith("2 replicas of TP8 PP1 fp8 (") and "8 devices each, 16 in all" in two
    assert "1 device each" in deployment_short(4, 1, 1, "fp8", 4)


def test_attention_dp_counts_in_a_replicas_devices() -> None:
    """DeepSeek-style attention DP 8 x TP 1: each replica spans 8 devices (TP x PP x attention DP)."""
    short = deployment_short(2, 1, 1, "fp8", 16, attention_dp=8)
    assert "DP-attention8" in short and "8 devices each, 16 in all" in short
    assert "(18 devices in all)" in deployment_short(2, 1, 1, "fp8", 18, attention_dp=8)  # unequal: the total alone


def _answer(feasible: bool) -> SimpleNamespace:
    layout = SimpleNamespace(tp=2, pp=1, attention_dp=1)
    dep = SimpleNamespace(replicas=6, tp=2, pp=1, ep=1, attention_dp=1, dtype="fp8", kv_dtype="fp8", max_batch=64,
                          disaggregated=True, prefill_replicas=4, decode_replicas=2, prefill=layout, decode=layout)
    serve = SimpleNamespace(ttft_s=SimpleNamespace(p99=0.1), tpot_s=SimpleNamespace(p99=0.01), joules_per_token=1.0)
    return SimpleNamespace(feasible=feasible, gpus=12 if feasible else None, deployment=dep if feasible else None,
                           serve=serve if feasible else None, meets_slo_full_run=True, accelerator="h100-sxm",
                           stack="vllm-0.x", why=None if feasible else "no layout meets the 200 ms TTFT SLO")


def test_a_share_serve_plan_finds_nothing_for_says_its_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", lambda *a: _answer(True))
    svc = FleetSpec.model_validate({"services": [{"name": "chat", "kind": "llm", "model": "llama3-8b",
                                                  "workload": "chat", "rate": 60, "stack": "vllm-0.x"}],
                                    "pools": [{"name": "h", "device": "h100-sxm"}]}).services[0]
    opt = llm_option(svc, "h100-sxm", "gpu")
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", lambda *a: _answer(False))
    _, row = llm_share(svc, "h100-sxm", opt, 1, 25.0)
    assert "within 6 accelerators (no layout meets the 200 ms TTFT SLO)" in row["note"]


def _colocated() -> SimpleNamespace:
    dep = SimpleNamespace(replicas=4, tp=2, pp=1, ep=1, attention_dp=1, dtype="fp8", kv_dtype="fp8", max_batch=64,
                          disaggregated=False, prefill_replicas=None, decode_replicas=None, prefill=None, decode=None)
    return SimpleNamespace(**{**vars(_answer(True)), "gpus": 8, "deployment": dep, "slo": None})


@pytest.mark.parametrize("answer", ["disaggregated", "colocated"])
def test_a_plan_units_replicas_add_up_to_the_answers(monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    """4 prefill + 2 decode TP2 replicas on 12 devices split into 2 groups of 2 + 1; 4 TP2 replicas on 8 devices
    into 4 units of one: each unit's replicas x the units = the answer's replicas."""
    from infraplan.planning import scenario_sizing
    from infraplan.planning.scenario_spec import PoolSpec

    r = _colocated() if answer == "colocated" else SimpleNamespace(**{**vars(_answer(True)), "slo": None})
    monkeypatch.setattr(scenario_sizing, "serve_plan_search", lambda *a: r)
    svc = FleetSpec.model_validate({"services": [{"name": "chat", "kind": "llm", "model": "llama3-8b",
                                                  "workload": "chat", "rate": 60}],
                                    "pools": [{"name": "h", "device": "h100-sxm"}]}).services[0]
    sized = scenario_sizing.size_llm(svc, PoolSpec(name="h", device="h100-sxm", site="s"), 60.0)  # type: ignore[arg-type]
    assert not isinstance(sized, str) and not sized.whole
    units = r.gpus // sized.unit_devices
    assert units > 1 and sized.unit_replicas is not None and sized.unit_replicas * units == r.deployment.replicas


def test_fleet_mix_says_an_attention_dp_replicas_devices(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """fleet-mix's operating-point column: 2 replicas of attention DP 8 x TP 1 on 16 devices are 8 devices each."""
    from infraplan.cli.commands.fleet_mix import render_fleet
    from infraplan.planning.fleet_mix import plan_fleet

    dep = SimpleNamespace(replicas=2, tp=1, pp=1, ep=8, attention_dp=8, moe_tp=1, dtype="fp8", kv_dtype="fp8",
                          max_batch=64, disaggregated=False, prefill_replicas=None, decode_replicas=None, prefill=None,
                          decode=None)
    answer = SimpleNamespace(**{**vars(_answer(True)), "gpus": 16, "deployment": dep, "slo": None})
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", lambda *a: answer)
    monkeypatch.setenv("COLUMNS", "250")
    render_fleet(plan_fleet(FleetSpec.model_validate({
        "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 60,
                      "stack": "vllm-0.x"}], "pools": [{"name": "h", "device": "h100-sxm"}]})))
    row = next(line for line in capsys.readouterr().out.splitlines() if "DP-attention8 fp8 (" in line)
    assert "2 replicas of TP1 PP1 DP-attention8 fp8 (8 devices each, 16 in all)" in row
