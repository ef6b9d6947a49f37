"""Stepped prices in the planning MILP (hW4, session 36). A pool's money per device depends on its size (the fabric's
tiers, facility.campus_fabric.built_load); the fixed point (planning/sized_pricing.py) re-priced only the pools a
solution used, so a pool cheaper at a small size than at its reference was not found. Now, after that loop, the
programme runs again with every pool's cost piecewise in its servers (one bracket per tier count, secants through
the own-size totals) from that answer, and keeps the cheaper of the two at their own prices."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_sizing import size
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import (
    Bracket,
    bracket_costs,
    stepped_fixed_point,
    tier_brackets,
    with_brackets,
)

MONEY = {"electricity_usd_per_kwh": 0.12, "pue": 1.25, "load_factor": 0.7}
SERVICE = {"name": "late", "kind": "recsys", "model": "dlrm-high", "latency_slo": "20ms"}


def _plan_spec(qps: str, a100_usd: float) -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "small", "phases": [{"name": "2026", "year": 2026}], "services": [{**SERVICE, "qps": qps}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s", "price_usd_per_device": 42_000},
                  {"name": "a100", "device": "a100-80gb", "site": "s", "price_usd_per_device": a100_usd}],
        "sites": [{"name": "s", "power": "10MW", "location": "us-average"}],
        "policy": {"objective": "tco", **MONEY}})


def test_plan_finds_the_pool_cheaper_at_its_own_small_size() -> None:
    """1M QPS of dlrm-high, H100 at $42,000, A100 at $18,000: priced at 1,024 devices (three fabric tiers) A100
    looks dearer, so the old loop bought 8 H100 ($90,220/yr) and never priced A100 at the 16 it needs (one switch:
    $83,706/yr). The answer is the cheapest whole-server mix at its own prices (brute force over the servers)."""
    spec = _plan_spec("1M", 18_000)
    plan = plan_scenario(spec)
    assert [(r.pool, r.devices) for r in plan.pools] == [("a100", 16)]
    site = spec.sites[0]
    tco = {p.name: (lambda n, p=p: 0.0 if n == 0 else float(pool_money(spec, p, site, n).tco_usd_per_year or 0.0))
           for p in spec.pools}
    assert plan.objective_value == pytest.approx(tco["a100"](16), rel=1e-9)
    assert plan.objective_value == pytest.approx(plan.tco_usd_per_year, rel=1e-9)
    assert plan.objective_value is not None and plan.objective_value < 0.95 * tco["h100"](8)  # old: 8 H100
    assert plan.pricing is not None and "1,024 devices first" in plan.pricing and "tier brackets" in plan.pricing
    cap = {p.name: size(spec.services[0], p, 1e6).capacity for p in spec.pools}  # type: ignore[union-attr]
    best = min(tco["h100"](8 * a) + tco["a100"](8 * b) for a, b in itertools.product(range(3), range(5))
               if 8 * a * cap["h100"] + 8 * b * cap["a100"] >= 1e6)
    assert plan.objective_value == pytest.approx(best, rel=1e-9)


def _fleet_spec(qps: str, a100_usd: float) -> FleetSpec:
    return FleetSpec.model_validate({
        "name": "small", "objective": "tco", **MONEY, "services": [{**SERVICE, "qps": qps}],
        "pools": [{"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42_000},
                  {"name": "a100", "device": "a100-80gb", "price_usd_per_device": a100_usd}]})


@pytest.mark.parametrize(("qps", "a100_usd", "old_usd", "devices"),
                         [("1M", 20_000, 90_220.36, {"a100": 16}), ("3M", 10_000, 121_672.34, {"a100": 32})])
def test_fleet_mix_finds_the_pool_cheaper_at_its_own_small_size(qps: str, a100_usd: float, old_usd: float,
                                                                 devices: dict[str, int]) -> None:
    """fleet-mix starts at one server per pool (its reference clusters): 1M QPS with A100 at $20,000 stayed at
    8 H100 ($90,220/yr) and 3M with A100 at $10,000 at 8 H100 + 8 A100 ($121,672/yr); A100 alone costs less at its
    own size. The figures are still facility's at the devices bought (objective = totals)."""
    fleet = plan_fleet(_fleet_spec(qps, a100_usd))
    assert {p.pool: p.devices_bought for p in fleet.pools if p.devices_bought} == devices
    objective = fleet.solver["objective_value_usd_per_year"]
    assert objective == pytest.approx(fleet.totals.tco_usd_per_year, rel=1e-9)
    assert objective < old_usd * (1 - 1e-3)
    assert "a cheaper assignment" in fleet.solver["pricing"]


def test_tier_brackets_are_the_sizes_where_the_fabric_adds_a_tier() -> None:
    """H100 on the generic node (8 NICs a server) and radix-64 switches: one switch up to 8 servers (64 NIC
    links), a two-stage Clos up to 256 servers (k^2/2 = 2,048 links, one zone), an aggregation tier above."""
    spec = _plan_spec("1M", 18_000)
    pool, site = spec.pools[0], spec.sites[0]
    assert tier_brackets(lambda n: pool_money(spec, pool, site, 8 * n).tiers, 300) == [(1, 8), (9, 256),
                                                                                       (257, 300)]
    assert tier_brackets(lambda n: 1, 5) == [(1, 5)]
    assert tier_brackets(lambda n: 1 + (n > 3) + (n > 4), 7) == [(1, 3), (4, 4), (5, 7)]


def test_bracket_costs_are_exact_at_edges_and_priced_points() -> None:
    def total(n: int) -> float:
        return 100.0 * n + 7.0 * n * n ** 0.5

    out = bracket_costs([(1, 8), (9, 9), (10, 40)], total, points=[4, 20, 60])
    # hZ55: a segment after a priced point starts a server above it (it was (4, 8), (20, 40): 4 and 20 held twice);
    # its line still passes exactly through that point
    assert [(b.lo, b.hi) for b in out] == [(1, 4), (5, 8), (9, 9), (10, 20), (21, 40)]
    for b in out:
        for n in ((b.lo - 1 if b.lo in (5, 21) else b.lo), b.hi):
            assert b.fixed + b.per_server * n == pytest.approx(total(n), rel=1e-12)


def test_with_brackets_prices_a_column_by_the_bracket_it_lands_in() -> None:
    """min cost(n) with n >= need: one column, two brackets (1-4 servers at 10 + 5 n, 5-9 at 2 n): 4 servers cost
    30, 5 cost 10, so a need of 3 buys 5."""
    brackets = [Bracket(1, 4, 10.0, 5.0), Bracket(5, 9, 0.0, 2.0)]
    for need, want, cost in ((3, 5, 10.0), (6, 6, 12.0), (0, 0, 0.0)):
        c, a, lb, ub, vlb, vub, integrality = with_brackets(
            np.array([99.0]), np.array([[1.0]]), np.array([float(need)]), np.array([np.inf]), np.zeros(1),
            np.array([9.0]), {0: brackets})
        res = milp(c, constraints=LinearConstraint(a, lb, ub), integrality=integrality, bounds=Bounds(vlb, vub))
        assert res.status == 0 and round(res.x[0]) == want and res.fun == pytest.approx(cost)
        assert list(integrality) == [1, 1, 0, 1, 0]


@pytest.mark.parametrize(("stepped_cost", "kept"), [(2.0, "A"), (1.0, "A"), (0.5, "B")])
def test_the_stepped_answer_is_kept_only_when_cheaper(stepped_cost: float, kept: str) -> None:
    cost = {"A": 1.0, "B": stepped_cost}
    fixed = stepped_fixed_point(0, lambda at: "A", lambda at: "B", lambda s: 1, lambda s, at: cost[s], "zero")
    assert fixed is not None and fixed.solution == kept and fixed.converged
    # A at 0, A again at 1 (converged); B at 1: not cheaper, stop; or cheaper, B again at its sizes (converged)
    assert fixed.rounds == (3 if kept == "A" else 4)
    assert ("a cheaper assignment" in fixed.pricing) == (kept == "B")
    assert math.isfinite(cost[fixed.solution])
