"""The prices `plan`'s phased MILP charges each (pool, phase) and the sizes it prices them at (planning/scenario.py
step 2; split from it in hV55): a pool's objective figure packed at its own count per device the MILP buys
(`pricer`, the fixed point's prices; planning/sized_pricing.py), the most devices a pool can usefully hold
(`most_devices`) and its fabric's tier brackets up to them (`edge_finder`, `bracket_prices`), and the devices the
MILP buys and the plan reports per (pool, phase) (`bought_devices`, `own_sizes`: whole servers, the installed base,
bought hardware in service until it retires: planning/retirement.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from infraplan.limits import MAX_ACCELERATORS
from infraplan.planning.phased_mix import MixOption
from infraplan.planning.pool_money import PoolMoney, node_devices, pool_spares
from infraplan.planning.retirement import ahead, in_service, lifecycles, out_of_service, servers_in_service
from infraplan.planning.scenario_caps import server_devices, spare_devices, used_devices
from infraplan.planning.scenario_report import packed, whole_base
from infraplan.planning.scenario_spec import PoolSpec, ScenarioSpec
from infraplan.planning.sized_pricing import Bracket, bracket_costs, tier_brackets

Size = tuple[int, ...]  # (devices the MILP buys, devices the plan reports) of a (pool, phase); (0, 0): reference
# (capex under retirement: planning/purchase_capex.py's (bought in the phase, reported, survivors), (0, 0, 0))
Sizes = tuple[tuple[Size, ...], ...]


def pricer(spec: ScenarioSpec, ref: dict[str, PoolMoney], figure: str) -> Callable[[int, Size], float]:
    """`per_device(pool index, (bought, reported))`: the objective's figure of the pool packed at `reported`
    devices (`packed`, with the policy's spares and N+k racks: what the plan reports for it) per device of the
    `bought` whole servers the MILP counts, so that bought x the coefficient is the reported figure; each size
    computed once; (0, 0): per device of the 1,024-device reference (`ref`). Capex and TCO: every pool is priced
    (require_prices)."""
    cache: dict[tuple[int, Size], float] = {}

    def per_device(p: int, size: Size) -> float:
        if (p, size) not in cache:
            pool, (bought, reported) = spec.pools[p], size
            m = ref[pool.name] if reported == 0 else packed(spec, pool, reported)
            cache[p, size] = float(getattr(m, figure)) / (m.devices if reported == 0 else max(bought, 1))
        return cache[p, size]
    return per_device


def most_devices(spec: ScenarioSpec, options: list[MixOption], mix_demand: np.ndarray) -> list[int]:
    """The most devices each pool can usefully hold: every service it can serve, in the phase that needs most, on
    it alone (whole units), or its installed base, within its `available`. A pool never buys more (its cost grows
    with its servers), so its tier brackets stop there (fewer, tighter brackets: a smaller programme). A phase that
    buys ahead for later ones that may not buy (`retirement.ahead`: before a `refresh_with` successor's) holds its
    survivors and what those lack: their most with its spares is added (hR70: plan-refresh's H100 refreshed by
    A100, bought 80 H100 in 2028 beside its 64-device base, 144 above the 88 the bound priced to, whose steps then
    charged more than the answer spends)."""
    need = np.zeros((len(spec.pools), mix_demand.shape[1]))
    for o in options:
        need[o.pool, o.phase] += math.ceil(mix_demand[o.service, o.phase] / o.capacity - 1e-9) * o.unit_devices
    base, cycles = whole_base(spec)[:, 0], lifecycles(spec)

    def ahead_of(p: int) -> int:  # the most a later phase that may not buy needs, with its spares, else 0
        later = [int(need[p, k]) for k in range(need.shape[1]) if cycles and ahead(cycles[p], k) is not None]
        spares = [pool_spares(spec, spec.pools[p], n) for n in later]
        return max((n + (0 if sp is None else sp.spare_devices) for n, sp in zip(later, spares, strict=True)),
                   default=0)
    return [min(max(int(need[p].max()), int(base[p]), 1) + ahead_of(p),
                MAX_ACCELERATORS if pool.available is None else max(pool.available, int(base[p]), 1))
            for p, pool in enumerate(spec.pools)]


def edge_finder(spec: ScenarioSpec, most: list[int]) -> Callable[[int], list[tuple[int, int]]]:
    """`edges(pool index)`: the pool's tier brackets in servers (sized_pricing.tier_brackets over the tiers of the
    pool packed at that many servers, `packed`), from one server to the most it can usefully hold (`most`
    devices, `most_devices`), each pool searched once."""
    cache: dict[int, list[tuple[int, int]]] = {}

    def edges(p: int) -> list[tuple[int, int]]:
        if p not in cache:
            pool, g = spec.pools[p], node_devices(spec.pools[p])
            cache[p] = tier_brackets(lambda n: packed(spec, pool, n * g).tiers, -(-most[p] // g))
        return cache[p]
    return edges


def bracket_prices(spec: ScenarioSpec, at: Sizes, per_device: Callable[[int, Size], float], weight: np.ndarray,
                   edges: Callable[[int], list[tuple[int, int]]], years: list[float],
                   seen: dict[int, set[int]]) -> dict[tuple[int, int], list[Bracket]]:
    """Each open (pool, phase)'s cost by tier bracket (sized_pricing.bracket_costs) x the phase weight: the pool's
    own-size figure (`per_device` at b devices bought, b + the policy's spares reported) at the brackets' edges
    and the servers the fixed point has priced the pool at (`seen`, grown by `at`), the (pool, phase)'s own size in
    `at` at its exact price (its reported devices as `own_sizes` counts them)."""
    out: dict[tuple[int, int], list[Bracket]] = {}
    for p, pool in enumerate(spec.pools):
        g = node_devices(pool)
        points = seen.setdefault(p, set())
        points.update(own[0] // g for own in at[p] if own != (0, 0))
        for k, own in enumerate(at[p]):
            if out_of_service(spec, p, k) is not None:
                continue  # not delivered yet and no whole base in service, or refreshed away: no servers to price

            def total(servers: int, p: int = p, pool: PoolSpec = pool, g: int = g, own: Size = own,
                      w: float = float(weight[k])) -> float:
                n = servers * g
                if own != (0, 0) and n == own[0]:
                    return per_device(p, own) * n * w
                sp = pool_spares(spec, pool, n)
                return per_device(p, (n, n + (0 if sp is None else sp.spare_devices))) * n * w

            out[p, k] = bracket_costs(edges(p), total, points)
    return out


def bought_devices(spec: ScenarioSpec, used: np.ndarray) -> np.ndarray:
    """The MILP's devices per (pool, phase) for the devices used: whole servers, at least the installed base's
    whole servers (`whole_base`) while it serves, and bought hardware stays until it retires (`phased_mix`'s
    g[p] n[p, k] at its least; retirement.in_service)."""
    g = server_devices(spec)
    return in_service(-(-used // g), whole_base(spec) // g, lifecycles(spec))[0] * g


def own_sizes(spec: ScenarioSpec, options: list[MixOption], x: np.ndarray, n_phases: int) -> Sizes:
    """Each (pool, phase)'s devices bought by the MILP (`bought_devices`) and reported (`assemble_plan`: used +
    spares, the installed base, bought hardware stays until it retires), (0, 0) where it has none (then priced at
    the reference)."""
    used = used_devices(options, x, len(spec.pools), n_phases)
    installed = servers_in_service(used + spare_devices(spec, used), whole_base(spec), server_devices(spec),
                                   lifecycles(spec))[0]
    bought = bought_devices(spec, used)
    return tuple(tuple((int(b), int(n)) if n > 0 else (0, 0) for b, n in zip(brow, row, strict=True))
                 for brow, row in zip(bought, installed, strict=True))
