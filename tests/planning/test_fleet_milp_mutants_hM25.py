"""Mutation wave hM25 (session 47) on `planning.fleet_milp.solve_units`' shares: every solve fleet-mix makes (the
fixed point's, the stepped one's, the bound's) states each service's demand row as a share of its demand,
capacity / demand x units >= 1 (the module's docstring; hW5 and hP26 found HiGHS answering "optimal" above the
optimum with rows of 1e8 QPS), not only the bound's solve, which names `shares` itself.

The spy reads the programme HiGHS is handed: a service's row is its pairs' capacities over its demand, bound 1."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from infraplan.planning import fleet_milp
from infraplan.planning.fleet_mix import plan_fleet
from infraplan.planning.fleet_spec import FleetSpec

QPS = (126e6, 343e6)  # hW5's two ranking services in the 1e8 range


def test_every_fleet_mix_solve_states_the_demand_rows_in_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = FleetSpec.model_validate({
        "name": "shares", "objective": "power",
        "services": [{"name": "s0", "kind": "recsys", "model": "dlrm-low", "qps": QPS[0], "latency_slo": "20ms"},
                     {"name": "s1", "kind": "recsys", "model": "dlrm-medium", "qps": QPS[1], "latency_slo": "20ms"}],
        "pools": [{"name": "a100", "device": "a100-80gb"}, {"name": "h100", "device": "h100-sxm", "available": 64}]})
    seen: list[tuple[np.ndarray, np.ndarray]] = []
    real = fleet_milp.milp

    def spy(c: Any, constraints: Any, **kw: Any) -> Any:
        seen.append((np.asarray(constraints.A, dtype=float)[:2].copy(), np.asarray(constraints.lb, dtype=float)[:2]))
        return real(c, constraints=constraints, **kw)

    monkeypatch.setattr(fleet_milp, "milp", spy)
    r = plan_fleet(spec)
    assert sum(p.servers for p in r.pools) > 0 and len(seen) >= 2  # it solved, more than once (the fixed point)
    for rows, lb in seen:
        assert list(lb) == [1.0, 1.0]  # each row: a share of its demand, met at 1
        # a row's coefficients are capacities over the demand: a pair's share is at most a few % of 1e8 QPS
        assert 0 < rows.max() < 1.0 and np.all(rows >= 0)
