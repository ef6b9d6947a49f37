"""Expert groups as torchtitan 0.3.0 lays them (hE2, session 38).

torchtitan 0.3.0 has no expert tensor-parallel degree: config/configs.py:279-287 `expert_parallel_degree` only ("EP
borrows ranks from FSDP and TP: efsdp = dp_shard * cp * tp / ep"); distributed/parallel_dims.py:278-279 (fsdp =
dp_shard x cp, efsdp = fsdp x tp / ep); models/common/moe_sharding.py:201-216: with EP the routed experts are split
over EP alone (`expert_param_placement_sparse`, :29-47: EP Shard(0), no TP axis: expert TP 1), without EP over the
dense TP axis (`expert_param_placement_dense`, :50-68: expert TP = TP). So a torchtitan MoE plan at TP > 1 runs
expert TP 1 with EP > 1 and expert TP = TP with EP 1; its experts' FSDP group holds dp_shard x cp x tp / ep ranks
(EP > 1) or dp_shard x cp (EP 1). Before hE2 the model priced torchtitan plans at EP > 1 with expert TP = TP (CP x
DP / EP ranks, TP times fewer) and at EP 1 with expert TP 1: these tests fail there (no `split`, no stack field).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import first_broken_rule, valid_mask
from infraplan.training.stack_limits import expert_split
from infraplan.training.stage_params import dp_groups

MOE = load_model("qwen3-30b-a3b")  # 128 experts, 32 heads, 4 KV heads


def _grid() -> PlanArrays:
    """TP 1-4, CP 1-2, DP 2-8, EP 1-8, expert TP following TP (0) or 1, on TP x CP x DP ranks."""
    rows = [dict(tp=tp, pp=1, dp=dp, cp=cp, ep=ep, etp=etp, vpp=1, micro_batch=1, global_batch=64, seq_len=8192,
                 recompute=0, zero=3, dtype=0, attention=0, order=0, sequence_parallel=1, schedule=0,
                 recompute_layers=0)
            for tp, cp, dp, ep, etp in itertools.product((1, 2, 4), (1, 2), (2, 4, 8), (1, 2, 4, 8), (0, 1))]
    return PlanArrays(**{k: np.array([r[k] for r in rows], dtype=np.int64) for k in rows[0]})


def test_torchtitan_names_its_expert_split_and_megatron_stacks_do_not() -> None:
    assert expert_split(load_stack("torchtitan")) == "tp-or-ep"
    for name in ("nemo-26.04", "megatron-core-0.8", "deepspeed"):
        assert expert_split(load_stack(name)) == "any"  # Megatron-Core: --expert-tensor-parallel-size any


def test_the_field_needs_its_source() -> None:
    with pytest.raises(ValueError, match="expert_tensor_parallel_source"):
        Stack.model_validate({**load_stack("torchtitan").model_dump(), "expert_tensor_parallel_source": None})


def test_torchtitan_plans_keep_its_expert_split_and_its_efsdp_group() -> None:
    grid = _grid()
    ok = valid_mask(MOE, grid, 0, "torch", "tp-or-ep")
    anything = valid_mask(MOE, grid, 0, "torch", "any")
    assert ok.sum() < anything.sum() and not (ok & ~anything).any()
    kept = grid.take(np.flatnonzero(ok))
    tp, cp, dp, ep = kept.tp, kept.cp, kept.dp, kept.ep
    assert ((tp == 1) | np.where(ep > 1, kept.expert_tp == 1, kept.expert_tp == tp)).all()
    _, _, experts, _ = dp_groups(kept)
    # efsdp = dp_shard x cp x tp / ep with EP, fsdp = dp_shard x cp without (parallel_dims.py:278-279)
    assert (experts == np.where(ep > 1, dp * cp * tp // ep, dp * cp)).all()
    # e.g. TP 2 CP 2 DP 4 EP 4: 4 x 2 x 2 / 4 = 4 ranks; EP 8 (> DP) is allowed: 2 ranks
    for e, ranks in ((4, 4), (8, 2)):
        at = np.flatnonzero((tp == 2) & (cp == 2) & (dp == 4) & (ep == e))
        assert at.size == 1 and experts[at[0]] == ranks


@pytest.mark.parametrize(("ep", "etp"), [(2, None), (1, 1)])
def test_train_refuses_a_split_torchtitan_does_not_run(ep: int, etp: int | None) -> None:
    with pytest.raises(InputError, match=f"EP {ep}, expert TP {etp or 2}, TP 2"):
        estimate_training(MOE, "dgx-h100-superpod", 64, tp=2, dp=32, ep=ep, etp=etp, seq_len=8192,
                          global_batch=512, stack="torchtitan")
    # the same plans on a Megatron-Core stack stay priced
    assert estimate_training(MOE, "dgx-h100-superpod", 64, tp=2, dp=32, ep=ep, etp=etp, seq_len=8192,
                             global_batch=512, stack="nemo-26.04").step_time_s > 0


def test_train_prices_torchtitan_at_expert_tp_one_with_ep() -> None:
    est = estimate_training(MOE, "dgx-h100-superpod", 64, tp=2, dp=32, ep=2, etp=1, seq_len=8192, global_batch=512,
                            stack="torchtitan")
    assert est.step_time_s > 0


@pytest.mark.parametrize("ep", [1, 2])
def test_torchtitan_refuses_expert_tp_at_tp_1(ep: int) -> None:
    """hM9 (session 38): at TP 1 torchtitan 0.3.0 splits the experts over nothing (EP 1) or over EP alone (EP > 1),
    so expert TP 2 is a plan it cannot run; the rule was guarded by TP > 1 and let it through, on both paths."""
    shape = load_model("mixtral-8x7b")
    row = PlanArrays.one_plan(tp=1, pp=1, dp=4, cp=1, ep=ep, etp=2, vpp=1, micro_batch=1, global_batch=64,
                              seq_len=4096, recompute=0, zero=1, dtype=0, attention=0, order=0,
                              sequence_parallel=1).one_row
    assert first_broken_rule(shape, row, split="tp-or-ep") is not None
    assert first_broken_rule(shape, row, split="any") is None  # a stack on Megatron's folding runs it
