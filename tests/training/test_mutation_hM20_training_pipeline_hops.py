"""Mutation wave hM20 (session 44) on `training.pipeline_hops`: the p2p terms of a mixed pipeline (some hops inside
a 64-GPU segment, some across) by hand, on one plan's numbers and on arrays alike, in both rank orders."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from infraplan.cluster import Cluster
from infraplan.network.fabric import SCALE_UP_LATENCY_S
from infraplan.training.enums import RankOrder
from infraplan.training.pipeline_hops import chain_mean, pipeline_hop_terms

FABRIC = Cluster.resolve("gb200-nvl72-superpod").placed(512).fabric  # 64-GPU units (Slurm segments)
SIZE = 1e8  # bytes per rank per transfer


def _plans(tp: int, pp: int, dp: int, order: RankOrder) -> tuple[Any, Any]:
    stride = tp if order == RankOrder.TP_CP_PP_DP else tp * dp
    one = SimpleNamespace(tp=tp, cp=1, pp=pp, dp=dp, pp_stride=stride, order=int(order))
    rows = SimpleNamespace(**{k: np.array([v]) for k, v in vars(one).items()})
    return one, rows


def _inside() -> float:
    return SIZE / FABRIC.scale_up_bytes_per_s + SCALE_UP_LATENCY_S  # an NVLink pair


@pytest.mark.parametrize("one", [True, False])
def test_tp8_pp4_dp6_dp_inner_by_hand(one: bool) -> None:
    """tp-cp-dp-pp, stride 48: replica d's hop j pairs the block [8 d + 48 j, 8 d + 48 j + 56), which holds a
    multiple of 64 on 2 of the 3 hops of every replica (d = 0: 64 and 128). The single stride priced every hop
    across (gcd(64, 96) = 32 < 96): now the chain is (1 t_in + 2 t_out) / 3, t_out one NIC at the leaf's latency
    (hN65: the pair spans 96 ranks, inside a rail leaf's 288 GPUs, the RA's 8 leaves of a 576-GPU SU, 2 a rail; at
    the spine's latency on the 72-GPU top-of-rack leaves before)."""
    assert FABRIC.placement_unit == 64
    plan = _plans(8, 4, 6, RankOrder.TP_CP_DP_PP)[0 if one else 1]
    terms = {k: float(np.ravel(v)[0]) for k, v in pipeline_hop_terms(FABRIC, SIZE, plan, one).items()}
    assert FABRIC.tier_sizes[0] == 288
    t_out = SIZE / FABRIC.nic_bytes_per_s + FABRIC.tier_round_trip_latency_s[0]
    assert terms["p2p_inside"] == pytest.approx(_inside(), rel=1e-12)
    assert terms["p2p_across"] == pytest.approx(t_out, rel=1e-12)
    assert terms["p2p_hops_across"] == 2.0 and terms["p2p_scale_out"] == pytest.approx(2.0 / 3.0, rel=1e-15)
    assert terms["p2p"] == pytest.approx((_inside() + 2.0 * t_out) / 3.0, rel=1e-12)


@pytest.mark.parametrize("one", [True, False])
def test_tp8_pp16_dp4_pp_inner_by_hand(one: bool) -> None:
    """tp-cp-pp-dp, stride 8, replicas 128 apart: only hop 7 (56..71 -> 64..79) crosses, 1 of 15; its pair spans 16
    ranks, inside the leaf: one NIC at the leaf's latency."""
    plan = _plans(8, 16, 4, RankOrder.TP_CP_PP_DP)[0 if one else 1]
    terms = {k: float(np.ravel(v)[0]) for k, v in pipeline_hop_terms(FABRIC, SIZE, plan, one).items()}
    t_out = SIZE / FABRIC.nic_bytes_per_s + FABRIC.tier_round_trip_latency_s[0]
    assert terms["p2p_inside"] == pytest.approx(_inside(), rel=1e-12)
    assert terms["p2p_across"] == pytest.approx(t_out, rel=1e-12)
    assert terms["p2p_hops_across"] == 1.0 and terms["p2p_scale_out"] == pytest.approx(1.0 / 15.0, rel=1e-15)
    assert terms["p2p"] == pytest.approx((14.0 * _inside() + t_out) / 15.0, rel=1e-12)


def test_every_transfer_across_is_the_across_price_to_the_bit() -> None:
    """(3 x 0.1) / 3 is 0.10000000000000002 in floats: a chain that crosses on every transfer is t_out itself."""
    assert (3.0 * 0.1) / 3.0 != 0.1
    assert chain_mean(4.0, 1.0, 0.05, 0.1, 3.0) == 0.1
    assert chain_mean(np.array([4.0]), 1.0, 0.05, 0.1, np.array([3.0]))[0] == 0.1


@pytest.mark.parametrize("one", [True, False])
def test_the_slowest_replica_sets_the_count(one: bool) -> None:
    """Whole 72-GPU racks, TP8 PP16 DP4 tp-cp-pp-dp: replica 0 (ranks 0..127) crosses 72 on hop 8 alone, replica 1
    (128..255) crosses 144 and 216 on hops 1 and 10: the step waits for 2 crossing hops (module docstring)."""
    fabric = replace(FABRIC, placement_unit=72)
    plan = _plans(8, 16, 4, RankOrder.TP_CP_PP_DP)[0 if one else 1]
    assert float(np.ravel(pipeline_hop_terms(fabric, SIZE, plan, one)["p2p_hops_across"])[0]) == 2.0
