"""Training's pipeline hops priced where their two stages sit (`training.pipeline_hops`,
`network.placement.pipeline_hops_across`): the crossing hops counted by hand and against a rank-by-rank count, the
chain's mean transfer, and the 8-GPU-node case unchanged (every hop crosses, as the single stride priced it)."""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.cluster import Cluster
from infraplan.network.collectives import send_recv_seconds
from infraplan.network.placement import pipeline_hops_across
from infraplan.training import pipeline_hops
from infraplan.training import step_time as st
from infraplan.training.enums import Attention, Dtype, RankOrder, Recompute
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.pipeline_hops import pipeline_p2p_time
from infraplan.training.plan import PlanArrays
from infraplan.training.step_traffic import pipeline_and_dp_traffic

SHAPE = load_model("llama3-405b")
NEMO = load_stack("nemo-26.04")


def _by_rank(block: int, stride: int, pp: int, replicas: int, step: int, unit: int) -> int:
    """The most hops of a replica with some rank r and r + stride in different `unit`-GPU domains, rank by rank."""
    return max(sum(any((o + j * stride + c) // unit != (o + (j + 1) * stride + c) // unit for c in range(block))
                   for j in range(pp - 1)) for o in (d * step for d in range(replicas)))


def test_crossing_hops_by_hand_on_nvl72() -> None:
    # TP8 PP16 DP4 tp-cp-dp-pp in 64-GPU segments: stage j = ranks [32 j, 32 j + 32) (replica d at 8 d); the pair
    # (r, r + 32) crosses 64 k on the odd hops 1, 3, ..., 13 (32 -> 64, 96 -> 128, ...): 7 of 15
    assert pipeline_hops_across(8, 32, 16, 4, 8, 64) == 7
    # tp-cp-pp-dp: replica d on [128 d, 128 d + 128), stage j = [8 j, 8 j + 8): only hop 7 (56..71 -> 64..79)
    assert pipeline_hops_across(8, 8, 16, 4, 128, 64) == 1
    # whole 72-GPU racks (fill): replica 0 crosses 72 on hop 8 (64..79); replica 1 (128..255) crosses 144 and 216
    # on hops 1 and 10: the slowest replica pays 2
    assert pipeline_hops_across(8, 8, 16, 1, 128, 72) == 1
    assert pipeline_hops_across(8, 8, 16, 4, 128, 72) == 2
    # 8-GPU nodes, TP8: every hop crosses; TP2 PP4 (8 ranks) in one node: none
    assert pipeline_hops_across(8, 8, 16, 8, 128, 8) == 15
    assert pipeline_hops_across(2, 2, 4, 1, 8, 8) == 0


def test_the_count_equals_a_rank_by_rank_count() -> None:
    rng = np.random.default_rng(46)
    for _ in range(200):
        block = int(rng.choice([1, 2, 4, 8]))
        dp = int(rng.integers(1, 9))
        pp = int(rng.integers(2, 17))
        inner = bool(rng.integers(0, 2))
        stride, step = (block, block * pp) if inner else (block * dp, block)
        unit = int(rng.choice([4, 8, 16, 64, 72]))
        assert pipeline_hops_across(block, stride, pp, dp, step, unit) == _by_rank(block, stride, pp, dp, step,
                                                                                   unit)


def test_chain_mean_by_hand() -> None:
    # PP16 VP4, 7 hops crossing: 4 x 7 + 3 wraps = 31 of the 63 transfers at the scale-out price
    assert pipeline_hops.chain_mean(16.0, 4.0, 1.0, 2.0, 7.0) == pytest.approx((32 * 1.0 + 31 * 2.0) / 63)
    assert pipeline_hops.chain_mean(16.0, 1.0, 1.0, 2.0, 15.0) == 2.0
    assert pipeline_hops.chain_mean(16.0, 4.0, 1.0, 2.0, 0.0) == 1.0
    # arrays: the same values
    got = pipeline_hops.chain_mean(np.array([16.0, 16.0]), np.array([4.0, 1.0]), 1.0, 2.0, np.array([7.0, 15.0]))
    assert np.allclose(got, [(32 + 62) / 63, 2.0], rtol=1e-12)
    # blocking, VP 1, one hop of 3 crossing: the chain at its mean, the m steady exchanges at the slowest hop
    blocking = NEMO.model_copy(update={"p2p_synchronize": True})
    t = pipeline_p2p_time(4.0, 1.0, 8.0, 0.0, blocking, 0.0, (1.0, 2.0, 1.0))
    assert t == pytest.approx(2 * 3 * (4.0 / 3.0) + 2 * 8 * 2.0)


def _plan(tp: int, pp: int, dp: int, order: RankOrder) -> PlanArrays:
    return PlanArrays.build(tp=tp, pp=pp, dp=dp, cp=1, ep=1, vpp=np.array([4, 4]), micro_batch=1,
                            global_batch=np.array([512, 1024]), seq_len=8192, recompute=Recompute.FULL, zero=1,
                            dtype=Dtype.BF16, attention=Attention.FLASH, order=order)


def test_an_8_gpu_node_pipeline_is_priced_as_before() -> None:
    """TP8 PP16 on DGX H100: every pair crosses a node, so each transfer is the single-stride send, the same bits."""
    cluster = Cluster.resolve("dgx-h100-superpod").placed(1024)
    fabric = cluster.fabric
    plan = _plan(8, 16, 8, RankOrder.TP_CP_DP_PP)
    traffic = pipeline_and_dp_traffic(SHAPE, fabric, plan)
    boundary = 8192 * SHAPE.hidden_size * 2.0 / 8
    old = send_recv_seconds(fabric, boundary, 64)
    assert set(np.ravel(traffic["p2p"]).tolist()) == {old}
    assert set(np.ravel(traffic["p2p_scale_out"]).tolist()) == {1.0}
    clear_one_plan_memo()
    pp_comm = st.step_time(SHAPE, cluster, plan, NEMO)["pp_comm"]
    assert np.ravel(pp_comm)[0] == pytest.approx(2.0 * 63 * old + float(np.ravel(traffic["embedding_sync"])[0]),
                                                 rel=1e-12)


def test_nvl72_segments_pay_the_crossing_hops_only() -> None:
    """TP8 PP16 DP4 on GB200 NVL72 (64-GPU segments): 31 of the 63 chain transfers over the NIC, the rest inside,
    where the single stride (gcd(64, 64) = 64 >= 2 x 32) took all 63 inside."""
    cluster = Cluster.resolve("gb200-nvl72-superpod").placed(512)
    fabric = cluster.fabric
    assert fabric.placement_unit == 64
    plan = _plan(8, 16, 4, RankOrder.TP_CP_DP_PP)
    traffic = pipeline_and_dp_traffic(SHAPE, fabric, plan)
    t_in, t_out = float(np.ravel(traffic["p2p_inside"])[0]), float(np.ravel(traffic["p2p_across"])[0])
    assert t_in == send_recv_seconds(fabric, 8192 * SHAPE.hidden_size * 2.0 / 8, 32)  # as before, inside
    assert t_out > 3 * t_in  # one NIC against the NVLink pair
    clear_one_plan_memo()
    pp_comm = float(np.ravel(st.step_time(SHAPE, cluster, plan, NEMO)["pp_comm"])[0])
    assert pp_comm == pytest.approx(2.0 * (32 * t_in + 31 * t_out), rel=1e-12)
    # the other order: stages of 8 consecutive ranks, only hop 7 crosses: 4 + 3 of 63
    inner = _plan(8, 16, 4, RankOrder.TP_CP_PP_DP)
    clear_one_plan_memo()
    got = float(np.ravel(st.step_time(SHAPE, cluster, inner, NEMO)["pp_comm"])[0])
    t8 = pipeline_and_dp_traffic(SHAPE, fabric, inner)
    a, b = float(np.ravel(t8["p2p_inside"])[0]), float(np.ravel(t8["p2p_across"])[0])
    assert got == pytest.approx(2.0 * (56 * a + 7 * b), rel=1e-12)


def test_rank_order_code() -> None:
    assert int(RankOrder.TP_CP_PP_DP) == pipeline_hops._TP_CP_PP_DP
