"""`plan` weights each phase's yearly cost by the years until the next phase (planning/scenario.py `span`): hM4's
surviving mutant S01 (every phase weighted as one year) flips the pool this hand-countable scenario buys (hW).

Three pools of one device (Xeon 8480, so every capacity is the same) differ only in price and in what they may
serve: A ranking only, B ranking and video, C video only and delivered from 2030. Ranking runs in 2026 only, video
in 2030 only, each needing one device. A device's TCO per year is affine in its server price (t = k capex + e:
the servers' annuity and maintenance, plus the same energy, network and facility share e), so the prices
3d, 4d and 2.5d with d = e / k give t_A = 4e, t_B = 5e, t_C = 3.5e. Hardware bought in 2026 stays (and is paid
for) in 2030, so with 2026 weighted 4 years and 2030 one:
    A in 2026, C in 2030:  4e x (4 + 1) + 3.5e x 1 = 23.5e   <- cheaper
    B in both phases:      5e x (4 + 1)            = 25.0e
and with every phase weighted one year (the mutant): 4e x 2 + 3.5e = 11.5e against 5e x 2 = 10e: B."""

from __future__ import annotations

import pytest

from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario import REFERENCE_DEVICES, plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

SITE = {"name": "s", "power": "10MW", "location": "us-average", "cooling": "air"}
SERVICES = [{"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": 1000, "latency_slo": "100ms",
             "phases": ["2026"]},
            {"name": "ingest", "kind": "video", "input": "1080p30", "ladder": 1, "codec": "h264",
             "daily_hours": 0.1, "phases": ["2030"]}]


def _spec(a: float, b: float, c: float) -> ScenarioSpec:
    xeon = {"device": "xeon-8480", "site": "s"}
    return ScenarioSpec.model_validate({
        "name": "phase-weight", "phases": [{"name": "2026", "year": 2026}, {"name": "2030", "year": 2030}],
        "services": SERVICES, "sites": [SITE], "policy": {"objective": "tco"},
        "pools": [{"name": "A", **xeon, "price_usd_per_device": a, "serves": ["recsys"]},
                  {"name": "B", **xeon, "price_usd_per_device": b, "serves": ["recsys", "video"]},
                  {"name": "C", **xeon, "price_usd_per_device": c, "serves": ["video"], "from_year": 2030}]})


def _tco(spec: ScenarioSpec, pool: int) -> float:
    """The MILP's TCO per device per year of a pool (plan prices at REFERENCE_DEVICES)."""
    m = pool_money(spec, spec.pools[pool], spec.sites[0], REFERENCE_DEVICES)
    assert m.tco_usd_per_year is not None
    return m.tco_usd_per_year / m.devices


def test_the_years_to_the_next_phase_weight_the_cost_and_decide_the_pool() -> None:
    probe = _spec(0.0, 10_000.0, 0.0)
    e = _tco(probe, 0)  # a device at $0: energy, network and facility share
    k = (_tco(probe, 1) - e) / 10_000.0  # per $ of server price
    d = e / k
    spec = _spec(3 * d, 4 * d, 2.5 * d)
    t = [_tco(spec, p) for p in range(3)]
    assert t == pytest.approx([4 * e, 5 * e, 3.5 * e], rel=1e-9)  # the hand count's premise
    plan = plan_scenario(spec)
    used = {(r.phase, r.service): (r.pool, r.devices) for r in plan.services}
    assert used == {("2026", "rank"): ("A", 1), ("2030", "ingest"): ("C", 1)}  # one year per phase: B in both
    bought = {(r.phase, r.pool) for r in plan.pools if r.devices}  # whole servers of those devices
    assert bought == {("2026", "A"), ("2030", "A"), ("2030", "C")}  # A stays in 2030


def test_with_equal_spans_the_shared_pool_wins() -> None:
    """The same pools with phases one year apart (weights 1 and 1): the hand count's other side, B in both."""
    probe = _spec(0.0, 10_000.0, 0.0)
    e = _tco(probe, 0)
    d = e / ((_tco(probe, 1) - e) / 10_000.0)
    spec = _spec(3 * d, 4 * d, 2.5 * d).model_copy(deep=True)
    data = spec.model_dump(mode="json", exclude_none=True)
    data["phases"] = [{"name": "2026", "year": 2026}, {"name": "2030", "year": 2027}]
    data["pools"][2]["from_year"] = 2027
    plan = plan_scenario(ScenarioSpec.model_validate(data))
    assert {(r.phase, r.service): r.pool for r in plan.services} == {("2026", "rank"): "B", ("2030", "ingest"): "B"}
