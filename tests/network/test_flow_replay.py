"""The flow simulator replays the previous event's filling rounds where they still hold (hF, session 35).

`Filling` keeps each event's progressive-filling rounds; the next event reuses a round (its classes, their load)
when the same links saturate, and computes afresh from the first round that differs. The rates must be those
of a fresh filling to the bit, and `simulate` must give what it gave before the replay (pinned below: the
session-34 simulator's results on small fabrics with random failed links and uneven transfer sizes).
"""

from __future__ import annotations

import numpy as np
import pytest
from flow_toy_fabric import TINY, TOY

from infraplan.catalog import load_accelerator, load_system
from infraplan.network.collectives import SCALE_UP_LATENCY_S, Fabric
from infraplan.network.flow_sim import FlowSet, merge_classes, simulate
from infraplan.network.max_min_filling import Filling, Incidence, max_min_rates
from infraplan.network.routing import build_links, fail_links
from infraplan.network.topology import build_topology


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_replayed_filling_equals_a_fresh_one_at_every_event(seed: int) -> None:
    rng = np.random.default_rng(seed)
    paths = rng.integers(0, 60, size=(300, 4)).astype(np.int32)
    paths[rng.random(300) < 0.3, 3] = -1
    cls_paths, _, weight, _ = merge_classes(paths, np.ones(300))
    inc = Incidence.build(cls_paths, 60, weight)
    capacity = rng.uniform(1.0, 4.0, size=60)
    remaining = np.where(rng.random(weight.size) < 0.5, 1.0, rng.uniform(0.2, 1.0, size=weight.size))
    active = np.ones(weight.size, dtype=bool)
    load = inc.load(np.flatnonzero(active), 60)
    filling = Filling(inc, capacity, 1e-2)
    finished: np.ndarray | None = None
    replayed = events = 0
    while active.any():
        rate, frozen_by, rounds = filling.fill(active, load, finished)
        fresh, fresh_by, fresh_rounds = max_min_rates(inc.paths, capacity, active, 1e-2, inc, load)
        act = np.flatnonzero(active)
        assert np.array_equal(rate[act], fresh[act]) and np.array_equal(frozen_by[act], fresh_by[act])
        assert rounds == fresh_rounds
        replayed += filling.replayed
        ttf = remaining[act] / rate[act]
        finished = act[ttf <= ttf.min() * 1.01]
        remaining[act] -= rate[act] * ttf.min()
        active[finished] = False
        load = load - inc.load(finished, 60)
        events += 1
    assert events > 10 and replayed > events  # rounds were replayed, not only computed


def _case(system: str, tier: str, amount: float, gpus: int, pairs: int, case: int) -> tuple[object, ...]:
    spec = load_system(system)
    fabric = Fabric.from_system(spec, load_accelerator(spec.accelerator))
    topo = build_topology(spec)
    links = build_links(topo, fabric.scale_up_bytes_per_s, spec.network.collective_efficiency)
    links, _, _ = fail_links(topo, links, tier, amount, seed=case)
    rng = np.random.default_rng(100 + case)
    src = rng.integers(0, gpus, pairs)
    dst = (src + rng.integers(1, gpus, pairs)) % gpus
    size = np.where(rng.random(pairs) < 0.5, 1e8, rng.uniform(1e6, 1e8, pairs))
    r = simulate(topo, links, FlowSet.of(src, dst, size), fabric.tier_round_trip_latency_s, SCALE_UP_LATENCY_S,
                 flows_per_pair=4, seed=case)
    f = r.finish_s
    return (r.events, r.rounds, r.classes, r.bottleneck_class, float(f.sum()),
            float(f @ (1 + np.arange(f.size) % 7)), r.transfer_s, float(f.max()))


# the session-34 simulator's results (before the replay): events, rounds, classes, bottleneck, sum of the pairs'
# finish times, their weighted sum (weights 1..7 by position), the last fluid completion and the last finish (s)
PINNED = [
    ("tiny", "leaf", 1.0, 32, 200, (110, 1478, 195, "leaf", 6.299122302743831, 25.664148774113194,
                                    0.09544917809126803, 0.09545317809126803)),
    ("toy", "pod", 0.25, 512, 600, (271, 15818, 2079, "pod", 4.718414346666128, 19.071341799946744,
                                    0.01610973514184386, 0.01611573514184386)),
    ("toy", "rack", 0.1, 512, 600, (282, 15913, 2077, "nic", 2.9671842924390117, 11.76333203789285,
                                    0.011899203958282914, 0.011905203958282914)),
    ("gaudi2-cluster", "leaf", 0.05, 1024, 600, (206, 2956, 3245, "nic", 2.212031008999575, 8.879225169771898,
                                                 0.010739255376644913, 0.010747255376644912)),
    ("dgx-h100-superpod", "spine", 0.02, 4096, 800, (216, 869, 2789, "nic", 1.627908214010215,
                                                     6.640330977440486, 0.006382978723404255,
                                                     0.006388978723404255)),
]


@pytest.mark.parametrize("case", range(len(PINNED)))
def test_simulate_gives_the_results_of_the_simulator_before_the_replay(case: int, tmp_path) -> None:
    system, tier, amount, gpus, pairs, expected = PINNED[case]
    if system in ("tiny", "toy"):
        path = tmp_path / f"{system}.yaml"
        path.write_text(TINY if system == "tiny" else TOY)
        system = str(path)
    got = _case(system, tier, amount, gpus, pairs, case)
    assert got[:4] == expected[:4]
    assert got[4:] == pytest.approx(expected[4:], rel=1e-9)
