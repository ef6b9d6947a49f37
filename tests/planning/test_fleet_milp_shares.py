"""fleet-mix's MILP states each service's demand row in shares of its demand on every solve (hP26 found HiGHS
answering "optimal" above the optimum with rows of 1e8 QPS, as hW5 had for fleet-mix's bound), and a service asking
nothing keeps a row it meets with nothing: before, the shares divided by its zero demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from infraplan.planning.fleet_milp import solve_units
from infraplan.planning.fleet_spec import load_fleet_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet-mix.yaml"


def _one_pool_case(demand_qps: float, shares: bool = True) -> tuple[np.ndarray | None, float]:
    spec = load_fleet_spec(str(EXAMPLE))
    h100 = next(p for p, pool in enumerate(spec.pools) if pool.device == "h100-sxm")
    demand = np.zeros(len(spec.services))
    demand[0] = 3.0 * demand_qps  # the other services ask nothing
    pairs = [(0, h100, {"capacity": 1.0 * demand_qps, "unit_devices": 1, "detail": {},
                        "cost": {"power_w": 700.0, "tco_usd_per_year": 1.0}})]
    x, res = solve_units(spec, pairs, demand, [None] * len(spec.pools), "power", shares=shares)
    return x, float(res.fun) if x is not None else float("nan")


def test_a_service_asking_nothing_leaves_the_rows_solvable() -> None:
    for shares in (True, False):  # in shares (the default, and the bound's solve) or in QPS: one answer
        x, power_w = _one_pool_case(1.0, shares)
        assert x is not None and int(round(x[0])) == 3  # 3 units of 1 QPS for 3 QPS
        assert power_w == 3 * 700.0


def test_the_answer_does_not_move_with_the_demand_unit() -> None:
    small, big = _one_pool_case(1.0), _one_pool_case(1e8)  # QPS, or the same in units of 1e-8 QPS
    assert small[0] is not None and big[0] is not None
    assert np.array_equal(np.round(small[0]), np.round(big[0])) and small[1] == big[1]
