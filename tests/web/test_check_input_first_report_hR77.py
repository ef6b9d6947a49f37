"""hR77: `jobs.check_input` (hB77) runs a job's command in the HTTP request's thread up to its first progress report;
each job command reports before its heavy work, so the check reads and checks the input and stops there.

On the lead's 140afb5b two commands reported only after heavy work, which the request then ran whole and the job ran
again: serve-plan's first report came after its first PP level's layouts were built (every layout's offline peak:
deepseek-v3 on gb200-nvl72 at fp8 and nvfp4 with MTP tried, 9.1 s CPU / 22.5 s wall in the request on the shared
2-core VM), and fleet-mix's after its first (service, pool) pair was sized (an LLM service listed first: its
serve-plan searches, 1.5 s CPU). Each test below failed there: the stand-in for the heavy work was called."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

import infraplan.serving.capacity as capacity
from infraplan.errors import InputError
from infraplan.planning import fleet_mix_llm
from infraplan.web import jobs
from infraplan.web.fleet_mix import FleetMixRequest
from infraplan.web.requests import ServePlanRequest

ROOT = Path(__file__).resolve().parents[2]


class _HeavyWork(Exception):
    """Raised by the stand-in for a command's heavy work (`check_input` takes it for a model bug: None)."""


def _heavy(calls: list[str], what: str) -> Any:
    def stand_in(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(what)
        raise _HeavyWork(what)
    return stand_in


def test_serve_plan_is_checked_before_its_first_layout_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(capacity, "candidate_for", _heavy(calls, "a layout's candidate"))
    request = ServePlanRequest(model="deepseek-v3", system="gb200-nvl72", rate=50.0, workload="chat",
                               dtypes=["fp8", "nvfp4"], try_speculative=True)
    assert jobs.check_input(request) is None  # passed: the job runs it
    assert calls == []  # stopped at the first level's start, no layout built in the request


def test_serve_plans_first_tick_is_its_first_levels_start(monkeypatch: pytest.MonkeyPatch) -> None:
    ticks: list[tuple[str, float, float]] = []
    monkeypatch.setattr(capacity, "candidate_for", _heavy([], "a layout's candidate"))
    with pytest.raises(_HeavyWork):
        capacity.search_capacity("llama3-8b", "dgx-h100-superpod", 20.0, workload="chat", max_gpus=64,
                                 progress=lambda *t: ticks.append(t))
    assert ticks == [("PP1: layouts", 0.0, 4)]  # told before the layouts' offline peaks (none before, 140afb5b)


def test_fleet_mix_is_checked_before_its_first_pair_is_sized(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped example with its LLM service and its H100 pool first: the first pair is an LLM search."""
    fleet = yaml.safe_load((ROOT / "examples" / "fleet-mix.yaml").read_text())
    spec = copy.deepcopy(fleet)
    spec["services"] = sorted(fleet["services"], key=lambda s: s["kind"] != "llm")
    spec["pools"] = sorted(fleet["pools"], key=lambda p: p["name"] != "h100")
    calls: list[str] = []
    monkeypatch.setattr(fleet_mix_llm, "serve_plan_search", _heavy(calls, "an LLM pair's search"))
    assert jobs.check_input(FleetMixRequest(fleet={"spec": spec})) is None
    assert calls == []  # (140afb5b: the first pair's searches ran in the request, then again in the job)
    bad = copy.deepcopy(spec)
    bad["services"][0]["model"] = "no-such-model"
    with pytest.raises(InputError, match="unknown model 'no-such-model'"):  # still a 400, before any sizing
        jobs.check_input(FleetMixRequest(fleet={"spec": bad}))
