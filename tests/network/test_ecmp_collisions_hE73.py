"""ECMP fabrics: the analytical model prices the expected hash collisions the flow model draws (hE73).

Before hE73 `collective --sim analytical` spread every flow evenly on every fabric, so on Meta's own RoCE cluster
(meta-genai-roce-24k, 16 flows a pair) a packed send-recv was 1.46-1.56x faster than the flow model's hashed answer,
and on gaudi2 / mi355x 2.5-3x. `network.ecmp_collisions` prices balls into bins per equal-cost pool.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.network.collective_schedules import estimate_collective, place
from infraplan.network.ecmp_collisions import collision_factor, expected_slowest, max_load_cdf
from infraplan.network.flow_schedules import flow_phases
from infraplan.network.routing import build_links
from infraplan.network.topology import build_topology

SIZE = 64 * 2**20


def _brute_cdf(balls: int, bins: int) -> dict[int, float]:
    """P(max <= m) by enumerating every assignment of `balls` balls to `bins` bins."""
    counts: dict[int, int] = {}
    for throw in itertools.product(range(bins), repeat=balls):
        top = max(np.bincount(throw, minlength=bins))
        counts[int(top)] = counts.get(int(top), 0) + 1
    total, run, out = bins**balls, 0, {}
    for m in range(balls + 1):
        run += counts.get(m, 0)
        out[m] = run / total
    return out


@pytest.mark.parametrize(("balls", "bins"), [(5, 3), (7, 2), (6, 4), (4, 4)])
def test_largest_bin_law_is_exact(balls: int, bins: int) -> None:
    m0, cdf = max_load_cdf(balls, bins)
    brute = _brute_cdf(balls, bins)
    assert m0 == -(-balls // bins)
    for i, f in enumerate(cdf):
        assert f == pytest.approx(brute[m0 + i], abs=1e-9)
    assert brute[m0 - 1] == 0.0


def test_two_balls_in_two_bins_expected_slowest() -> None:
    """Max of 2 balls in 2 bins: 1 or 2 with probability 1/2 each; the max of two such groups: 1 w.p. 1/4."""
    assert expected_slowest([(2, 2, 1.0, 1)], 0.0) == pytest.approx(1.5)
    assert expected_slowest([(2, 2, 1.0, 2)], 0.0) == pytest.approx(2 - 0.25)
    assert expected_slowest([(2, 2, 1.0, 1)], 1.8) == pytest.approx(0.5 * 1.8 + 0.5 * 2)


def test_two_racks_send_recv_matches_a_seeded_monte_carlo_of_the_hashes() -> None:
    """32 packed GPUs on meta-genai-roce-24k: rack 0's 16 GPUs send to rack 1's and back, 16 flows a pair, so each
    rack throws 256 flows on its uplinks; the descent into the partner rack repeats the climb's draw (counted once),
    so the step's time is the larger of two racks' busiest uplink: a seeded Monte Carlo of that hashing agrees."""
    spec = load_system("meta-genai-roce-24k")
    topo = build_topology(spec)
    links = build_links(topo, 1e12, spec.network.collective_efficiency)
    members, _ = place(spec.total_accelerators, 32, "packed", "GPU")
    (step, _), = flow_phases("send-recv", "direct", members, topo.scale_up_domain_gpus, SIZE)
    factor = collision_factor(topo, links, step, 16)
    bins = topo.tiers[1].switches_per_plane
    rng = np.random.default_rng(73)
    draws = rng.integers(0, bins, size=(20000, 2, 256))
    tops = np.max([[np.bincount(d, minlength=bins).max() for d in pair] for pair in draws], axis=1)
    assert factor == pytest.approx(tops.mean() / (256 / bins), rel=0.01)
    assert factor > 1.3  # (the even spread it was before: 1.0)


@pytest.mark.parametrize(("system", "gpus", "placement", "line_at_least"), [
    ("meta-genai-roce-24k", 2048, "packed", 1.4),
    ("meta-genai-roce-24k", 6144, "spread", 1.2),
    ("gaudi2-cluster", 512, "packed", 2.3),
    ("mi355x-cluster", 512, "spread", 2.2),
])
def test_analytical_send_recv_is_within_10_percent_of_the_flow_models_mean_over_seeds(
        system: str, gpus: int, placement: str, line_at_least: float) -> None:
    cluster = Cluster.resolve(load_system(system))
    said = estimate_collective("send-recv", cluster, gpus, SIZE, placement=placement)
    flows = [estimate_collective("send-recv", cluster, gpus, SIZE, placement=placement, sim="flow", seed=s).time_s
             for s in range(5)]
    assert said.time_s == pytest.approx(float(np.mean(flows)), rel=0.10)
    even = estimate_collective("send-recv", _even(cluster), gpus, SIZE, placement=placement)
    assert said.time_s > line_at_least * even.alpha_beta_time_s  # the even spread (the base's answer) is 1.0x
    # hE74: train and serve price the collisions too (`network.ecmp_tiers`), the same number for these pairs
    assert "hash collisions" in said.time_basis and said.priced_time_s == pytest.approx(said.time_s, rel=1e-9)
    assert any("balls into bins" in a for a in said.assumptions)


def _even(cluster: Cluster) -> Cluster:
    """`cluster` with its switches routing adaptively: every flow spread evenly, no collision priced."""
    net = cluster.system.network.model_copy(update={"load_balancing": "adaptive", "load_balancing_source": "test"})
    return Cluster.resolve(cluster.system.model_copy(update={"network": net}))


def test_adaptive_fabrics_and_the_even_spread_keep_their_answer() -> None:
    """An adaptive copy of the RoCE fabric prices no collision (flow and analytical agree there, hF73); nor does an
    ECMP step that crosses no hashed pool (a ring's neighbours: 1.000x in the flow model)."""
    spec = load_system("meta-genai-roce-24k")
    net = spec.network.model_copy(update={"load_balancing": "adaptive", "load_balancing_source": "test"})
    adaptive = Cluster.resolve(spec.model_copy(update={"network": net}))
    said = estimate_collective("send-recv", adaptive, 2048, SIZE)
    assert said.time_s == said.priced_time_s and "hash collisions" not in said.time_basis
    ring = estimate_collective("all-reduce", Cluster.resolve(spec), 512, SIZE, algorithm="ring")
    assert "hash collisions" not in ring.time_basis
    assert ring.time_s == estimate_collective("all-reduce", adaptive, 512, SIZE, algorithm="ring").time_s
