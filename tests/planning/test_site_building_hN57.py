"""hN (session 57): a refresh reuses the site's building (planning/site_building.py, SITE_BUILDING_REUSE).

hG57's scenario: 49,152 H100 (2024, 69.41 MW IT) retire in 2029H2 at Ohio and 17,412 GB200 (33.67 MW) replace them.
Before, the refresh pool paid the facility again: 2029H2 capex $1,335,584,915 (of which $454.6 M facility), 2031
$27,719,660. Now the building is held at its peak IT, so the GB200 pay servers and network only: $881,018,720 and
$18,391,160 (hK57's hand figures $881.0 M and $18.4 M). Checked failing on the base tree (7d41c70): the first and
third tests (no site rule, no toggle), the second's toggle import.

hN65: the GB200 pools' generic fabric takes its reference system's leaf radix (cluster/generic.py `fabric_radix`),
gb200-nvl72's Quantum-X800 144 ports where it was 72: fewer switches for the 2031 purchase, 2031 $18,391,160 ->
$17,527,160 (toggle off $27,719,660 -> $26,529,068), the capex objective $888,221,080 -> $887,550,400; 2029H2 holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.planning import site_building
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario


def _refresh(objective: str = "tco") -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "meta-refresh",
        "phases": [{"name": "2025", "year": 2025}, {"name": "2027", "year": 2027},
                   {"name": "2029H2", "year": "2029-07"}, {"name": "2031", "year": 2031}],
        "services": [{"name": "pretrain", "kind": "training", "model": "llama3-405b", "tokens": "15.6T",
                      "gpus": 16384, "seq_len": 8192},
                     {"name": "ranking", "kind": "recsys", "model": "dlrm-high", "qps": "200M", "latency_slo": "20ms",
                      "growth": {"2027": 2, "2029H2": 3, "2031": 4}}],
        "pools": [{"name": "genai", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "ohio",
                   "installed": 49152, "installed_year": 2024, "refresh_with": "gb200"},
                  {"name": "mtia", "device": "mtia-v2", "system": "mtia-v2-rack", "site": "ohio",
                   "price_usd_per_device": 9000, "serves": ["recsys"]}],
        "sites": [{"name": "ohio", "power": "500MW", "location": "ohio", "cooling": "liquid"}],
        "policy": {"objective": objective}})


def test_a_refresh_in_the_old_building_buys_no_facility() -> None:
    plan = plan_scenario(_refresh())
    capex = {ph.phase: ph.capex_usd for ph in plan.phases}
    # hB66: 881,018,720 and 17,527,160 until the generic GB200 / H100 pools were built of rail units with optics
    assert capex["2029H2"] == pytest.approx(917696360.0, abs=1.0)
    assert capex["2031"] == pytest.approx(15932520.0, abs=1.0)
    row = next(r for r in plan.pools if (r.phase, r.pool) == ("2029H2", "genai-refresh"))
    # servers + network only: the fleet's value (which keeps its facility share) less IT x $13.50/W (liquid,
    # hyperscale; catalog/facility, $454.6 M here), the GB200 pool having no survivors
    assert row.fleet_value_usd is not None and row.capex_usd is not None
    assert row.fleet_value_usd - row.capex_usd == pytest.approx(row.it_power_w * 13.5, rel=1e-9)


def test_the_toggle_off_buys_the_building_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(site_building, "SITE_BUILDING_REUSE", False)
    capex = {ph.phase: ph.capex_usd for ph in plan_scenario(_refresh()).phases}
    assert capex["2029H2"] == pytest.approx(1376284853.0, abs=1.0)  # hB66: 1,335,584,915 and 26,529,068 before
    assert capex["2031"] == pytest.approx(24419484.0, abs=1.0)


def test_the_capex_objective_is_the_site_ruled_capex() -> None:
    """The capex objective under retirement (planning/purchase_capex.py) prices the purchases from the same site
    spends: its objective is the report's capex summed ($1,217,937,081 for both with the toggle off; hR70:
    $1,254,301,045 before)."""
    plan = plan_scenario(_refresh("capex"))
    # hR70: $892,945,600 until the report stopped buying 16,384 H100 in 2029H2, where genai buys none (refresh_with);
    # bought ahead in 2027 (retirement.ahead) that plan costs $1,181,576,964, so the GB200 refresh is kept
    # (hB66: 887,550,400 before the rail units)
    assert plan.capex_usd == pytest.approx(933628880.0, abs=1.0)
    assert plan.objective_value == pytest.approx(plan.capex_usd, rel=1e-9)
    assert plan.capex_usd == pytest.approx(sum(ph.capex_usd or 0.0 for ph in plan.phases), rel=1e-12)


def test_a_plan_without_retirement_spends_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard (passes on the base too): nothing retires, so each pool's charge is its own facility growth."""
    spec = load_scenario(str(Path(__file__).resolve().parents[2] / "examples" / "mtia-vs-gpu.yaml"))
    on = plan_scenario(spec)
    monkeypatch.setattr(site_building, "SITE_BUILDING_REUSE", False)
    off = plan_scenario(spec)
    assert sum(r.retired_devices for r in on.phases) == 0 and (on.capex_usd or 0.0) > 0
    assert [r.capex_usd for r in on.pools] == pytest.approx([r.capex_usd for r in off.pools], rel=1e-12)
