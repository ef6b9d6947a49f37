"""The web sizes fleet-mix and plan jobs by the serve-plan searches they may run (hS48, session 45): an LLM service
on a pool that runs LLM serving searches its whole rate and, where the answer is coarse, up to FINER_HALVINGS finer
rates (`fleet_mix_llm.finer_units`, hC48); a CPU or video-ASIC pool is refused without a search. Before, the web
counted one search per LLM service x pool, Xeon and MSVP pools included, and none of the halvings; a fleet-mix
job's progress moved one step per pair however many searches the pair ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.planning.test_fleet_split_single_units_hC48 import _fleet, _search

from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix import llm_searches, plan_fleet
from infraplan.planning.fleet_mix_llm import FINER_HALVINGS, LLM_SEARCHES_MOST
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.web.fleet_mix import FleetInput, FleetMixRequest, fleet_work, is_long
from infraplan.web.scenarios import work_units

ROOT = Path(__file__).resolve().parents[2]
RANK = {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}


def test_the_shipped_fleet_counts_its_two_llm_pools_searches() -> None:
    """examples/fleet-mix.yaml: 5 services x 4 pools; its LLM service searches on MTIA v2 and H100 only (Xeon is a
    CPU, MSVP a video ASIC), each at its rate and up to 5 halvings: 2 x 6 = 12."""
    spec = FleetSpec.model_validate(yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text("utf-8")))
    assert LLM_SEARCHES_MOST == 1 + FINER_HALVINGS == 6
    assert fleet_work(spec) == (20, 12)
    only_cpu = spec.model_copy(update={"pools": [p for p in spec.pools if p.name in ("xeon", "msvp")]})
    assert fleet_work(only_cpu) == (10, 0)  # no search: answered inline
    assert not is_long(FleetMixRequest(fleet=FleetInput(spec=only_cpu.model_dump(exclude_none=True))))


def test_progress_counts_the_searches_and_the_bound_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """hC48's stubbed fleet (one LLM service on H100 and H200) with a ranking service beside it: each LLM pair is 6
    steps (its most searches), each ranking pair one. By hand: the H100 pair runs all 6 (30 requests/s is 2 TP8
    replicas of 15; every halving is one TP8 replica, never fewer devices, so the halving goes on to 30 / 32), the
    H200 pair 3 (30, 15, 7.5: the unit at 7.5 serves a quarter of the rate)."""
    searched: list[tuple[str, float]] = []

    def counted(model: str, system: str, rate: float, *rest: Any) -> Any:
        searched.append((system, rate))
        return _search(model, system, rate, *rest)

    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", counted)
    fleet = _fleet(None)
    spec = fleet.model_copy(update={"services": [*fleet.services, FleetSpec.model_validate(
        {"services": [RANK], "pools": [{"name": "x", "device": "h100-sxm"}]}).services[0]]})
    assert llm_searches(spec) == [6, 6, 0, 0]
    seen: list[tuple[int, int]] = []
    plan_fleet(spec, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(0, 14), (6, 14), (12, 14), (13, 14), (14, 14)]  # (0: the sizing begins, hR77)
    sizing = searched[:9]  # then the MILP's share re-searches (not counted before the run)
    assert sizing == [("h100-sxm", 30 / 2**k) for k in range(6)] + [("h200", 30), ("h200", 15), ("h200", 7.5)]


def test_a_plans_llm_pairs_count_their_searches() -> None:
    """One LLM service on one GPU pool for one phase was 1 unit (run inline); it may run 6 searches (a job, as a
    web serve-plan is). A pool that serves no LLM, or a CPU pool, counts one sizing."""
    def spec(pools: list[dict[str, Any]]) -> ScenarioSpec:
        return ScenarioSpec.model_validate({
            "name": "w", "phases": [{"name": "a", "year": 2026}, {"name": "b", "year": 2027}],
            "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 5}, RANK],
            "pools": pools, "sites": [{"name": "s", "power": "10MW"}]})

    gpu = {"name": "g", "device": "h100-sxm", "site": "s"}
    assert work_units(spec([gpu])) == (6 + 1) * 2
    assert work_units(spec([gpu, {"name": "c", "device": "xeon-8480", "site": "s"}])) == (6 + 1 + 1 + 1) * 2
    assert work_units(spec([{**gpu, "serves": ["recsys"]}])) == (1 + 1) * 2
