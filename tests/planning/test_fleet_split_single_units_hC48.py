"""hC48 (session 45): fleet-mix splits an LLM service over pools whose whole-rate answers are single units
(`fleet_mix_llm.finer_options`): a pool whose unit serves more than a quarter of the rate also offers serve-plan's
answers at half, a quarter ... of it, so the MILP can give it part of the service.

Hand-solvable case (serve-plan stubbed, the service at R = 30 requests/s, objective power):
- H100 (pool `a`, 8 available): a TP8 replica serves 20 requests/s, so the answer at 30 is 2 replicas (16 devices),
  the MILP's unit 15 requests/s on 8 devices; `a` holds one unit, half the service (1.5 of its units are needed).
- H200 (pool `b`): at 30 a disaggregated 1 prefill + 3 decode TP8 deployment (32 devices; 1:3 has no smaller group,
  one unit); at 15 one TP8 PP2 replica (16 devices); at 7.5 one TP8 replica (8 devices).
Before, `b`'s only unit was the whole 30 on 32 devices: the MILP bought 32 H200 (a's 15 beside it is idle), and
with `b` limited to 16 devices no answer at all. Now: `a` serves 15 on 8 H100 and `b` the other 15 on 16 H200.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest

from infraplan.errors import InputError
from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_mix_llm import finer_options, llm_option
from infraplan.planning.fleet_spec import FleetSpec

SERVICE = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 30}


def _layout(tp: int, pp: int = 1) -> SimpleNamespace:
    return SimpleNamespace(tp=tp, pp=pp, attention_dp=1)


def _answer(gpus: int, replicas: int, tp: int, pp: int = 1, prefill: int | None = None,
            max_gpus: int = 10**6) -> SimpleNamespace:
    if gpus > max_gpus:
        return SimpleNamespace(feasible=False, gpus=None, deployment=None, serve=None, why="none fits")
    dep = SimpleNamespace(replicas=replicas, tp=tp, pp=pp, ep=1, attention_dp=1, dtype="fp8", kv_dtype="fp8",
                          max_batch=64, disaggregated=prefill is not None, prefill_replicas=prefill,
                          decode_replicas=None if prefill is None else replicas - prefill,
                          prefill=_layout(tp, pp), decode=_layout(tp, pp))
    serve = SimpleNamespace(ttft_s=SimpleNamespace(p99=0.1), tpot_s=SimpleNamespace(p99=0.01), joules_per_token=1.0)
    return SimpleNamespace(feasible=True, gpus=gpus, deployment=dep, serve=serve, meets_slo_full_run=True,
                           accelerator="gpu", stack="vllm-0.x", why=None)


def _search(model: str, system: str, rate: float, *rest: Any) -> SimpleNamespace:
    max_gpus = rest[-1]
    if system == "h100-sxm":  # 20 requests/s per TP8 replica
        replicas = math.ceil(rate / 20 - 1e-9)
        return _answer(8 * replicas, replicas, 8, max_gpus=max_gpus)
    if rate > 15:  # up to 30: 1 prefill + 3 decode TP8 replicas, one unit
        return _answer(32, 4, 8, prefill=1, max_gpus=max_gpus)
    return _answer(16, 1, 8, 2, max_gpus=max_gpus) if rate > 7.5 else _answer(8, 1, 8, max_gpus=max_gpus)


def _fleet(b_available: int | None) -> FleetSpec:
    pools = [{"name": "a", "device": "h100-sxm", "available": 8},
             {"name": "b", "device": "h200", "available": b_available}]
    return FleetSpec.model_validate({"services": [SERVICE], "pools": pools})


def _devices(r: Any) -> dict[str, int]:
    return {p.pool: p.used for p in r.pools if p.used}


def test_a_single_unit_pool_offers_its_answers_at_half_and_a_quarter_of_the_rate(monkeypatch) -> None:
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _search)
    svc = _fleet(None).services[0]
    whole = llm_option(svc, "h200", "gpu")
    assert (whole["units"], whole["unit_devices"], whole["capacity"]) == (1, 32, 30)
    finer = finer_options(svc, "h200", "gpu", "b", None, whole)
    assert [(o["rate"], o["units"], o["unit_devices"], o["capacity"]) for o in finer] == [(15, 1, 16, 15),
                                                                                        (7.5, 1, 8, 7.5)]
    h100 = llm_option(svc, "h100-sxm", "gpu")  # 2 units of 8 devices at 15: no halving gives a smaller unit
    assert (h100["units"], h100["unit_devices"]) == (2, 8) and finer_options(svc, "h100-sxm", "gpu", "a", None,
                                                                             h100) == []


def test_a_service_splits_over_two_pools_when_cheaper_and_where_no_single_pool_fits(monkeypatch) -> None:
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _search)
    monkeypatch.setattr(fleet_mix_llm, "FINER_HALVINGS", 0)  # the rule before: whole-rate units only
    assert _devices(plan_fleet(_fleet(None))) == {"b": 32}
    with pytest.raises(InputError, match="infeasible"):
        plan_fleet(_fleet(16))
    monkeypatch.undo()
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _search)
    for b_available in (None, 16):
        r = plan_fleet(_fleet(b_available))
        assert _devices(r) == {"a": 8, "b": 16}
        served = {a["pool"]: a["served"] for a in r.assignment}
        assert served == {"a": pytest.approx(15), "b": pytest.approx(15)}
        assert all("whole-rate" not in a.get("note", "") for a in r.assignment)  # each row a searched answer
