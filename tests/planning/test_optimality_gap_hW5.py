"""A proven lower bound for the planning MILP's stepped prices (hW5, session 37), and hM5's P11.

The fixed point and the stepped descent (planning/sized_pricing.py) give the better of two local searches.
`--optimality-gap` bounds every pool's exact own-size cost below by lines (each under the cost at every count of
its range: the cost is not monotone), solves one MILP over them (its HiGHS dual bound: LB <= the optimum), and
reports (UB - LB) / UB with UB the answer's objective; the bound's answers are candidates, kept when cheaper.
P11: the site-cap pass counts each pool's packed power per device of the whole servers used, not per device used."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from test_stepped_prices_hW4 import MONEY, SERVICE, _fleet_spec, _plan_spec

import infraplan.planning.fleet_mix as fleet_mix_module
import infraplan.planning.sized_pricing as sized_pricing
from infraplan.cli.main import main
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_pool_money import fleet_pool_money, per_device_costs
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_money import pool_money, pool_spares
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_bound import spare_nodes_by_count
from infraplan.planning.scenario_report import packed
from infraplan.planning.scenario_sizing import size
from infraplan.planning.scenario_spec import ScenarioSpec
from infraplan.planning.sized_pricing import Bracket, bound_brackets, close_gap, lower_pieces, sized_fixed_point


def _fleet(a100_usd: float, qps: str = "1M") -> FleetSpec:
    return _fleet_spec(qps, a100_usd)


def _plan(a100_usd: float, qps: str = "1M") -> ScenarioSpec:
    return _plan_spec(qps, a100_usd)


def _line(b: Bracket, n: int) -> float:
    return b.fixed + b.per_server * n


def test_the_lines_lie_under_every_count_by_hand() -> None:
    """Costs 10, 30, 20, 40 at 1..4 servers (not monotone). One line: the secant (1, 10) - (4, 40) has slope 10 and
    passes 30 at 3, 10 above the cost 20 there: lowered by 10, 10 n - 10. Split at that count: 1..3 is the secant
    (1, 10) - (3, 20), 5 + 5 n (30 at 2 is above it), 3..4 the secant (3, 20) - (4, 40), 20 n - 40."""
    values = np.array([10.0, 30.0, 20.0, 40.0])
    assert lower_pieces(1, 4, values, pieces_max=1) == [Bracket(1, 4, -10.0, 10.0)]
    assert lower_pieces(1, 4, values) == [Bracket(1, 3, 5.0, 5.0), Bracket(3, 4, -40.0, 20.0)]
    # an exact count is its own bracket at its cost, and no other bracket reaches it
    got = bound_brackets([(1, 4)], values, exact=[2])
    assert got == [Bracket(1, 1, 0.0, 10.0), Bracket(2, 2, 0.0, 15.0), Bracket(3, 4, -40.0, 20.0)]


def test_the_lines_lie_under_a_real_non_monotone_cost() -> None:
    """A100's TCO (the 15M QPS spec's site) at 1..120 servers is not convex (its steps alternate with the racks and
    the fabric's); every line stays under every count of its range, the ranges cover 1..120. hB67: it dipped where
    the fabric builder took fewer switches (88 servers: 120, 89: 101) until `clos_tiers` took the pod of the fewest
    switches (tests/network/test_catalog_partial_unit_hB67.py); it no longer falls, the lines' shape is the same."""
    spec = _plan(12_000, "15M")
    pool, site = spec.pools[1], spec.sites[0]
    values = np.array([pool_money(spec, pool, site, 8 * n).tco_usd_per_year for n in range(1, 121)])
    assert np.any(np.diff(values, 2) < 0)  # not convex: no shape is assumed
    pieces = lower_pieces(1, 120, values)
    covered = set()
    for b in pieces:
        for n in range(b.lo, b.hi + 1):
            assert _line(b, n) <= values[n - 1] * (1 + 1e-12)
            covered.add(n)
    assert covered == set(range(1, 121)) and 1 < len(pieces) <= 8


def test_the_loop_keeps_a_cheaper_bound_answer_and_closes_the_gap() -> None:
    """A toy programme: n servers of one pool, n >= 2, exact costs 10, 30, 20, 40 at 1..4; the answer given is
    n = 4 (40). The bound's first solve (4 exact, 1..3 under the line 5 + 5 n) picks 2 at 15: LB 15, and n = 2
    costs 30 < 40, the new answer, gap 50 %. Branch: 2 priced exactly (30), 3 alone its own line (20): the second
    solve picks 3 at 20 = its exact cost, LB 20, the answer n = 3 and the gap 0."""
    values = np.array([10.0, 30.0, 20.0, 40.0])

    def solve_bound(exact: dict[int, set[int]]) -> tuple[int, float, list[tuple[int, int]]]:
        brackets = bound_brackets([(1, 4)], values, exact.get(0, ()))
        cost, n = min((_line(b, n), n) for b in brackets for n in range(max(b.lo, 2), b.hi + 1))
        return n, cost, [(0, n)]

    best, cost, opt = close_gap(4, 40.0, solve_bound, lambda n: float(values[n - 1]), {0: {4}})
    assert (best, cost, opt.lower_bound, opt.gap_fraction, opt.solves) == (3, 20.0, 20.0, 0.0, 2)
    assert opt.text.startswith("optimal")
    # a bound below the answer that cannot be refined (its count already exact) stops and says how far
    best, cost, opt = close_gap(4, 40.0, lambda exact: (4, 36.0, [(0, 4)]), lambda n: None, {0: {4}})
    assert (best, opt.gap_fraction, opt.solves) == (4, 0.1, 1)
    assert opt.text.startswith("within 10 % of the optimum") and "priced exactly" in opt.text


def _brute_fleet(spec: FleetSpec) -> float:
    """The least TCO over both pools' whole servers that serve the demand (facility's figures at each count)."""
    q = float(spec.services[0].qps)  # type: ignore[arg-type]
    caps = [fleet_mix_module.pool_option(spec.services[0], p)["capacity"] for p in spec.pools]

    def cost(p: int, n: int) -> float:
        if n == 0:
            return 0.0
        money = fleet_pool_money(spec, spec.pools[p], 8 * n)
        return float(per_device_costs(money, True)["tco_usd_per_year"] or 0.0) * 8 * n
    top = [math.ceil(q / c / 8) for c in caps]
    return min(cost(0, a) + cost(1, b) for a in range(top[0] + 1) for b in range(top[1] + 1)
               if 8 * (a * caps[0] + b * caps[1]) >= q)


def test_fleet_mix_bound_finds_what_the_fixed_point_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    """With today's stepped descent taken out (the fixed point alone, session 35's loop), 1M QPS at A100 $20,000
    stays at 8 H100 ($90,220/yr); the bound proves that is not optimal, its answer (16 A100, $89,780/yr) is the
    brute-force optimum over both pools' whole servers, and with it priced exactly the gap is 0. Plain fleet-mix
    runs the same search (hQ71: its 3 server counts are under `SEARCH_COUNTS_MAX`), so it answers alike; with the
    search limited to 0 counts plain stays at 8 H100."""
    def fixed_point_only(reference, solve, solve_stepped, own_sizes, own_cost, start, rounds_max):  # type: ignore[no-untyped-def]
        return sized_fixed_point(reference, solve, own_sizes, own_cost, start, rounds_max)

    monkeypatch.setattr(fleet_mix_module, "stepped_fixed_point", fixed_point_only)
    spec = _fleet(20_000)
    with monkeypatch.context() as m:
        m.setattr(fleet_mix_module, "SEARCH_COUNTS_MAX", 0)
        plain = plan_fleet(spec)
    assert [p.devices_bought for p in plain.pools] == [8, 0] and "optimality_gap_fraction" not in plain.solver
    searched = plan_fleet(spec)
    assert [p.devices_bought for p in searched.pools] == [0, 16] and "optimality_gap_fraction" not in searched.solver
    bounded = plan_fleet(spec, optimality_gap=True)
    brute = _brute_fleet(spec)
    s = bounded.solver
    assert [p.devices_bought for p in bounded.pools] == [0, 16]
    assert s["objective_lower_bound_usd_per_year"] <= brute * (1 + 1e-9) <= s["objective_value"] * (1 + 1e-9)
    assert s["objective_value"] == pytest.approx(brute, rel=1e-9)
    assert s["objective_value"] < plain.solver["objective_value"]
    assert searched.solver["objective_value"] == pytest.approx(s["objective_value"], rel=1e-12)
    assert s["optimality_gap_fraction"] < 1e-6 and s["optimality"].startswith("optimal")
    assert "the lower bound's search found a cheaper assignment" in s["pricing"]


def test_fleet_mix_bound_is_below_the_answer_with_rows_of_1e8_qps() -> None:
    """Two ranking services of 126M and 343M QPS on A100 / H100 (64 available) / Xeon, objective power: the
    answer is 10 A100 + 8 H100 servers, 158,080 W. With the demand rows in QPS, HiGHS's presolve called 160,103 W
    (9 A100 + 8 H100 + 2 Xeon servers) optimal for the bounding programme, a 'bound' above a feasible answer; in
    shares of the demand it finds 158,080 W."""
    spec = FleetSpec.model_validate({
        "name": "fseed4", "objective": "power", **MONEY,
        "services": [{"name": "s0", "kind": "recsys", "model": "dlrm-low", "qps": 126e6, "latency_slo": "20ms"},
                     {"name": "s1", "kind": "recsys", "model": "dlrm-medium", "qps": 343e6, "latency_slo": "20ms"}],
        "pools": [{"name": "a100", "device": "a100-80gb", "price_usd_per_device": 13_400},
                  {"name": "h100", "device": "h100-sxm", "available": 64, "price_usd_per_device": 49_400},
                  {"name": "xeon", "device": "xeon-8480", "available": 1000, "price_usd_per_device": 9_800}]})
    r = plan_fleet(spec, optimality_gap=True)
    assert [p.servers for p in r.pools] == [10, 8, 0]
    assert r.solver["objective_lower_bound_w"] <= r.solver["objective_value_w"] * (1 + 1e-9)
    assert r.solver["objective_value_w"] == pytest.approx(158_080.0)


def test_plan_bound_brackets_the_brute_force_optimum() -> None:
    """plan, 15M QPS at A100 $12,000: LB <= the brute-force optimum over both pools' whole servers (facility's
    TCO at each count) <= the answer (48 H100 + 8 A100, hF2's optimum); reported as optimal."""
    spec = _plan(12_000, "15M")
    q, site = 15e6, spec.sites[0]
    caps = [size(spec.services[0], p, q).capacity for p in spec.pools]  # type: ignore[union-attr]

    def cost(p: int, n: int) -> float:
        return 0.0 if n == 0 else float(pool_money(spec, spec.pools[p], site, 8 * n).tco_usd_per_year or 0.0)
    brute = min(cost(0, a) + cost(1, b) for a in range(math.ceil(q / caps[0] / 8) + 1)
                for b in range(math.ceil(q / caps[1] / 8) + 1) if 8 * (a * caps[0] + b * caps[1]) >= q)
    p = plan_scenario(spec, optimality_gap=True)
    assert [(r.pool, r.devices) for r in p.pools] == [("h100", 48), ("a100", 8)]
    assert p.objective_lower_bound is not None and p.objective_value is not None
    assert p.objective_lower_bound <= brute * (1 + 1e-9) <= p.objective_value * (1 + 1e-9)
    assert p.optimality_gap_fraction is not None and p.optimality_gap_fraction < 1e-6
    assert p.optimality_solves == 1 and (p.optimality or "").startswith("optimal")
    plain = plan_scenario(spec)  # not asked: nothing computed, the same answer
    assert plain.optimality_gap_fraction is None and plain.objective_lower_bound is None
    assert plain.objective_value == p.objective_value


def test_the_commands_print_the_gap(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(_fleet(18_000).model_dump_json())
    assert main(["fleet-mix", str(fleet), "--optimality-gap"]) == 0
    assert "optimality: optimal: the lower bound from 1 MILP solve" in capsys.readouterr().out
    assert main(["fleet-mix", str(fleet), "--optimality-gap", "--json"]) == 0
    solver = json.loads(capsys.readouterr().out)["solver"]
    assert solver["optimality_gap_fraction"] < 1e-6 and solver["objective_lower_bound_usd_per_year"] > 0
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(_plan(18_000).model_dump_json())
    assert main(["plan", str(scenario), "--optimality-gap"]) == 0
    assert "optimality: optimal: the lower bound from 1 MILP solve" in capsys.readouterr().out
    assert main(["plan", str(scenario), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["optimality_gap_fraction"] is None and data["optimality"] is None


def test_p11_the_cap_pass_counts_power_per_device_of_whole_servers() -> None:
    """hM5's P11. One ranking service of 8.5 H100s' QPS; H100 ($20,000) at a 45 kW site, A100 ($60,000) at a
    100 MW one; one N+k spare rack (16 devices). The first solve puts 9 H100 in 2 servers (16 devices); packed,
    with the spare rack, they draw P9 = 54,675 W > 45 kW. The pass scales the H100 watts per device by P9 /
    (w x 16 devices of whole servers), so a server (8 devices) counts P9 / 2 = 27,337.5 W and 45,000 / 27,337.5 =
    1.6 servers fit: 1 server (8 H100, packed with its spare rack 41,287.5 W <= 45 kW), the rest on A100. Per
    device used (P9 / 9 a device, 48,600 W a server) not one server fits and all goes to A100."""
    base = _plan(60_000)
    spec = ScenarioSpec.model_validate({
        **base.model_dump(), "services": [{**SERVICE, "qps": 1.0}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "small", "price_usd_per_device": 20_000},
                  {"name": "a100", "device": "a100-80gb", "site": "big", "price_usd_per_device": 60_000}],
        "sites": [{"name": "small", "power": "45kW", "location": "us-average"},
                  {"name": "big", "power": "100MW", "location": "us-average"}],
        "policy": {**base.policy.model_dump(), "redundancy_racks": 1}})
    h100 = size(spec.services[0], spec.pools[0], 1.0).capacity  # type: ignore[union-attr]
    spec = ScenarioSpec.model_validate({**spec.model_dump(), "services": [{**SERVICE, "qps": 8.5 * h100}]})
    p9, p8 = packed(spec, spec.pools[0], 9).facility_w, packed(spec, spec.pools[0], 8).facility_w
    assert (p9, p8) == (pytest.approx(54_675.0), pytest.approx(41_287.5))  # the hand figures above
    assert 45_000 / (p9 / 2) >= 1 > 45_000 / (p9 / 9 * 8) and p8 <= 45_000
    plan = plan_scenario(spec)
    used = {r.pool: r.devices for r in plan.services}
    assert used == {"h100": 8, "a100": used["a100"]} and used["a100"] > 0
    assert next(s for s in plan.sites if s.site == "small").facility_power_w == pytest.approx(p8)


def test_no_bound_past_the_count_limit_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound prices every count up to the most a pool can hold (16 A100 servers + 8 H100 here, 3 + 2 at 1M
    QPS ...): past `BOUND_COUNTS_MAX` it is not computed, the answer stands and one line says why."""
    monkeypatch.setattr(sized_pricing, "BOUND_COUNTS_MAX", 2)
    p = plan_scenario(_plan(18_000), optimality_gap=True)
    assert p.optimality_gap_fraction is None and p.objective_lower_bound is None and p.optimality_solves == 0
    assert (p.optimality or "").startswith("not computed: the bound prices every server count")
    f = plan_fleet(_fleet(18_000), optimality_gap=True)
    assert f.solver["optimality_gap_fraction"] is None and f.solver["optimality"].startswith("not computed")
    assert f.solver["objective_value"] == pytest.approx(83_706.218, rel=1e-6)  # the answer, unchanged


def test_the_spares_of_every_count_at_once_are_pool_spares() -> None:
    """The bound's spare nodes for 0..400 nodes (one vectorised Poisson quantile) equal planning/spares.py's,
    count by count, at a 0.999 spare probability."""
    spec = ScenarioSpec.model_validate({**_plan(18_000).model_dump(),
                                        "policy": {"objective": "tco", **MONEY, "spare_probability": 0.999}})
    for pool in spec.pools:
        got = spare_nodes_by_count(spec, pool, 400)
        want = [pool_spares(spec, pool, 8 * n).spare_nodes for n in range(401)]  # type: ignore[union-attr]
        assert got.tolist() == want and want[-1] > want[1] > 0
