"""Mutation wave 9 (hM9, session 38): `stage_params.dp_groups` with CP and `step_traffic.dp_collectives`' use of it.

By hand from `dp_groups`' docstring (megatron-core 0.16.1 distributed_data_parallel.py:291-301, the DP x CP group):
rank = t + TP c + ... in the tp-cp-* orders, so CP's ranks sit TP apart whatever follows them; the dense gradients
are reduced over DP x CP ranks and the routed experts' over the expert data-parallel ranks at their own stride.
"""

from __future__ import annotations

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training.enums import RankOrder
from infraplan.training.memory import GRAD_BYTES, local_expert_params, local_params
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import dp_groups
from infraplan.training.step_traffic import dp_collectives

MOE = load_model("mixtral-8x7b")


def _plan(cp: int, dp: int, ep: int, order: RankOrder) -> PlanArrays:
    return PlanArrays.one_plan(tp=2, pp=2, dp=dp, cp=cp, ep=ep, etp=None, vpp=1, micro_batch=1, global_batch=64,
                               seq_len=8192, recompute=0, zero=0, dtype=0, attention=0, order=int(order),
                               sequence_parallel=1)


def test_dp_one_keeps_the_cp_ranks_tp_apart_when_pp_sits_between_cp_and_dp() -> None:
    # tp-cp-pp-dp, TP 2, CP 2, PP 2, DP 1: rank = t + 2 c + 4 p; the group is the 2 CP ranks, 2 apart (not the
    # DP stride 8 / CP = 4)
    row = _plan(cp=2, dp=1, ep=1, order=RankOrder.TP_CP_PP_DP).one_row
    assert dp_groups(row)[:2] == (2, 2)


def test_moe_gradients_reduce_dense_over_dp_and_experts_over_their_own_group() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(32).fabric
    row = _plan(cp=1, dp=4, ep=2, order=RankOrder.TP_CP_DP_PP).one_row
    # without CP: dense over DP 4 ranks TP = 2 apart, experts over DP / EP = 2 ranks 4 apart
    assert dp_groups(row) == (4, 2, 2, 4)
    params, experts = float(local_params(MOE, row)), float(local_expert_params(MOE, row))
    out = dp_collectives(MOE, fabric, row, params, experts, GRAD_BYTES, 0)
    dense = collective_seconds(fabric, "all_reduce", (params - experts) * GRAD_BYTES, 4.0, 2.0)
    routed = collective_seconds(fabric, "all_reduce", experts * GRAD_BYTES, 2.0, 4.0)
    assert out["allreduce"] == dense + routed
