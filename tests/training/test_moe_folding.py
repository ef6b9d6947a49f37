"""MoE parallel folding (expert TP and EP laid over the stage's TP x CP x DP ranks): hand arithmetic on the
expert GEMMs, the EP all-to-all group, expert memory, and the unfolded layout left exactly as it was."""

from __future__ import annotations

import numpy as np
import pytest
from tests.training.conftest import any_split

from infraplan.catalog import load_model
from infraplan.errors import InputError
from infraplan.ops.layer import layer_ops
from infraplan.training.axes import SearchSpace, enumerate_axes
from infraplan.training.enums import RankOrder
from infraplan.training.estimate import estimate_training
from infraplan.training.layer_layout import layer_layout
from infraplan.training.memory import local_expert_params, memory_breakdown, sharded_params
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import train_command

QWEN = load_model("qwen3-235b-a22b")  # 94 layers, 128 experts, top-8, h 4096, expert FFN 1536 (SwiGLU)
# H026: Qwen3-235B on 256 H100, TP2 PP8 VP4 EP32 (ETP1): DP16, so EP32 spans TP2 x DP16
H026 = dict(tp=2, pp=8, vpp=4, ep=32, seq_len=4096, global_batch=8192, micro_batch=1, dtype="fp8", zero=1,
            order="tp-cp-dp-pp", stack="nemo-26.04")


def _plan(**kw: object) -> PlanArrays:
    base = dict(tp=2, pp=8, dp=16, cp=1, ep=32, etp=1, vpp=4, micro_batch=1, global_batch=8192, seq_len=4096,
                recompute=0, zero=1, dtype=0, order=RankOrder.TP_CP_DP_PP)
    return PlanArrays.build(**{**base, **kw})


def _gemm(ops, role):
    return next(g for g in ops.gemms if g.role == role)


def test_folded_expert_gemms_use_etp_and_every_rank_sp_shard() -> None:
    plan = _plan()
    ops = layer_ops(QWEN, layer_layout(plan, np.array([True])))
    up, down = _gemm(ops, "expert_up"), _gemm(ops, "expert_down")
    # each rank dispatches its SP shard (4096 / TP2 tokens x top-8); the EP32 x ETP1 group feeds the 128 / 32 = 4
    # local experts 32 x 2048 x 8 / 128 = 4096 tokens each, at the full width 1536 (ETP 1, not TP 2)
    assert float(up.m[0]) == 4096.0 and float(down.m[0]) == 4096.0
    assert float(up.n[0]) == 2 * 1536 and float(up.k) == 4096
    assert float(down.n) == 4096 and float(down.k[0]) == 1536
    assert float(np.ravel(up.count)[0]) == 4.0
    # the per-rank expert FLOPs equal the unfolded layout's (same routed rows x width per rank)
    unfolded = layer_ops(QWEN, layer_layout(_plan(etp=2, ep=16), np.array([True])))
    assert float(up.flops()[0]) == pytest.approx(float(_gemm(unfolded, "expert_up").flops()[0]), rel=1e-12)
    assert float(_gemm(unfolded, "expert_up").m[0]) == 4096 * 8 * 16 / 128  # EP16 over DP, TP2 experts


def test_folded_all_to_all_group_and_expert_tp_collectives() -> None:
    plan = _plan()
    ops = layer_ops(QWEN, layer_layout(plan, np.array([True])))
    (a2a,) = [c for c in ops.collectives_fwd if c.role == "ep"]
    assert float(np.asarray(a2a.group)[0]) == 32 and int(np.asarray(a2a.stride)[0]) == 1  # 32 adjacent ranks
    assert float(np.asarray(a2a.bytes)[0]) == 2048 * 8 * 4096 * 2.0  # the SP shard's routed copies, bf16
    # Qwen3 has no shared expert: a folded routed layer keeps only the attention's TP all-gather/reduce-scatter
    tp = [c for c in ops.collectives_fwd if c.role == "tp" and bool(np.asarray(c.mask)[0]) and c.kind == "all_gather"]
    assert sum(c.count for c in tp) == 1.0
    # ETP 2 over TP 4 (EP16 x ETP2 = 32 ranks): the received tokens are gathered over the ETP pair
    etp2 = layer_ops(QWEN, layer_layout(_plan(tp=4, dp=8, ep=16, etp=2), np.array([True])))
    gathers = [c for c in etp2.collectives_fwd if c.kind == "all_gather" and c.role == "tp"
               and bool(np.asarray(c.mask)[0]) and float(np.asarray(c.group)[0]) == 2.0]
    assert len(gathers) == 1 and float(np.asarray(gathers[0].bytes)[0]) == 1024 * 8 * 4096 * 2.0 * 2


def test_folded_group_placement_by_rank_order() -> None:
    dp_outer = _plan()
    assert (int(dp_outer.ep_stride[0]), int(dp_outer.edp[0]), int(dp_outer.edp_stride[0])) == (1, 1, 32)
    # tp-cp-pp-dp: the stage's TP x CP blocks sit PP = 8 ranks apart, so EP32 past one block spreads 8x
    pp_inner = _plan(order=RankOrder.TP_CP_PP_DP, ep=2)
    assert int(pp_inner.ep_stride[0]) == 1  # EP2 x ETP1 inside the TP2 block
    pp_wide = _plan(order=RankOrder.TP_CP_PP_DP)
    assert int(pp_wide.ep_stride[0]) == 8
    # H018: DeepSeek-V3, 1,024 GPUs TP2 PP8 DP64 EP64 ETP1: EP on 64 adjacent ranks (8 nodes), expert DP 2
    h018 = _plan(dp=64, ep=64)
    assert (int(h018.ep_stride[0]), int(h018.edp[0]), int(h018.edp_stride[0])) == (1, 2, 64)


def test_unfolded_plan_properties_are_the_old_dplayer_layout() -> None:
    for order in RankOrder:
        plan = _plan(etp=None, ep=8, order=order)
        assert not bool(plan.folded[0]) and int(plan.expert_tp[0]) == 2 and plan.row(0)["etp"] == 2
        assert int(plan.ep_stride[0]) == int(plan.dp_stride[0])
        assert int(plan.edp[0]) == 16 // 8 and int(plan.edp_stride[0]) == int(plan.dp_stride[0]) * 8


def test_folded_expert_memory_is_sharded_by_ep_x_etp_and_edp() -> None:
    plan = _plan()
    expert = 3 * 4096 * 1536  # gate, up, down
    stage_layers = 12  # ceil(94 / 8)
    assert float(local_expert_params(QWEN, plan)[0]) == stage_layers * (128 / 32) * expert
    # expert DP = TP2 x DP16 / (EP32 x ETP1) = 1: ZeRO-1 cannot shard the expert optimizer state
    experts = float(local_expert_params(QWEN, plan)[0])
    dense = float(sharded_params(QWEN, plan)[0]) - experts
    assert dense == pytest.approx((float(sharded_params(QWEN, _plan(ep=1, etp=2))[0])
                                   - float(local_expert_params(QWEN, _plan(ep=1, etp=2))[0]) / 16), rel=1e-12)
    optimizer = float(memory_breakdown(QWEN, plan)["optimizer"][0])
    assert optimizer == pytest.approx(12.0 * (dense + experts), rel=1e-12)
    # ETP 2 halves each expert; EP16 x ETP2 leaves the same 32-rank group and expert DP 1
    assert float(local_expert_params(QWEN, _plan(ep=16, etp=2))[0]) == pytest.approx(
        stage_layers * (128 / 16) * expert / 2, rel=1e-12)


def test_folding_rules() -> None:
    assert bool(valid_mask(QWEN, _plan())[0])
    assert not bool(valid_mask(QWEN, _plan(etp=None))[0])  # EP32 does not divide DP16 without folding
    assert not bool(valid_mask(QWEN, _plan(ep=64))[0])  # EP64 x ETP1 does not divide TP2 x DP16
    assert not bool(valid_mask(QWEN, _plan(sequence_parallel=0))[0])
    with pytest.raises(InputError, match="EP must divide DP"):
        estimate_training("qwen3-235b-a22b", "dgx-h100-superpod", 256, **H026)
    with pytest.raises(InputError, match="only for MoE"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=2, etp=1, seq_len=4096, global_batch=8)


def test_h026_runs_folded_and_unfolded_estimates_are_unchanged() -> None:
    folded = estimate_training("qwen3-235b-a22b", "dgx-h100-superpod", 256, etp=1, **H026)
    assert folded.fits and folded.config.etp == 1 and folded.breakdown_s.ep_comm > 0.0
    assert "--etp 1" in train_command("qwen3-235b-a22b", "dgx-h100-superpod", folded.config, "nemo-26.04")
    # etp = TP spelled out is the default, to the bit
    kw = dict(tp=2, pp=8, vpp=4, ep=16, seq_len=4096, global_batch=8192, micro_batch=1, dtype="fp8", zero=1,
              order="tp-cp-dp-pp", stack="nemo-26.04")
    default = estimate_training("qwen3-235b-a22b", "dgx-h100-superpod", 256, **kw)
    spelled = estimate_training("qwen3-235b-a22b", "dgx-h100-superpod", 256, etp=2, **kw)
    assert default.step_time_s == spelled.step_time_s and default.config.etp == 2


def test_h018_folding_keeps_ep_on_fewer_nodes_and_speeds_the_all_to_all() -> None:
    kw = dict(tp=2, pp=8, vpp=4, ep=64, seq_len=4096, global_batch=8192, micro_batch=1, dtype="fp8", zero=1,
              order="tp-cp-dp-pp", stack=any_split("deepseek-v3", "nemo-26.04"))  # 61 layers on PP8 x VP4 (hR44)
    unfolded = estimate_training("deepseek-v3", "dgx-h100-superpod", 1024, **kw)
    folded = estimate_training("deepseek-v3", "dgx-h100-superpod", 1024, etp=1, **kw)
    assert folded.breakdown_s.ep_comm < unfolded.breakdown_s.ep_comm  # 8 nodes instead of 16
    # experts whole on each rank (ETP 1): more expert weight per GPU, optimizer over expert DP 2
    assert folded.memory_breakdown_bytes.weights > unfolded.memory_breakdown_bytes.weights


def test_search_enumerates_expert_tp_one_and_tp() -> None:
    shape = load_model("qwen3-30b-a3b")
    plans = enumerate_axes(SearchSpace(shape, 16, 4096, 64, (0,), 8))
    ok = valid_mask(shape, plans)
    tp2 = ok & (plans.tp == 2)
    assert set(np.unique(plans.expert_tp[tp2]).tolist()) == {1, 2}
    assert np.any(ok & (plans.expert_tp == 1) & (plans.tp == 2) & (plans.dp % plans.ep != 0))  # folded EP past DP
    dense = enumerate_axes(SearchSpace(load_model("llama3-8b"), 8, 4096, 64, (0,), 8))
    assert np.array_equal(dense.expert_tp, dense.tp) and not dense.folded.any()


def test_a_plan_copied_with_another_tp_keeps_the_unfoldedlayer_layout() -> None:
    from dataclasses import replace

    plan = _plan(etp=None, ep=8)
    wider = replace(plan, tp=np.array([4]), dp=np.array([8]))
    assert int(wider.expert_tp[0]) == 4 and not bool(wider.folded[0])
    assert bool(valid_mask(load_model("llama3-8b"), replace(_plan(etp=None, ep=1), tp=np.array([4])))[0])
