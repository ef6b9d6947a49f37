"""A plan's `cost_reason` names every phase's pools without a price (hK2, session 77): it named the last phase's
only, while capex_usd (the phases' spend summed) is null where any phase has one; a pool that left before the last
phase (its installed base retired) made capex null with no reason given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infraplan.cli import main
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

REASON = "pool 'gb': the catalog has no price for gb300; give price_usd_per_device"


def _spec() -> ScenarioSpec:
    """72 GB300 (no catalog price) installed in 2026 retire at 3 years; H100 take over in 2030."""
    return ScenarioSpec.model_validate({
        "name": "old-gb300", "phases": [{"name": "2026", "year": 2026}, {"name": "2028", "year": 2028},
                                        {"name": "2030", "year": 2030}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": "100M", "latency_slo": "10ms"}],
        "pools": [{"name": "gb", "device": "gb300", "system": "gb300-nvl72", "site": "a", "installed": 72,
                   "available": 72, "lifetime_years": 3},
                  {"name": "h100", "device": "h100-sxm", "site": "a"}],
        "sites": [{"name": "a", "power": "10MW", "location": "ohio"}], "policy": {"objective": "power"}})


def test_an_earlier_phase_s_unpriced_pool_is_named() -> None:
    plan = plan_scenario(_spec())
    gb = [r for r in plan.pools if r.pool == "gb"]
    assert [(r.phase, r.devices, r.retired_devices) for r in gb] == [("2026", 72, 0), ("2028", 72, 0),
                                                                       ("2030", 0, 72)]
    assert [ph.capex_usd is None for ph in plan.phases] == [True, True, False]
    assert plan.capex_usd is None  # an earlier phase has no price ...
    assert plan.fleet_value_usd is not None and plan.tco_usd_per_year is not None  # ... the last is priced
    assert plan.cost_reason == f"{REASON} (in 2026, 2028: capex only)"  # was None
    assert plan.capex_unpriced_parts == ["servers of pool gb (gb300)"]


def test_a_last_phase_s_unpriced_pool_keeps_its_reason() -> None:
    """hK77's scenario (GB300 bought in the last phase): the reason as before, without phases."""
    from tests.planning.test_plan_priced_parts_hK77 import _spec as bought

    plan = plan_scenario(bought())
    assert plan.tco_usd_per_year is None and plan.cost_reason == REASON


def test_plan_text_says_capex_alone_is_not_priced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.json"
    path.write_text(_spec().model_dump_json())
    assert main(["plan", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cost_reason"].startswith(REASON)
    assert main(["plan", str(path)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"capex not priced: {REASON} (in 2026, 2028: capex only)" in text and "capex and TCO not" not in text
