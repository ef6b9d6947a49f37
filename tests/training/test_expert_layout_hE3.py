"""The expert layout per stack (hE3, session 39): where each framework lays the routed experts' groups.

megatron-core >= 0.10.0 builds a separate expert rank generator (0.10.0 parallel_state.py:642-663, 0.16.1 :785-806:
tp = expert TP (default TP), ep, dp = world / (ETP x EP x PP), pp, cp = 1, in the dense order string), so with
expert TP = TP the EP peers sit TP apart across the dense layout's CP then DP ranks and EP x ETP must divide
TP x CP x DP; 0.9.0 (parallel_state.py:536) and 0.8.0 (:442-445) carved EP out of DP (EP | DP, peers DP apart).
Its PP groups must be the dense ones (0.16.1 :808-812 "the data parallel size of the attention and moe layers must
be the same" unless the order ends in pp or PP 1; 0.10.0 :665-668 compares the PP groups): under Megatron-Bridge's
tp-cp-ep-pp-dp (training/initialize.py:820, `use_tp_pp_dp_mapping`) with PP > 1, EP x ETP = TP x CP.
torchtitan 0.3.0 lays EP innermost over dp_shard x CP x TP (distributed/parallel_dims.py:277-279, sparse mesh
(pp, dp_replicate, efsdp, ep)): at TP 1, EP borrows CP ranks. Before hE3 every stack priced EP inside DP at
expert TP = TP: each test here fails there.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import first_broken_rule, plan_violations, valid_mask
from infraplan.training.stack_limits import EP_INSIDE_DP, EP_OVER_STAGE, EP_OVER_STAGE_SAME_PP, expert_layout
from infraplan.training.stage_params import dp_groups

MOE = load_model("qwen3-30b-a3b")  # 128 experts, 32 heads, 4 KV heads
NEMO = load_stack("nemo-26.04")
INSIDE_DP = NEMO.model_copy(update={"expert_parallel_layout": "ep-inside-dp"})  # the layout priced before hE3
RUN: dict[str, Any] = dict(seq_len=8192, global_batch=64, micro_batch=1, dtype="bf16", recompute="full", vpp=1)


def _train(gpus: int, stack: Any, **plan: Any) -> Any:
    return estimate_training("qwen3-30b-a3b", "dgx-h100-superpod", gpus, stack=stack, **{**RUN, **plan})


def _plan(layout: int, **kw: Any) -> PlanArrays:
    fields = dict(tp=1, pp=1, dp=1, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=64, seq_len=8192,
                  recompute=0, zero=1, dtype=0, attention=0, order=1, sequence_parallel=1, schedule=None)
    return PlanArrays.one_plan(**{**fields, **kw}, expert_layout=layout)  # type: ignore[arg-type]


def _ints(*values: Any) -> tuple[int, ...]:
    """Each value as an int: a one-plan row's int, or a one-element array's."""
    return tuple(int(np.ravel(v)[0]) for v in values)


def test_the_stacks_name_their_layout() -> None:
    assert expert_layout(NEMO) == expert_layout(load_stack("nemo-24.12")) == EP_OVER_STAGE_SAME_PP
    assert expert_layout(load_stack("torchtitan")) == EP_OVER_STAGE
    assert expert_layout(load_stack("megatron-core-0.8")) == expert_layout(load_stack("deepspeed")) == EP_INSIDE_DP


def test_megatron_core_016_runs_ep_over_cp_that_ep_inside_dp_refused() -> None:
    """TP 2, CP 2, DP 2, EP 4: EP does not divide DP 2 but EP x TP = 8 divides TP x CP x DP = 8 (world % (ETP x EP
    x PP) == 0, parallel_state.py:792-795): megatron-core 0.16 runs it, 0.8 (and the model before hE3) refused it."""
    plan = dict(tp=2, cp=2, ep=4, pp=1, order="tp-cp-dp-pp")
    assert _train(8, NEMO, **plan).step_time_s > 0
    with pytest.raises(InputError, match="EP must divide DP"):
        _train(8, INSIDE_DP, **plan)
    with pytest.raises(InputError, match="EP must divide DP"):
        _train(8, "megatron-core-0.8", **plan)


def test_torchtitan_at_tp_1_lets_ep_borrow_cp_ranks() -> None:
    """torchtitan TP 1, CP 2, DP 2, EP 4: efsdp = dp_shard x cp x tp / ep = 1 (parallel_dims.py:279)."""
    result = _train(4, "torchtitan", tp=1, cp=2, ep=4, pp=1, zero=3)
    assert result.step_time_s > 0
    rows = PlanArrays.build(tp=1, pp=1, dp=np.array([2, 2, 4]), cp=np.array([2, 2, 1]), ep=np.array([4, 8, 8]),
                            vpp=1, micro_batch=1, global_batch=64, seq_len=8192, recompute=0, zero=3, dtype=0,
                            expert_layout=EP_OVER_STAGE)
    assert valid_mask(MOE, rows, split="tp-or-ep").tolist() == [True, False, False]  # 4 | 4; 8 divides no 4


def test_the_pipeline_groups_rule_refuses_what_parallel_state_asserts_against() -> None:
    """Under tp-cp-pp-dp at PP > 1 megatron-core 0.16 needs EP x ETP = TP x CP (for every model: dense plans with
    CP > 1 too); PP 1 or tp-cp-dp-pp run any; a stack without the rule (0.8, EP inside DP) still runs them."""
    with pytest.raises(InputError, match="must keep the dense pipeline groups.*PP 2, EP 2 x expert TP 1 = 2"):
        _train(8, NEMO, tp=1, cp=1, ep=2, pp=2, order="tp-cp-pp-dp")
    assert _train(8, NEMO, tp=1, cp=1, ep=2, pp=2, order="tp-cp-dp-pp").step_time_s > 0
    assert _train(8, NEMO, tp=1, cp=2, ep=2, pp=2, order="tp-cp-pp-dp").step_time_s > 0  # EP x ETP = TP x CP
    assert _train(8, "megatron-core-0.8", tp=1, cp=1, ep=2, pp=2, order="tp-cp-pp-dp").step_time_s > 0
    with pytest.raises(InputError, match="must keep the dense pipeline groups"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 16, tp=2, pp=2, cp=2, order="tp-cp-pp-dp", stack=NEMO,
                          seq_len=8192, global_batch=64, micro_batch=1, vpp=1)
    # the hand-checked verdicts: (layout, order, pp, tp, cp, ep, etp) -> refused
    cases = {(EP_OVER_STAGE_SAME_PP, 0, 2, 1, 1, 2, None): True, (EP_OVER_STAGE_SAME_PP, 0, 2, 2, 2, 1, None): True,
             (EP_OVER_STAGE_SAME_PP, 0, 2, 2, 2, 4, 1): False, (EP_OVER_STAGE_SAME_PP, 0, 1, 1, 1, 2, None): False,
             (EP_OVER_STAGE_SAME_PP, 1, 2, 1, 1, 2, None): False, (EP_OVER_STAGE, 0, 2, 1, 1, 2, None): False}
    for (layout, order, pp, tp, cp, ep, etp), refused in cases.items():
        plan = _plan(layout, order=order, pp=pp, tp=tp, cp=cp, ep=ep, etp=etp, dp=8)
        reason = first_broken_rule(MOE, plan.one_row)
        assert (reason is not None and "pipeline groups" in reason) is refused, (layout, order, pp, tp, cp, ep, etp)


def test_group_sizes_and_strides_as_the_rank_generators_build_them() -> None:
    """Hand-computed from the generators. megatron-core 0.16.1, TP 2, CP 2, DP 2, PP 2, EP 2, tp-cp-ep-dp-pp
    (16 ranks): expert generator tp 2, ep 2, dp 16 / (2 x 2 x 2) = 2, pp 2: EP group [0, 2] (stride 2), expert DP
    group [0, 4] (stride ETP x EP = 4). 0.8.0 (one generator, EP inside DP): EP peers TP x CP = 4 apart, expert DP
    DP / EP x CP = 2 ranks (CP's TP apart). torchtitan TP 1, CP 2, DP 4, EP 4 (8 ranks a stage): EP innermost
    (stride 1), efsdp = 4 x 2 x 1 / 4 = 2 ranks, EP = 4 apart."""
    kw = dict(tp=2, cp=2, dp=2, pp=2, ep=2, order=1)
    over, inside = _plan(EP_OVER_STAGE_SAME_PP, **kw), _plan(EP_INSIDE_DP, **kw)
    for plan in (over, over.one_row):
        assert _ints(plan.ep_stride, *dp_groups(plan)[2:]) == (2, 2, 4)
    for plan in (inside, inside.one_row):
        assert _ints(plan.ep_stride, *dp_groups(plan)[2:]) == (4, 2, 2)
    titan = _plan(EP_OVER_STAGE, tp=1, cp=2, dp=4, ep=4, order=1)
    for plan in (titan, titan.one_row):
        assert _ints(plan.ep_stride, plan.edp, *dp_groups(plan)[2:]) == (1, 2, 2, 4)
    # the kernels keep expert TP = TP's: only the layout moved
    assert not over.one_row.folded and over.one_row.experts_over_stage


def test_the_all_to_all_moves_inside_the_node_where_megatron_core_016_lays_it() -> None:
    """TP 2, CP 4, DP 2, EP 2 on 8-GPU H100 nodes: EP inside DP puts the peers TP x CP = 8 apart (two nodes, over
    the NICs); megatron-core 0.16 puts them TP = 2 apart (one node, NVLink)."""
    plan = dict(tp=2, cp=4, ep=2, pp=1, order="tp-cp-dp-pp")
    over, inside = _train(16, NEMO, **plan), _train(16, INSIDE_DP, **plan)
    assert over.breakdown_s.ep_comm * 3 < inside.breakdown_s.ep_comm
    assert over.breakdown_s.compute == inside.breakdown_s.compute  # the kernels are expert TP = TP's either way


def test_grid_and_one_plan_agree_on_the_layout() -> None:
    """The derived columns and every rule's verdict, array path vs one plan, over layouts, orders and degrees."""
    rows = [dict(tp=tp, pp=pp, dp=dp, cp=cp, ep=ep, etp=etp, vpp=1, micro_batch=1, global_batch=64, seq_len=8192,
                 recompute=0, zero=1, dtype=0, attention=0, order=order, sequence_parallel=1, schedule=0,
                 recompute_layers=0, expert_layout=layout)
            for tp, pp, cp, dp, ep, etp, order, layout in itertools.product(
                (1, 2), (1, 2), (1, 2), (1, 2, 4), (1, 2, 4), (0, 1), (0, 1), (0, 1, 2))]
    grid = PlanArrays(**{k: np.array([r[k] for r in rows], dtype=np.int64) for k in rows[0]})
    verdicts = plan_violations(MOE, grid)
    for i, r in enumerate(rows):
        one = PlanArrays.one_plan(**r).one_row  # type: ignore[arg-type]
        for name in ("ep_stride", "edp", "edp_stride", "experts_over_stage", "folded"):
            assert int(getattr(one, name)) == int(getattr(grid, name)[i]), (name, r)
        assert tuple(map(int, dp_groups(one))) == tuple(int(np.asarray(v)[i]) for v in dp_groups(grid)), r
        first = next((why for bad, why in verdicts if bad[i]), None)
        assert first_broken_rule(MOE, one) == first, r
