"""The phased MILP's answer is its optimum whatever the demand's unit (hP26, session 46).

benchmarks/scenario_plan.py's stepped solve (the programme with every pool's fabric tier brackets) came back from
HiGHS "optimal, gap 0" at 42,379,390.65 while the fixed point's 42,341,397.93 was feasible in it: its ranking rows
of 1e8 QPS (coefficients to 3.4e7 per device). Shrunk (services and pools dropped while HiGHS stayed wrong) to the
programme below, 2 of its ranking services on its H100 and B200 pools, their exact capacities and tier brackets:
HiGHS said 12,236,075.44 where the optimum, found here by enumeration of every server count, is 12,146,062.15
(+0.74 %). planning/phased_mix.py now states every demand row in shares of its demand.
"""

from __future__ import annotations

import numpy as np

from infraplan.planning.phased_mix import MixOption, PhasedMix, solve_phased_mix
from infraplan.planning.sized_pricing import Bracket

DEMAND_QPS = [1.0e8, 1.5e8, 2.0e8]  # both services, phases 1-3 (the benchmark's ranking growth 1, 1.5, 2)
# QPS per device at the 20 ms SLO: [service][pool], pool 0 = h100-sxm, pool 1 = b200 (the benchmark's run)
CAPACITY = [[301462.8212213353, 558101.728094036], [7248943.46525545, 12236145.718367899]]
BRACKETS = [  # (lo, hi, fixed, per server) of each pool in every phase, as scenario._brackets priced them
    [(1, 8, 6185.065416311671, 81138.06027229092), (9, 255, 20844.24419841636, 86590.57899792626)],
    [(1, 8, 6910.99833225974, 107341.89570274911), (9, 26, 24688.632671225467, 112776.28281925946),
     (26, 38, -21946.966147388797, 114569.95969689847), (38, 50, 65592.34606123436, 112266.29358614523),
     (50, 212, 17580.12366275303, 113226.53803411486)],
]
SERVER = 8  # devices per server of both pools


def _programme(scale: float = 1.0) -> PhasedMix:
    """The shrunk programme; `scale` multiplies every demand and capacity (the demand in another unit)."""
    options = [MixOption(s, p, k, CAPACITY[s][p] * scale, 1, False) for s in range(2) for k in range(3)
               for p in range(2)]
    return PhasedMix(
        demand=np.array([DEMAND_QPS, DEMAND_QPS]) * scale, options=options,
        cost=np.array([[10831.226644103379, 10831.226644103379, 10915.390711075324],
                       [14215.730701788325, 14249.050994522215, 14197.26756342124]]),  # replaced by the brackets
        available=[None, None], pool_open=np.ones((2, 3), dtype=bool), pool_site=[0, 1],
        watts_per_device=np.array([1601.6287499999999, 2207.075625]), site_cap_w=np.full((2, 3), 2e8),
        service_names=["rank-dlrm-high", "rank-mlperf-dlrm-dcnv2"], pool_names=["h100-sxm", "b200"],
        site_names=["s1", "s3"], phase_names=["p1", "p2", "p3"], installed=[0, 0], server_devices=[SERVER, SERVER],
        brackets={(p, k): [Bracket(*b) for b in BRACKETS[p]] for p in range(2) for k in range(3)})


def _pool_cost(p: int, servers: int) -> float:
    """What the programme charges pool p for `servers` in a phase: nothing for none, else its cheapest bracket
    holding that count (neighbouring brackets share an edge); inf past the last bracket."""
    if servers == 0:
        return 0.0
    costs = [fixed + per * servers for lo, hi, fixed, per in BRACKETS[p] if lo <= servers <= hi]
    return min(costs, default=np.inf)


def _enumerated_optimum() -> float:
    """The programme's optimum by enumeration: per phase every (h100, b200) server count that can carry both demands
    (service 0 takes x devices of pool 0 and the fewest of pool 1 that complete it, service 1 every device left:
    feasible for some x iff the counts are), its cost; then the cheapest non-decreasing chain of counts over the
    phases (bought hardware stays) by a running minimum over both counts. Counts are bounded by what costs no more
    than a feasible plan (every service on B200 alone)."""
    on_b200 = sum(_pool_cost(1, -(-sum(-(-d // CAPACITY[s][1]) for s in range(2)) // SERVER)) for d in DEMAND_QPS)
    most = [max(n for n in range(BRACKETS[p][-1][1] + 1) if _pool_cost(p, n) <= on_b200) for p in range(2)]
    best = np.zeros((most[0] + 1, most[1] + 1))
    for d in DEMAND_QPS:
        cost = np.full_like(best, np.inf)
        for n0 in range(most[0] + 1):
            x = np.arange(SERVER * n0 + 1)  # devices of pool 0 on service 0
            rest0 = np.ceil(np.maximum(d - x * CAPACITY[0][0], 0.0) / CAPACITY[0][1] - 1e-9)
            for n1 in range(most[1] + 1):
                left1 = SERVER * n1 - rest0
                ok = (left1 >= 0) & ((SERVER * n0 - x) * CAPACITY[1][0] + left1 * CAPACITY[1][1] >= d)
                if ok.any():
                    cost[n0, n1] = _pool_cost(0, n0) + _pool_cost(1, n1)
        best = cost + np.minimum.accumulate(np.minimum.accumulate(best, axis=0), axis=1)
    return float(best.min())


def _answer_cost(m: PhasedMix) -> float:
    x, devices = solve_phased_mix(m)
    for s in range(2):  # the answer serves every demand
        for k in range(3):
            served = sum(x[i] * o.capacity for i, o in enumerate(m.options) if o.service == s and o.phase == k)
            assert served >= m.demand[s, k] * (1 - 1e-12)
    assert np.all(np.diff(devices, axis=1) >= 0)  # bought hardware stays
    return sum(_pool_cost(p, int(devices[p, k]) // SERVER) for p in range(2) for k in range(3))


def test_the_stepped_programme_of_ranking_services_in_qps_is_solved_to_its_enumerated_optimum() -> None:
    optimum = _enumerated_optimum()
    assert optimum == np.float64(optimum) and 12.1e6 < optimum < 12.2e6  # ~12,146,062: the enumeration ran
    assert abs(_answer_cost(_programme()) - optimum) <= 1e-6 * optimum  # HEAD: 12,236,075 (+0.74 %)


def test_the_answer_does_not_move_with_the_demand_unit() -> None:
    """QPS or millions of QPS: the same programme, the same optimum (HEAD: only the MQPS one was right)."""
    in_qps, in_mqps = _answer_cost(_programme()), _answer_cost(_programme(1e-6))
    assert abs(in_qps - in_mqps) <= 1e-6 * in_qps
