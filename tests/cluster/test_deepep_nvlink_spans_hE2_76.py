"""hE2 76: DeepEP's NVLink leg over the sides each straddling EP group really has, and why its own-node factor keeps
`ep_domains`' gcd count.

hE76 priced DeepEP's RDMA copies over the domains each group spans (`ep_node_copies`) but left the NVLink leg of
`flex_dispatch_seconds` on the gcd's "8 domains of 4" (EP32 on 60-GPU segments). A rank on a side of c ranks forwards
(c - 1) / c of the ranks a token reaches, at the measured all-to-all rate of c ranks of an NVL72 (which rises and
falls with c), so the slowest side of any group sets the leg (`ep_forward_ranks`). Checked here by brute force: every
group of a placement period, every side, the DeepSeek-V3 router sampled, each forwarded copy counted.

`deepep_own_node_factor` (read only with DEEPEP_KERNEL_RATE off) is N / (N - 1) of the gcd's N on purpose: it undoes
the share (N - 1) / N = (n - d) / n that NCCL's all-to-all puts on the NICs for that same gcd reading, so the NICs
carry a token copy per domain reached, as the kernel-rate path prices; the spans' N (2) would price 1.75x that."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from tests.ops.test_ops_expert_routing import routed_experts

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.cluster.deepep import (
    deepep_node_dedup,
    deepep_own_node_factor,
    ep_domains,
    ep_forward_ranks,
    ep_node_copies,
    up_bytes_per_s,
)
from infraplan.network.collective_formulas import all_to_all_time
from infraplan.network.collectives import Fabric
from infraplan.ops.expert_routing import expected_nodes_per_token

SYSTEM = "gb200-nvl72-superpod"


def _slowest_forwarding(n: int, stride: int, unit: int, picks: np.ndarray, experts: int, fabric: Fabric) -> float:
    """Brute force: picoseconds a byte of one token copy costs the slowest rank's NVLink forwarding, over every group
    of a placement period and every side of it. A token sent by each of the n ranks reaches a side's ranks; the side's
    RDMA receiver (a rank of the side drawn per token, seed 2) forwards to the others it reaches; a side of c ranks
    shares the copies over its c ranks; the slowest side size."""
    rng = np.random.default_rng(2)
    block, period = n * stride, int(np.lcm(n * stride, unit))
    by_side: dict[int, list[float]] = {}  # side size -> copies a rank of it forwards, per side met
    hits = np.zeros((len(picks), n), dtype=bool)  # the distinct ranks each token reaches
    np.put_along_axis(hits, picks * n // experts, True, axis=1)
    for first in range(0, period, block):
        for offset in range(stride):
            domain_of_rank = (first + offset + stride * np.arange(n)) // unit
            for domain in np.unique(domain_of_rank):
                side = np.flatnonzero(domain_of_rank == domain)  # the group's ranks in this domain
                receiver = rng.choice(side, size=len(picks))
                forwarded = hits[:, side].sum(axis=1) - hits[np.arange(len(picks)), receiver]
                by_side.setdefault(len(side), []).append(n * float(np.mean(forwarded)) / len(side))
    # (sides of one size alike by symmetry: their mean, not the max of their sampling noise)
    return max(float(np.mean(v)) / float(up_bytes_per_s(fabric, c)) for c, v in by_side.items()) * 1e12


@pytest.mark.parametrize(("ep", "stride", "unit"), [(32, 1, 60), (16, 2, 60), (32, 1, 72), (64, 1, 60)])
def test_the_nvlink_leg_is_the_slowest_side_as_the_groups_lie(ep: int, stride: int, unit: int) -> None:
    """The leg `flex_dispatch_seconds` prices (ranks reached x (c - 1) / c at the rate of c, c = `ep_forward_ranks`)
    within 2 % of the brute force (4,000 tokens, seed 0); at EP32 / EP64 on 60-GPU units the gcd's d = 4 read it
    25 % low."""
    shape = load_model("deepseek-v3")
    fabric = replace(Cluster.resolve(SYSTEM).fabric, placement_unit=unit)
    picks = routed_experts(256, 8, 8, 4, seed=0, tokens=4000)
    counted = _slowest_forwarding(ep, stride, unit, picks, 256, fabric)

    def leg(c: float) -> float:  # ps a byte
        return float(expected_nodes_per_token(shape, ep)) * (c - 1.0) / c / float(up_bytes_per_s(fabric, c)) * 1e12

    assert leg(float(ep_forward_ranks(fabric, ep, stride))) == pytest.approx(counted, rel=0.02)
    gcd = float(ep_domains(fabric, ep, stride)[1])
    if unit == 60 and stride == 1:
        assert leg(gcd) < 0.8 * counted


def test_aligned_groups_keep_the_gcd_sides() -> None:
    """Blocks dividing the unit or divided by it: `ep_domains`' d exactly, element by element."""
    base = Cluster.resolve(SYSTEM).fabric
    for unit in (64, 32, 16, 0):
        fabric = replace(base, placement_unit=unit)
        group, stride = np.asarray([32, 32, 8]), np.asarray([1, 2, 1])
        assert np.array_equal(ep_forward_ranks(fabric, group, stride), ep_domains(fabric, group, stride)[1])


def test_the_own_node_factor_undoes_ncclss_gcd_share() -> None:
    """With DEEPEP_KERNEL_RATE off the deduplicated bytes x `deepep_own_node_factor` go through NCCL's all-to-all:
    EP32 on 60-GPU units prices one token copy per domain reached on the NICs (as the aligned 2-domain EP32 on
    16-GPU units does, within 0.5 %); the spans' N = 2 in the factor would price 1.75x."""
    shape = load_model("deepseek-v3")
    base = Cluster.resolve(SYSTEM).fabric
    copy = 4096 * shape.hidden_size * 2.0  # bytes of one copy of 4,096 tokens
    size = copy * shape.experts_per_token

    def nccl(unit: int, factor: float | None = None) -> float:
        fabric = replace(base, placement_unit=unit)
        own = float(deepep_own_node_factor(fabric, 32, 1)) if factor is None else factor
        return float(all_to_all_time(fabric, size * float(deepep_node_dedup(shape, fabric, 32, 1)) * own, 32, 1))

    straddling = replace(base, placement_unit=60)
    reached, spans = (float(x) for x in ep_node_copies(shape, straddling, 32, 1))
    assert float(spans) == 2.0 and float(ep_domains(straddling, 32, 1)[2]) == 8.0
    assert nccl(60) == pytest.approx(nccl(16), rel=5e-3)
    assert nccl(60) == pytest.approx(copy * reached / straddling.nic_bytes_per_s, rel=5e-3)
    assert nccl(60, spans / (spans - 1.0)) == pytest.approx(1.75 * nccl(60), rel=5e-3)
