"""Coverage wave hM15 (session 42): `planning.compare` `--vary` bases no test reached.

A ±P% range is base x (1 - P), base x (1 + P) around the scenario's own value (module docstring): the bases here
are read by hand from the scenario written in the test and from catalog/facility/locations.yaml (ohio 70.3 and
louisiana 58.8 USD/MWh, EIA 2023), not from the code."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infraplan.errors import InputError
from infraplan.planning import compare
from infraplan.planning.compare import parse_vary
from infraplan.planning.scenario_spec import ScenarioSpec

BASE: dict[str, Any] = {
    "name": "vary-bases",
    "phases": [{"name": "2025", "year": 2025}],
    "services": [{"name": "ranking", "kind": "recsys", "model": "dlrm-low", "qps": "10M", "latency_slo": "10ms"}],
    "pools": [{"name": "h100", "device": "h100-sxm", "site": "ohio"},
              {"name": "cheap", "device": "h100-sxm", "site": "ohio", "price_usd_per_device": 20000, "available": 512}],
    "sites": [{"name": "ohio", "power": "10MW", "location": "ohio"}],
}


def _spec(**policy: Any) -> ScenarioSpec:
    data = copy.deepcopy(BASE)
    if policy:
        data["policy"] = policy
    return ScenarioSpec.model_validate(data)


def test_electricity_range_is_around_the_sites_one_price_in_usd_per_kwh() -> None:
    """One site in Ohio: 70.3 USD/MWh = 0.0703 USD/kWh; ±50 %: 0.03515 .. 0.10545."""
    name, lo, hi = parse_vary(_spec(), "electricity=±50%")
    assert name == "electricity"
    assert (lo, hi) == pytest.approx((0.03515, 0.10545))


def test_electricity_range_is_around_the_policy_price_when_it_sets_one() -> None:
    assert parse_vary(_spec(electricity_usd_per_kwh=0.1), "electricity=+-10%")[1:] == pytest.approx((0.09, 0.11))


def test_electricity_percent_refused_where_sites_differ_but_a_range_is_taken() -> None:
    """Two sites at different prices (Ohio 70.3, Louisiana 58.8 USD/MWh): no one base for ±P%; LOW..HIGH sets one
    price on every site and is read as given."""
    data = copy.deepcopy(BASE)
    data["sites"].append({"name": "la", "power": "10MW", "location": "louisiana"})
    spec = ScenarioSpec.model_validate(data)
    with pytest.raises(InputError, match=r"ohio \(\$70.3/MWh\) and la \(\$58.8/MWh\) have different prices"):
        parse_vary(spec, "electricity=±10%")
    assert parse_vary(spec, "electricity=0.05..0.12") == ("electricity", 0.05, 0.12)


def test_headroom_range_is_around_the_policy_headroom() -> None:
    assert parse_vary(_spec(headroom=0.2), "headroom=±25%")[1:] == pytest.approx((0.15, 0.25))
    assert parse_vary(_spec(), "headroom=±25%")[1:] == (0.0, 0.0)  # the default: no margin


def test_pue_percent_needs_a_policy_pue() -> None:
    assert parse_vary(_spec(pue=1.2), "pue=±10%")[1:] == pytest.approx((1.08, 1.32))
    with pytest.raises(InputError, match="needs policy.pue in the scenario"):
        parse_vary(_spec(), "pue=±10%")
    assert parse_vary(_spec(), "pue=1.1..1.3") == ("pue", 1.1, 1.3)  # a range needs no base: it sets policy.pue


def test_pool_price_and_availability_ranges_are_around_the_pool() -> None:
    """The pool's own capex (20,000 USD) and its 512 devices."""
    assert parse_vary(_spec(), "cheap.price=±30%")[1:] == pytest.approx((14000.0, 26000.0))
    assert parse_vary(_spec(), "cheap.available=±50%")[1:] == pytest.approx((256.0, 768.0))
    with pytest.raises(InputError, match="pool 'h100' is unlimited; give LOW..HIGH"):
        parse_vary(_spec(), "h100.available=±50%")


def test_an_unreadable_range_is_one_line() -> None:
    with pytest.raises(InputError, match=r"cannot read the range 'cheap..dear'"):
        parse_vary(_spec(), "electricity=cheap..dear")


def test_an_end_that_cannot_be_planned_has_no_tco_and_ranks_first() -> None:
    """A site of 1 kW cannot hold the 10 M QPS ranking service: that end of the range has no TCO (None, not an
    error) and its row no swing, which ranks as the largest (a range that makes the plan infeasible: first)."""
    rows = compare.tornado(_spec(), ["electricity=0.05..0.12", "ohio.power=1kW..10MW"])
    assert [r.parameter for r in rows] == ["ohio.power", "electricity"]
    short = rows[0]
    assert short.tco_low_usd_per_year is None and short.swing_usd_per_year is None
    assert short.tco_high_usd_per_year is not None and short.tco_high_usd_per_year > 0
    assert rows[1].swing_usd_per_year is not None and rows[1].swing_usd_per_year > 0
