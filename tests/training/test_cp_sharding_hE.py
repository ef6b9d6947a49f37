"""Which ranks shard the optimizer state, gradients and parameters when context parallelism is on (hE, session 38).

CP ranks hold the same parameters and each computes gradients on its own part of the sequence, so Megatron-Core
reduces the gradients and shards the distributed optimizer over DP x CP: megatron-core 0.16.1
distributed/distributed_data_parallel.py:291-301 (buffers on `intra_dp_cp_group` / `intra_expt_dp_group`),
process_groups_config.py:473-481 (`get_data_parallel_group(with_context_parallel=True)`, the expert data-parallel
group), optimizer/__init__.py:637, :675; the expert data-parallel size world / (ETP x EP x PP) = TP x CP x DP /
(EP x ETP) (parallel_state.py:788-791); megatron-core 0.8.0 (EP inside DP): `get_data_modulo_expert_parallel_group(
with_context_parallel=True)` (distributed_data_parallel.py:170, optimizer/__init__.py:357), the 'dp-cp' group with DP
read as DP / EP (parallel_state.py:262-263, :711-724). torchtitan 0.3.0 FSDP over dp_shard x cp
(distributed/parallel_dims.py:222-225, :278). Hand arithmetic from those; each test fails on the tree before hE
(dense over DP alone, experts inside DP over DP / EP, the DP collectives over DP ranks).
"""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.cluster import Cluster
from infraplan.network.collectives import collective_seconds
from infraplan.training.enums import RankOrder
from infraplan.training.memory import GRAD_BYTES, local_expert_params, local_params, memory_breakdown, sharded_params
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import dp_groups
from infraplan.training.step_traffic import dp_collectives

DENSE = load_model("llama3-70b")
MOE = load_model("mixtral-8x7b")  # 8 experts


def _plan(tp: int = 2, cp: int = 2, dp: int = 4, pp: int = 2, ep: int = 1, etp: int | None = None, zero: int = 1,
          order: RankOrder = RankOrder.TP_CP_DP_PP) -> PlanArrays:
    return PlanArrays.one_plan(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, etp=etp, vpp=1, micro_batch=1,
                               global_batch=64, seq_len=8192, recompute=0, zero=zero, dtype=0, attention=0,
                               order=int(order), sequence_parallel=1)


def test_dense_shard_is_over_dp_times_cp() -> None:
    plan = _plan()
    local = float(local_params(DENSE, plan.one_row))
    # Megatron-Core's distributed optimizer on the DP x CP group: 4 x 2 = 8 ranks share each dense parameter
    assert float(sharded_params(DENSE, plan.one_row)) == local / 8
    # the optimizer's 12 B/param (fp32 master + two moments) of that shard: half the CP1 plan's at the same DP
    state = float(memory_breakdown(DENSE, plan)["optimizer"][0])
    assert state == pytest.approx(12.0 * local / 8, rel=1e-12)
    assert state == pytest.approx(float(memory_breakdown(DENSE, _plan(cp=1))["optimizer"][0]) / 2, rel=1e-12)


def test_experts_inside_dp_shard_over_cp_times_dp_over_ep() -> None:
    row = _plan(ep=2).one_row  # EP2 inside DP4, expert TP = TP (not folded)
    assert not row.folded
    params, experts = float(local_params(MOE, row)), float(local_expert_params(MOE, row))
    assert 0.0 < experts < params
    # dense over DP x CP = 8; experts over CP x DP / EP = 2 x 4 / 2 = 4 (0.8.0's 'dp-cp' modulo EP; 0.16.1's
    # TP x CP x DP / (EP x ETP) = 2 x 2 x 4 / (2 x 2) = 4)
    assert float(sharded_params(MOE, row)) == pytest.approx((params - experts) / 8 + experts / 4, rel=1e-12)


def test_folded_experts_keep_the_expert_data_parallel_size() -> None:
    row = _plan(ep=4, etp=1).one_row  # folded: EP4 x ETP1 over TP2 x CP2 x DP4 = 16 ranks, expert DP 4 (CP counted)
    assert row.folded and row.edp == 4
    params, experts = float(local_params(MOE, row)), float(local_expert_params(MOE, row))
    assert float(sharded_params(MOE, row)) == pytest.approx((params - experts) / 8 + experts / 4, rel=1e-12)


def test_groups_and_their_strides_by_rank_order() -> None:
    # tp-cp-dp-pp: rank = t + 2 c + 4 d (Megatron's tp-cp-...-dp order): DP x CP = 8 ranks 2 apart, uniform
    row = _plan().one_row
    assert dp_groups(row)[:2] == (8, 2)
    # tp-cp-pp-dp: the TP x CP blocks sit PP = 2 apart: priced as 8 ranks 4 apart (`PlanArrays._stage_stride`)
    assert dp_groups(_plan(order=RankOrder.TP_CP_PP_DP).one_row)[:2] == (8, 4)
    # DP 1: the CP ranks alone, TP apart
    assert dp_groups(_plan(dp=1).one_row)[:2] == (2, 2)
    # experts inside DP: EDP 2 (DP4 / EP2, 8 ranks apart) x CP2 -> 4 ranks at 8 / 2 = 4
    assert dp_groups(_plan(ep=2).one_row)[2:] == (4, 4)
    # without CP: DP and the expert DP at their own strides, as before hE
    plain = _plan(cp=1, ep=2).one_row
    assert dp_groups(plain) == (plain.dp, plain.dp_stride, plain.edp, plain.edp_stride) == (4, 2, 2, 4)


def test_dp_collectives_run_over_dp_times_cp() -> None:
    fabric = Cluster.resolve("dgx-h100-superpod").for_gpus(32).fabric
    row = _plan(zero=0).one_row
    params = float(local_params(DENSE, row))
    out = dp_collectives(DENSE, fabric, row, params, 0.0, GRAD_BYTES, 0)
    # ZeRO 0: Megatron DDP's gradient all-reduce over the DP x CP group (8 ranks, 2 apart)
    assert out["allreduce"] == collective_seconds(fabric, "all_reduce", params * GRAD_BYTES, 8.0, 2.0)
    assert out["allreduce"] != collective_seconds(fabric, "all_reduce", params * GRAD_BYTES, 4.0, 4.0)
