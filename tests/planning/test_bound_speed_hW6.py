"""hW6: a pool packed at a size is priced once per scenario (planning/scenario_report.py `packed`'s `_MONEY`): the
N+k spare racks of one count are the devices of the count k racks above, so `plan --optimality-gap`'s exact costs
(planning/scenario_bound.py `exact_costs`, every count) run `pool_money` once per distinct size, half the runs of
pricing each count's two sizes, with every E(n) the figure `pool_money` gives, bit for bit."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.planning import scenario_bound, scenario_report
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario_spec import ScenarioSpec


def _spec() -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "n-plus-one", "phases": [{"name": "2026", "year": 2026}],
        "services": [{"name": "r", "kind": "recsys", "model": "dlrm-low", "qps": "1M", "latency_slo": "10ms"}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}],
        "sites": [{"name": "s", "power": "10MW", "location": "ohio"}],
        "policy": {"objective": "tco", "redundancy_racks": 1}})


def test_each_size_is_priced_once_and_the_costs_are_pool_money_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = _spec()
    pool, site = spec.pools[0], spec.sites[0]
    sizes: list[int] = []

    def counted(spec: Any, pool: Any, site: Any, devices: int) -> Any:
        sizes.append(devices)
        return pool_money(spec, pool, site, devices)

    monkeypatch.setattr(scenario_report, "pool_money", counted)
    values = scenario_bound.exact_costs(spec, "tco_usd_per_year", [400])[0]
    assert len(values) == 50  # 400 H100 = 50 servers of 8
    assert len(sizes) == len(set(sizes))  # no size priced twice (before hW6: 8 .. 400 each twice, 100 runs)
    rack = pool_money(spec, pool, site, 8).devices_per_rack  # one N+1 rack's devices
    assert rack > 0 and sorted(sizes) == sorted({8 * n for n in range(1, 51)} | {8 * n + rack for n in range(1, 51)})
    assert len(sizes) == 50 + rack // 8
    for n in (1, 7, 8, 33, 50):  # E(n) = F(n servers + one rack): no spare_probability, no spare nodes
        assert values[n - 1] == pool_money(spec, pool, site, 8 * n + rack).tco_usd_per_year  # bit for bit
    assert scenario_report.packed(spec, pool, 8) is scenario_report.packed(spec, pool, 8)  # kept, not re-priced
    assert scenario_report.packed(_spec(), pool, 8) is not scenario_report.packed(spec, pool, 8)  # by scenario
