"""A scale-up domain's switch trays are a fixed cost per domain begun (hN52: 3.6 kW a GB200 NVL72 rack, an MTIA-400
rack by ASSUMPTION), so a pool of 4 MTIA-400 chips costs 2,979 W a chip where 72 cost 1,653 W. fleet-mix prices each
pool at its own count (sized_pricing's fixed point, then every pool's tier brackets, exact at each size visited);
these check that the answer is the cheaper of the alternatives priced by hand at their own counts, on each objective,
and that it equals the proven lower bound where the pool crosses a domain (hW53)."""

from __future__ import annotations

import math

import pytest

from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_pool_money import pricer
from infraplan.planning.fleet_spec import FleetSpec
from infraplan.planning.pool_capacity import pool_option


def _spec(device: str, available: int, qps: str, objective: str) -> FleetSpec:
    return FleetSpec.model_validate({
        "name": "domain", "objective": objective,
        "services": [{"name": "late", "kind": "recsys", "model": "dlrm-high", "qps": qps, "latency_slo": "20ms"}],
        "pools": [{"name": "x", "device": device, "available": available, "price_usd_per_device": 30000},
                  {"name": "h100", "device": "h100-sxm", "price_usd_per_device": 42000}]})


@pytest.mark.parametrize("objective", ["power", "tco"])
def test_four_mtia_400_beside_h100_is_bought_only_where_it_is_cheaper_at_its_own_count(objective: str) -> None:
    """hN52's case: 10 M QPS of dlrm-high, 4 MTIA-400 available. By hand: the 4 chips serve 4 x their QPS, the H100
    the rest in whole 8-GPU servers; each side priced at its own count (a 4-chip domain carries its whole 3.6 kW).
    On power H100 alone is cheaper (the 4 chips' server with its rack's switch trays costs more than the H100 server
    it saves); on TCO the mix is (hN52's ~$387k a year against $409k)."""
    spec = _spec("mtia-400", 4, "10M", objective)
    key = "power_w" if objective == "power" else "tco_usd_per_year"
    cost = pricer(spec)
    qps = 10e6
    per = [pool_option(spec.services[0], pool)["capacity"] for pool in spec.pools]
    h100_alone = 8 * math.ceil(math.ceil(qps / per[1]) / 8)
    h100_beside = 8 * math.ceil(math.ceil((qps - 4 * per[0]) / per[1]) / 8)
    alone = cost(1, h100_alone)[key] * h100_alone
    mix = cost(0, 4)[key] * 4 + cost(1, h100_beside)[key] * h100_beside
    assert h100_beside < h100_alone  # the 4 chips save a whole H100 server
    r = plan_fleet(spec).model_dump()
    bought = {p["pool"]: p["devices_bought"] for p in r["pools"]}
    assert r["totals"][key] == pytest.approx(min(alone, mix), rel=1e-9)
    assert bought == ({"x": 0, "h100": h100_alone} if alone < mix else {"x": 4, "h100": h100_beside})
    assert (objective == "tco") == (mix < alone)  # the two objectives disagree here: both branches are checked


@pytest.mark.parametrize(("device", "available", "qps"), [("mtia-400", 76, "60M"), ("mtia-400", 144, "60M"),
                                                          ("gb200", 76, "60M"), ("gb200", 36, "60M")])
def test_a_pool_crossing_a_scale_up_domain_is_answered_at_the_proven_optimum(device: str, available: int,
                                                                             qps: str) -> None:
    """76 chips begin a second 72-chip domain (a second 3.6 kW of switch trays for 4 chips); the lower bound prices
    every server count of every pool exactly under lines: the answer without it must already be the optimum."""
    spec = _spec(device, available, qps, "power")
    plain = plan_fleet(spec).model_dump()
    bounded = plan_fleet(spec, optimality_gap=True).model_dump()["solver"]
    assert bounded["optimality_gap_fraction"] <= 1e-6
    assert plain["solver"]["objective_value"] == pytest.approx(bounded["objective_lower_bound_w"], rel=1e-6)
