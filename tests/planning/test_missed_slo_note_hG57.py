"""`plan` and `fleet-mix` say where the serve-plan answer a row names misses its SLOs over its whole run.

serve-plan answers a miss (its probes met the SLOs, no whole run of the search did: `meets_slo_full_run` false, `why`
the reason) only when nothing better is found, and warns. `plan` and `fleet-mix` took such an answer as a sizing
option and named the deployment with no word: the row showed a positive SLO headroom (hG57 found the case with
gigawatt-2027's 2027 chat searched within 576 GB300: 441 prefill + 103 decode, TTFT p99 1.73 s of 2 s over 100,000
requests, its decode queue unsettled). Now the plan's notes and the fleet-mix row's `note` carry
`fleet_mix_llm.missed_slo_note`. The miss is forced as hF52's test forces it (no whole run may settle), so every
whole run misses; without it, the same search meets and no line is added."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infraplan.planning import fleet_mix_llm
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import size_llm
from infraplan.planning.scenario_spec import load_scenario
from infraplan.serving import capacity, capacity_horizon

SCENARIO = """name: missed
phases: [{name: "2025", year: 2025}]
services:
  - {name: chat, kind: llm, model: llama3-8b, workload: chat, rate: 20}
pools:
  - {name: h100, device: h100-sxm, system: dgx-h100-superpod, site: ohio}
sites:
  - {name: ohio, power: 10MW, location: ohio}
"""


def _clear() -> None:
    capacity.clear_caches()
    fleet_mix_llm.serve_plan_search.cache_clear()


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "missed.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture
def whole_runs_miss(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every pool's queue 'does not settle' (hF52's reproducer): every whole run of the search misses."""
    monkeypatch.setattr(capacity_horizon, "HORIZON_MAX_REQUESTS", 0)
    _clear()
    yield
    _clear()


def test_a_missed_answer_is_said_by_both_planners(spec_file: Path, whole_runs_miss: None) -> None:
    spec = load_scenario(spec_file)
    svc, pool = spec.services[0], spec.pools[0]
    sized = size_llm(svc, pool, 20.0)
    assert not isinstance(sized, str)
    assert len(sized.notes) == 1 and "misses its SLOs over its whole run" in sized.notes[0]
    assert "does not settle" in sized.notes[0] and "are not shown met" in sized.notes[0]
    option = fleet_mix_llm.llm_option(svc, "dgx-h100-superpod", "gpu", "h100")
    assert option["detail"]["meets_slo_full_run"] is False
    assert option["detail"]["note"] == sized.notes[0]  # one line, both planners
    plan = plan_scenario(spec)
    assert any(note.startswith("chat on h100: serve-plan's answer") and "misses its SLOs" in note
               for note in plan.notes)


def test_a_met_answer_adds_no_line(spec_file: Path) -> None:
    _clear()
    spec = load_scenario(spec_file)
    sized = size_llm(spec.services[0], spec.pools[0], 20.0)
    assert not isinstance(sized, str) and sized.notes == ()
    option = fleet_mix_llm.llm_option(spec.services[0], "dgx-h100-superpod", "gpu", "h100")
    assert option["detail"]["meets_slo_full_run"] is True and "note" not in option["detail"]
