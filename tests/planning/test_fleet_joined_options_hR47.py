"""hR47 (session 45 review): units of two of one pool's options (the whole-rate answer's and a finer one,
`fleet_mix_llm.finer_options`) given to one LLM service are one share, searched again within all their accelerators
(`fleet_mix._joined`, `fleet_mix_llm.llm_shares`): one row, its rate the service's part of the demand.

No test of hC48's reached that branch (its hand case takes one option per pool), so the join could be dropped, its
share mis-scaled or its search limited to one option's accelerators with every test passing. Hand case, serve-plan
stubbed: R = 30 requests/s on pool `b` (H200); at 30 one unit of 32 devices, at 15 one of 16, at 7.5 one of 8.
The MILP is bypassed: 1 whole-rate unit and 1 unit at 15 give 45 requests/s of capacity, so the one row serves the
demand, 30 = 30 x 45 / 45, searched within 32 + 16 = 48 devices (the stub answers 32 at any rate above 15).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np

from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix import _assignment
from infraplan.planning.fleet_mix_llm import finer_options, llm_option
from infraplan.planning.fleet_spec import FleetSpec

SERVICE = {"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 30}
SEEN: list[tuple[float, int]] = []  # (rate, limit) of every search the stub answered


def _answer(gpus: int, replicas: int, pp: int = 1, prefill: int | None = None) -> SimpleNamespace:
    layout = SimpleNamespace(tp=8, pp=pp, attention_dp=1)
    dep = SimpleNamespace(replicas=replicas, tp=8, pp=pp, ep=1, attention_dp=1, dtype="fp8", kv_dtype="fp8",
                          max_batch=64, disaggregated=prefill is not None, prefill_replicas=prefill,
                          decode_replicas=None if prefill is None else replicas - prefill, prefill=layout,
                          decode=layout)
    serve = SimpleNamespace(ttft_s=SimpleNamespace(p99=0.1), tpot_s=SimpleNamespace(p99=0.01), joules_per_token=1.0)
    return SimpleNamespace(feasible=True, gpus=gpus, deployment=dep, serve=serve, meets_slo_full_run=True,
                           accelerator="gpu", stack="vllm-0.x", why=None)


def _search(model: str, system: str, rate: float, *rest: Any) -> SimpleNamespace:
    SEEN.append((rate, rest[-1]))
    if rest[-1] < 32 and rate > 15:
        return SimpleNamespace(feasible=False, gpus=None, deployment=None, serve=None, why="none fits")
    if rate > 15:  # 1 prefill + 3 decode TP8 replicas: one unit
        return _answer(32, 4, prefill=1)
    return _answer(16, 1, 2) if rate > 7.5 else _answer(8, 1)


def _priced(opt: dict[str, Any]) -> dict[str, Any]:
    return {**opt, "cost": {"power_w": 1000.0, "tco_usd_per_year": 1.0, "usd_per_device_hour": 1.0}}


def test_two_options_of_one_pool_are_one_share_searched_within_all_their_devices(monkeypatch) -> None:
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _search)
    spec = FleetSpec.model_validate({"services": [SERVICE], "pools": [{"name": "b", "device": "h200"}]})
    svc = spec.services[0]
    whole = llm_option(svc, "h200", "gpu")
    half = finer_options(svc, "h200", "gpu", "b", None, whole)[0]
    assert (whole["capacity"], whole["unit_devices"], half["capacity"], half["unit_devices"]) == (30, 32, 15, 16)
    SEEN.clear()
    rows = _assignment(spec, [(0, 0, _priced(whole)), (0, 0, _priced(half))], np.array([1.0, 1.0]))
    assert len(rows) == 1  # one deployment, not a row per option
    (row,) = rows
    assert row["served"] == 30.0  # the demand: 30 x (30 + 15) / 45
    assert row["devices"] == 32  # the search's answer within the 48, not 32 + 16
    assert SEEN == [(30.0, 48)]  # one search, at the share, within both options' accelerators
    assert "--max-gpus 48" in row["serve_plan"] and "--rate 30" in row["serve_plan"]


def test_a_single_option_of_a_pool_keeps_its_own_row(monkeypatch) -> None:
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _search)
    spec = FleetSpec.model_validate({"services": [SERVICE], "pools": [{"name": "b", "device": "h200"}]})
    whole = llm_option(spec.services[0], "h200", "gpu")
    rows = _assignment(spec, [(0, 0, _priced(whole))], np.array([1.0]))
    assert [(r["served"], r["devices"]) for r in rows] == [(30.0, 32)]  # the whole-rate answer as it stands
