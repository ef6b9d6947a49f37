"""hP73: a `plan` pool (and a `fleet-mix` pool) that names a system is built on the system's own tiers for the count
it holds, as `facility --accelerator SYSTEM --count N` builds it (hC72, `Cluster.for_count`); past the system's size
its node on the generic Clos (since hP74: whole copies of a system larger than a generic zone), said in a note.
The base priced a plan pool on the part's generic Clos at every count but exactly the system's size
(`device_money.device_layout`): same question, two answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.facility.facility import size_facility
from infraplan.planning.device_money import (
    cost_overrides,
    device_layout,
    device_money,
    device_site,
    past_system_note,
)
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_report import packed
from infraplan.planning.scenario_spec import ScenarioSpec, load_scenario

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _plan(system: str, installed: int, device: str = "a100-80gb"):
    """A one-site plan holding `installed` devices of `system` (sunk) and a small ranking demand they serve."""
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "system-pool", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": 1e5, "latency_slo": "10ms"}],
        "pools": [{"name": "pool", "device": device, "system": system, "site": "s", "installed": installed,
                   "available": installed}],
        "sites": [{"name": "s", "power": "100MW"}]}))


@pytest.mark.parametrize("system, count", [
    ("dgx-a100-superpod", 96),  # base: the generic Clos, 10 switches; facility / network: 12
    ("dgx-a100-superpod", 512),
    ("dgx-a100-superpod", 4480),  # the whole system: the same both ways before too
])
def test_a_plan_pool_within_its_system_is_facility_of_that_count(system: str, count: int) -> None:
    plan = _plan(system, count)
    (pool,) = plan.pools
    facility = size_facility(accelerator=system, count=count)
    assert pool.devices == facility.accelerators == count
    assert pool.it_power_w == pytest.approx(facility.it_power_w, rel=1e-12)
    assert facility.capex_usd is not None
    assert pool.fleet_value_usd == pytest.approx(facility.capex_total_usd, rel=1e-12)
    assert not any("more than the" in note for note in plan.notes)


def test_a_plan_pool_past_its_system_is_facility_of_that_count_and_says_so() -> None:
    plan = _plan("dgx-a100-superpod", 8000)
    (pool,) = plan.pools
    facility = size_facility(accelerator="dgx-a100-superpod", count=8000)  # past 4,480: the system again (hP74)
    assert facility.system is None
    assert pool.it_power_w == pytest.approx(facility.it_power_w, rel=1e-12)
    assert pool.fleet_value_usd == pytest.approx(facility.capex_total_usd, rel=1e-12)
    note = ("pool pool: its 8,000 devices are more than the 4,480 of dgx-a100-superpod: whole copies of its 4,480 on "
            "its own tiers and the rest on them, joined at 1:7 as `campus` joins its zones, as `facility --accelerator "
            "dgx-a100-superpod --count 8000` builds them (its own tiers up to 4,480)")
    assert note in plan.notes


def test_the_layout_rule_and_the_note() -> None:
    assert not device_layout("dgx-h100-superpod", 8).generic
    assert not device_layout("dgx-h100-superpod", 16384).generic
    assert device_layout("dgx-h100-superpod", 16392).generic
    assert device_layout("dgx-h100-superpod").generic  # no count: the node on the generic fabric, as before
    assert device_layout("h100-sxm", 8).generic
    assert past_system_note("p", "dgx-h100-superpod", 16384) is None
    assert past_system_note("p", "h100-sxm", 20000) is None  # a part: nothing to say
    assert past_system_note("p", "msvp", 20000) is None
    assert past_system_note("p", "dgx-h100-superpod", 16392) is not None


def _totals(system: str, servers: range) -> list[tuple[float, float]]:
    site = device_site(system, cost_overrides(None, None, None, None))
    g = device_layout(system).accelerators_per_server
    return [(sum((m := device_money(system, n * g, site)).capex_usd.values()), m.it_w) for n in servers]


def test_own_tiers_grow_with_the_count_and_past_the_size() -> None:
    """What the bound's search leans on (docs/planning.md, hP73): within a system's own tiers capex and IT watts grow
    with the servers; the base's step down was at the size itself (dgx-a100-superpod's 4,472 on the generic Clos
    cost more than its 4,480 on its own tiers: 2.8 %), hP73's one server past it (dgx-h100-superpod: 1,280 switches
    at 16,384, 907 at 16,392 on 2,048-GPU zones at 1:7), gone since hP74 (the system whole, 1,419 switches)."""
    own = _totals("dgx-a100-superpod", range(1, 561))
    assert all(b[0] >= a[0] and b[1] >= a[1] for a, b in zip(own, own[1:], strict=False))
    (at, past) = _totals("dgx-h100-superpod", range(2048, 2050))
    assert past[0] > at[0] and past[1] > at[1]


def test_meta_2024_ranking_tie_is_broken_by_the_reference_prices() -> None:
    """meta-2024's ranking (1 device and a spare server) fits in either sunk A100 base (rsc 16,000 of meta-rsc,
    rsc-2 8,000 on dgx-a100-superpod's node): the same objective either way. At the 1,024-device reference both were
    the A100's generic Clos, one price (a tie HiGHS broke by column order: rsc); on their own tiers they differ
    (rsc-2 the cheaper), so the first solve puts ranking on rsc-2, deterministically."""
    spec = load_scenario(str(EXAMPLES / "meta-2024.yaml"))
    by_name = {p.name: p for p in spec.pools}
    rsc, rsc2 = packed(spec, by_name["rsc"], 1024), packed(spec, by_name["rsc-2"], 1024)
    assert rsc.tco_usd_per_year is not None and rsc2.tco_usd_per_year is not None
    assert rsc2.tco_usd_per_year / rsc2.devices < 0.97 * rsc.tco_usd_per_year / rsc.devices


FLEET = """name: system-fleet
services:
  - {{name: ranking, kind: recsys, model: dlrm-low, qps: {qps}, latency_slo: 10ms}}
pools:
  - {{name: a100, device: a100-80gb, system: dgx-a100-superpod, price_usd_per_device: 12000}}
"""


@pytest.mark.parametrize("qps, past", [(2e9, False), (5e10, True)])  # 224 devices; 5,600 past the 4,480
def test_fleet_mix_says_a_pool_past_its_system_as_plan_does(tmp_path: Path, qps: float, past: bool) -> None:
    spec = tmp_path / "fleet.yaml"
    spec.write_text(FLEET.format(qps=qps))
    result = plan_fleet(str(spec))
    (pool,) = result.pools
    assert (pool.devices_bought > 4480) == past
    note = past_system_note("a100", "dgx-a100-superpod", pool.devices_bought)
    assert (note is not None and note in result.notes) == past
    assert any("more than the 4,480" in n for n in result.notes) == past


def _crossing(qps: float):
    return plan_scenario(ScenarioSpec.model_validate({
        "name": "cross", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": qps, "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "system": "dgx-h100-superpod", "site": "s",
                   "available": 20000},
                  {"name": "a100", "device": "a100-80gb", "site": "s", "available": 4000}],
        "sites": [{"name": "s", "power": "1GW"}]}), optimality_gap=True)


def test_the_bound_holds_across_the_systems_size() -> None:
    """A demand whose H100 sit just under dgx-h100-superpod's 16,384 and one just past it: both answers proven
    optimal, the bound at or under each. hP73: the second took 16,392 H100 on the generic Clos, 3.1 % cheaper than
    the first (more demand costing less). hP74: past the size the system is whole again plus the rest, joined at
    1:7, so the second fills the system and puts the rest on the A100 pool, dearer than the first."""
    under, past = _crossing(3.70e11), _crossing(3.72e11)
    assert [(p.pool, p.devices) for p in under.pools] == [("h100", 16304)]
    assert [(p.pool, p.devices) for p in past.pools] == [("h100", 16384), ("a100", 16)]
    for plan in (under, past):
        assert plan.objective_lower_bound is not None and plan.optimality_gap_fraction is not None
        assert plan.objective_lower_bound <= plan.objective_value * (1 + 1e-9)
        assert plan.optimality_gap_fraction <= 1e-6
    assert under.objective_value < past.objective_value < 1.01 * under.objective_value
    assert not any("more than the" in n for n in under.notes + past.notes)
