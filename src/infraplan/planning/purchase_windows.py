"""hB71's charges of the capex purchase bound (planning/purchase_bound.py) on a phase's purchases and its facility.

Windows. A phase k of the answer spends F(I_k) - F(S_k) >= the least increment x (I_k - S_k) + the sum of the
increments' excess e_t above it over t in [S_k, I_k). The rows of `least_increments` charge (or, below the least,
credit) some counts t once per run of phases; the other excesses are >= 0 and uncharged. Their sum over the L = I_k -
S_k consecutive counts of the phase is at least H(L), the least sum of L consecutive ones (those of the rows taken as
0) over the counts 0 .. the reach, whatever S_k is; so each phase's purchases B[p, k] (= I_k - S_k, in servers) also
pay lines under H (`window_lines`, bound_columns.with_windows: X >= a + b B). H rises with L (the excesses are >= 0),
so lengths sampled beyond `WINDOW_WORK` sums are held to the next sampled. A pool with an increment below the least
that no row credits has none. GB200's rack every 18 trays: hN57's meta-refresh as capex 4.03 % -> 0.065 %.

IT lines. A site's facility spend over the phases is at least its least facility $/W x (its peak IT - its bases'
IT); a pool's IT in service was bounded by its least W per device x its devices in service, which leaves out the N+k
racks' IT (their devices are not in service). IT(n) >= IT(1) + (n - 1) x the least increment of IT per server for n
>= 1, so with a binary z per (pool, phase), N <= reach z, the pool's term is also >= a z + b N (`facility_lines`,
bound_columns.with_peak). hR70's sweep seed 7 draw 54 (N+k 1): 7.30 % -> 1.27 %. The hull (hB72, `IT_HULL`): every
line under IT(n) at n = 1 .. the reach, the edges of its lower convex hull, the term a column >= each (its max): draw
54 1.27 % -> 0 (the answer's spend), hB71's seeded capex sweep (seed 71, 39 plans) median 1.17 % -> 0, 11 -> 25
proven optimal. (HiGHS mis-solved it above a feasible point with hB71's rows; the bound's solves have a safety net
since, milp_start.sound.)
"""

from __future__ import annotations

import numpy as np

from infraplan.planning.bound_columns import spare_lines
from infraplan.planning.pool_money import PoolMoney, node_devices
from infraplan.planning.scenario_report import packed
from infraplan.planning.scenario_spec import ScenarioSpec

WINDOWS = True
"""hB71: each phase's purchases pay the lines under H (module docstring); False: not."""
IT_LINES = True
"""hB71: a pool's facility term also >= one server's IT + the least increment per server after (module docstring);
False: its least W per device x the devices in service alone (hB69)."""
IT_HULL = True
"""hB72: the lines under each pool's IT are its lower hull's edges (module docstring); False: hB71's one line."""
WINDOW_WORK = 50_000_000  # window sums `window_lines` computes at most per pool (the rest of the lengths sampled)


def window_lines(values: list[list[float]], least: np.ndarray, rows: np.ndarray
                 ) -> list[list[tuple[float, float]]] | None:
    """Per pool the lines under H(L) (module docstring) from its F at 0 .. its reach (`values`), its least increment
    per server (`least`) and the rows of `least_increments` (p, t, excess, most); None with `WINDOWS` off."""
    if not WINDOWS:
        return None
    out: list[list[tuple[float, float]]] = []
    for p, value in enumerate(values):
        reach = len(value) - 1
        excess = np.diff(value) - least[p]
        excess[[int(t) for q, t, _, _ in rows if int(q) == p]] = 0.0
        excess[(excess < 0) & (excess > -1e-6)] = 0.0  # (the least / g x g: its rounding, below a micro-dollar)
        if np.any(excess < 0):  # an increment below the least not credited (`least_increments`): no lines
            out.append([])
            continue
        sums = np.concatenate([[0.0], np.cumsum(excess)])
        lengths = np.unique(np.linspace(0, reach, max(2, min(reach + 1, WINDOW_WORK // reach))).astype(int))
        lows = [float(np.min(sums[n:] - sums[:len(sums) - n])) for n in lengths]
        held = np.zeros(reach + 1)  # H at every length from below: the sampled length at or before it
        held[lengths] = lows
        out.append(spare_lines(np.maximum.accumulate(held)))
    return out


def site_rate(spec: ScenarioSpec, mine: list[int]) -> float:
    """The least facility $/W of a site's pools `mine` (one server of each packed: purchase_bound.facility_floor)."""
    rates = [float(m.facility_capex_usd or 0.0) / m.it_w for p in mine
             if (m := packed(spec, spec.pools[p], node_devices(spec.pools[p]))).it_w > 0]
    return min(rates, default=0.0)


def facility_lines(spec: ScenarioSpec, counts_of: list[list[PoolMoney]]
                   ) -> list[tuple[int, list[tuple[float, float]]]] | None:
    """Per pool its reach and the lines (a, b) with a + b n <= its site's least facility $/W x the IT W of n servers
    packed (`counts_of`: n = 1 .. the reach): the edges of their lower hull (`IT_HULL`), else one server's then the
    least increment per server (module docstring, "IT lines"); None with `IT_LINES` off (the caller: without
    SITE_BUILDING_REUSE too)."""
    if not IT_LINES:
        return None
    out: list[tuple[int, list[tuple[float, float]]]] = []
    for p, pool in enumerate(spec.pools):
        rate = site_rate(spec, [q for q, o in enumerate(spec.pools) if o.site == pool.site])
        it = np.array([rate * m.it_w for m in counts_of[p]])
        if IT_HULL and len(it) > 1:  # under it[j] = IT(j + 1): a + b j = (a - b) + b n
            out.append((len(it), [(a - b, b) for a, b in spare_lines(it)]))
            continue
        slope = max(0.0, float(np.min(np.diff(it)))) if len(it) > 1 else 0.0
        out.append((len(it), [(float(it[0]) - slope, slope)]))  # IT(1) + (n - 1) x the least increment
    return out
