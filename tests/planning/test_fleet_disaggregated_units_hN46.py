"""hN46 (session 44): fleet-mix's MILP unit of a disaggregated whole-rate answer is a gcd(P, D) group of its P prefill
+ D decode replicas (`fleet_mix_llm.split_units`, the rule `plan` follows, hL47), not one of its P + D replicas.

Before, H100 limited to 4 beside MTIA v2 (chat 8B on vLLM, 200 requests/s) took 4 "replicas" of serve-plan's
5 prefill + 3 decode TP1 answer at 25 requests/s each, and its row read "4 x h100-sxm: 4 replicas of TP1 PP1 ...
(5 prefill + 3 decode replicas, disaggregated)": no search ever ran that, and serve-plan finds nothing for
100 requests/s on 4 H100. 5:3 has no smaller group, so the deployment is one unit of all its accelerators.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_mix_llm import LLM_MAX_GPUS, llm_option, llm_share, split_units
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.serving.capacity import search_capacity

CHAT_8B_VLLM = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 200,
                "stack": "vllm-0.x"}


def _service() -> object:
    return FleetSpec.model_validate({"services": [CHAT_8B_VLLM], "pools": [{"name": "h", "device": "h100-sxm"}]}
                                    ).services[0]


def test_a_disaggregated_answer_with_no_smaller_group_is_one_whole_unit_no_small_pool_splits() -> None:
    """On MTIA v2 (hB47: since serve-plan's probes take the router's share, H100's answer at 200 requests/s is 8
    colocated TP1 replicas, no longer hN45's 5 + 3; MTIA v2's was 7 prefill + 8 decode TP2 PP8, gcd 1, and is 14 + 16
    TP2 PP4 on the same 240 since hB48's retry of a missed layout (the tie to less PP): 2 units of 7 + 8)."""
    whole = search_capacity("llama3-8b", "mtia-v2", 200.0, workload="chat", stack="vllm-0.x", max_gpus=LLM_MAX_GPUS)
    d = whole.deployment
    assert d is not None and whole.gpus is not None and d.disaggregated
    group = math.gcd(d.prefill_replicas, d.decode_replicas)
    opt = llm_option(_service(), "mtia-v2", "asic")
    assert (opt["units"], opt["unit_devices"], opt["capacity"]) == (group, whole.gpus // group,
                                                                      pytest.approx(200.0 / group))
    small = whole.gpus - 40
    pools = [{"name": "h100", "device": "h100-sxm", "available": 4}, {"name": "v2", "device": "mtia-v2",
                                                                      "available": small}]
    r = plan_fleet(FleetSpec.model_validate({"services": [CHAT_8B_VLLM], "pools": pools}))
    # no unit of the whole-rate answer fits in the small pool: its share comes only from a smaller rate's searched
    # answer (hC48: fleet_mix_llm.finer_options), never from part of the whole-rate unit
    assert all(a["devices"] <= small for a in r.assignment if a["pool"] == "v2")
    assert any(a["pool"] == "v2" for a in r.assignment)  # 4 H100 alone do not serve 200 requests/s
    assert sum(a["served"] for a in r.assignment) == pytest.approx(200.0)
    assert not any("whole-rate" in a.get("note", "") for a in r.assignment)


def _layout(tp: int) -> SimpleNamespace:
    return SimpleNamespace(tp=tp, pp=1, attention_dp=1)


def _answer(prefill: int, decode: int, tp: int, gpus: int, feasible: bool = True) -> SimpleNamespace:
    dep = SimpleNamespace(replicas=prefill + decode, tp=tp, pp=1, ep=1, attention_dp=1, dtype="fp8", kv_dtype="fp8",
                          max_batch=64, disaggregated=True, prefill_replicas=prefill, decode_replicas=decode,
                          prefill=_layout(tp), decode=_layout(tp))
    serve = SimpleNamespace(ttft_s=SimpleNamespace(p99=0.1), tpot_s=SimpleNamespace(p99=0.01), joules_per_token=1.0)
    return SimpleNamespace(feasible=feasible, gpus=gpus if feasible else None, deployment=dep if feasible else None,
                           serve=serve if feasible else None, meets_slo_full_run=True, accelerator="h100-sxm",
                           stack="vllm-0.x", why=None if feasible else "none meets the SLOs")


def test_a_share_no_search_meets_keeps_whole_groups_of_the_answer_and_says_so(monkeypatch) -> None:
    """4 prefill + 2 decode TP2 replicas (12 devices) at 60 requests/s: 2 groups of 2 + 1 (6 devices, 30 requests/s
    each). One group given to a pool whose re-search finds nothing stands as that group, said as one."""
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", lambda *a: _answer(4, 2, 2, 12))
    svc = FleetSpec.model_validate({"services": [{**CHAT_8B_VLLM, "rate": 60}],
                                    "pools": [{"name": "h", "device": "h100-sxm"}]}).services[0]
    opt = llm_option(svc, "h100-sxm", "gpu")
    assert (opt["units"], opt["unit_devices"], opt["capacity"]) == (2, 6, pytest.approx(30.0))
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", lambda *a: _answer(0, 0, 2, 0, feasible=False))
    devices, row = llm_share(svc, "h100-sxm", opt, 1, 25.0)
    assert devices == 6 and (row["replicas"], row["prefill_replicas"]) == (3, 2)
    assert row["deployment"].startswith("6 × h100-sxm: 1 group of 2 prefill + 1 decode replicas, disaggregated, of "
                                        "TP2 PP1, fp8 weights")
    assert "(4 prefill" not in row["deployment"] and "2 prefill + 1 decode replicas each, 30 requests/s" in row["note"]


def test_split_units_counts_replicas_or_ratio_groups() -> None:
    colocated = SimpleNamespace(replicas=3, disaggregated=False)
    assert split_units(colocated, 24) == (3, "")  # type: ignore[arg-type]
    assert split_units(colocated, 25)[0] == 1  # type: ignore[arg-type]  # replicas of unequal devices
    assert split_units(_answer(5, 3, 1, 8).deployment, 8)[0] == 1  # type: ignore[arg-type]  # 5:3: no smaller group
    assert split_units(_answer(4, 6, 2, 20).deployment, 20) == (2, "")  # type: ignore[arg-type]  # 2 x (2 + 3)
    assert "do not divide" in split_units(_answer(4, 6, 2, 20).deployment, 22)[1]  # type: ignore[arg-type]
