"""A layer count the stack's even pipeline split cannot divide (hU47's finding, hR44; landed by hR45).

Megatron-Core 0.16.1 refuses L (+ the embedding / loss it counts) layers that PP x VPP does not divide
(transformer/transformer_block.py:155-157, :174-177); torchtitan 0.3.0 and DeepSpeed split any count; a stack's
pipeline layout of p x v chunks runs instead of the split (`training.pipeline_layout`). `plan_rules` holds the rule
(`pipeline_split_rule`, `plan_violations`), `train` refuses such a plan in one line and `search` never proposes it.
A model's recipe that lays its layers out itself at some PP x VP (Megatron-Bridge 0.3.1's DeepSeek-V3 recipe,
recipes/deepseek/deepseek_v3.py:37-49) keeps those plans (`Stack.pipeline_layout_plans`).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack, resolve_stack
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.training.enums import Dtype, Recompute
from infraplan.training.estimate import estimate_training
from infraplan.training.pipeline_split_rule import LaidOut, pipeline_split_rule
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import first_broken_rule, plan_violations, valid_mask
from infraplan.training.schedules import stack_schedules
from infraplan.training.search import enumerate_plans, search_plans
from infraplan.training.stack_limits import expert_layout

SPLIT = "do not divide the model's"  # the rule's reason (`plan_reasons.model_reasons`)

# the (PP, VPP) pairs, PP 2..17 and VPP 1..8, whose model chunks split 32 layers (Llama 3 8B) or 34 slots (32 +
# embedding + loss) evenly, listed by hand from 32 = 2^5 and 34 = 2 x 17
EVEN_32 = {(2, 1), (2, 2), (2, 4), (2, 8), (4, 1), (4, 2), (4, 4), (4, 8), (8, 1), (8, 2), (8, 4), (16, 1), (16, 2)}
EVEN_34 = {(2, 1), (17, 1), (17, 2)}


def _grid() -> PlanArrays:
    pp, vpp = np.meshgrid(np.arange(2, 18), np.arange(1, 9), indexing="ij")
    return PlanArrays.build(tp=1, pp=pp.ravel(), dp=1, cp=1, ep=1, vpp=vpp.ravel(), micro_batch=1,
                            global_batch=64, seq_len=4096, recompute=Recompute.NONE, zero=1, dtype=Dtype.BF16)


def _split_mask(shape: object, plans: PlanArrays, extra: int, divisible: LaidOut | None) -> np.ndarray:
    rules = plan_violations(shape, plans, extra, divisible=divisible)  # type: ignore[arg-type]
    masks = [np.broadcast_to(bad, (len(plans),)) for bad, why in rules if SPLIT in why]
    return masks[0] if masks else np.zeros(len(plans), dtype=bool)


@pytest.mark.parametrize(("extra", "even"), [(0, EVEN_32), (2, EVEN_34)])
def test_the_rule_refuses_exactly_the_chunk_counts_that_do_not_divide_the_slots(extra: int, even: set) -> None:
    shape, plans = load_model("llama3-8b"), _grid()
    refused = _split_mask(shape, plans, extra, ())
    pairs = list(zip(plans.pp.tolist(), plans.vpp.tolist(), strict=True))
    assert {p for p, bad in zip(pairs, refused, strict=True) if not bad} == even
    assert not _split_mask(shape, plans, extra, None).any()  # a stack splitting any count: no such rule
    for i in (0, 5, 40, 127):  # the one-plan path gives the same verdict (`first_broken_rule`)
        row = plans.take(np.array([i])).one_row
        assert (first_broken_rule(shape, row, extra, divisible=()) or "").startswith("pipeline stages x") == refused[i]


def test_a_layout_of_the_plans_chunks_runs_where_the_even_split_cannot() -> None:
    """DeepSeek-V3's 61 layers with a stack file's 16-chunk layout (Megatron-Bridge's recipe's for PP16 / PP8 x VP2
    / PP4 x VP4, recipes/deepseek/deepseek_v3.py:37-49, set as `pipeline_model_parallel_layout`, which any PP
    dividing its chunks runs): those plans and PP2 x VP8 run, PP8 alone (8 chunks, no layout) does not."""
    stack = load_stack("nemo-26.04").model_copy(update={"pipeline_layouts": ("Et*4|(t*4|)*14tmL",),
                                                        "mtp_num_layers": 1})
    divisible = pipeline_split_rule(stack)
    assert divisible == ((2, 8), (4, 4), (8, 2), (16, 1))
    shape = load_model("deepseek-v3")
    plans = PlanArrays.build(tp=1, pp=np.array([16, 8, 4, 8, 2]), dp=1, cp=1, ep=1, vpp=np.array([1, 2, 4, 1, 8]),
                             micro_batch=1, global_batch=64, seq_len=4096, recompute=Recompute.NONE, zero=1,
                             dtype=Dtype.BF16)
    assert _split_mask(shape, plans, 0, divisible).tolist() == [False, False, False, True, False]
    assert _split_mask(shape, plans, 0, ()).tolist() == [True] * 5


def test_each_stack_says_whether_its_split_needs_the_division() -> None:
    for name in ("nemo-26.04", "nemo-24.12", "nemo-23.05", "megatron-core-0.8", "megatron-lm-2021", "megatron-lm-2022"):
        assert pipeline_split_rule(load_stack(name)) == (), name
    for name in ("torchtitan", "deepspeed", "meta-llama3", "deepseek-v3"):
        assert pipeline_split_rule(load_stack(name)) is None, name
    balanced = load_stack("nemo-26.04").model_copy(update={"pipeline_split": "balanced"})
    assert pipeline_split_rule(balanced) is None  # a user's uneven split of Megatron takes any count


def test_train_refuses_pp7_for_32_layers_in_one_line_with_the_nearest_pps(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "llama3-8b", "--system", "dgx-h100-superpod", "--gpus", "7", "--pp", "7", "--seq-len", "4096",
            "--global-batch", "14"]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "PP 7 x VPP 1 = 7 model chunks for 32 layers; nearest valid PPs: 4, 8" in err
    assert main([*args, "--stack", "torchtitan", "--zero", "1"]) == 0  # torchtitan splits 32 layers over 7 stages
    capsys.readouterr()


def test_nearest_virtual_stages_where_the_pp_divides() -> None:
    with pytest.raises(InputError, match=r"PP 2 x VPP 3 = 6 model chunks for 32 layers; nearest valid VPPs at PP 2: "
                                         r"2, 4$"):
        estimate_training("llama3-8b", "dgx-h100-superpod", 8, tp=1, pp=2, vpp=3, seq_len=4096, global_batch=16)


@pytest.mark.parametrize("stack", ["torchtitan", "meta-llama3", "deepspeed"])
def test_a_stack_that_splits_any_count_still_prices_pp7(stack: str) -> None:
    result = estimate_training("llama3-8b", "dgx-h100-superpod", 7, tp=1, pp=7, vpp=1, seq_len=4096,
                               global_batch=14, zero=1, stack=stack)
    assert result.config.pp == 7 and result.step_time_s > 0


def test_search_never_proposes_a_split_the_stack_refuses() -> None:
    """7 GPUs (hU47's case): the default stack's search tries no PP7; torchtitan's does. Its count of valid plans
    is the full enumeration's under the same rules, the split rule included."""
    shape = load_model("llama3-8b")
    result = search_plans("llama3-8b", "dgx-h100-superpod", 7, 4096, 14, dtype="bf16", top=50)
    assert result.top and all(32 % (row.config.pp * row.config.vpp) == 0 for row in result.top)
    assert all(row.config.pp == 1 for row in result.top)
    titan = search_plans("llama3-8b", "dgx-h100-superpod", 7, 4096, 14, dtype="bf16", top=200, stack="torchtitan")
    assert any(row.config.pp == 7 for row in titan.top)
    # 8 GPUs: PP2 x VPP3 and the like are dropped, and the search counts what the full enumeration keeps
    profile = resolve_stack(None, "training")
    result = search_plans("llama3-8b", "dgx-h100-superpod", 8, 4096, 8, dtype="bf16", top=1)
    plans = enumerate_plans(shape, 8, 4096, 8, ["bf16"], max_tp=8, schedules=stack_schedules(profile))
    plans = plans.with_expert_layout(expert_layout(profile))
    kept = valid_mask(shape, plans, divisible=pipeline_split_rule(profile))
    assert result.evaluated_count == int(kept.sum()) < int(valid_mask(shape, plans).sum())
    assert (32 % (plans.pp * plans.vpp)[kept] == 0).all()


def test_the_default_stacks_deepseek_v3_recipe_keeps_its_laid_out_plans_and_refuses_the_rest() -> None:
    """nemo-26.04's DeepSeek-V3 recipe lays the 61 layers out at (PP, VP) (4, 1), (8, 1), (4, 2), (16, 1), (8, 2),
    (4, 4) (deepseek_v3.py:37-49) and leaves any other plan to the even split, which refuses 61 layers at PP > 1
    (61 is prime): PP4 x VP4 runs, PP2 x VP8 (16 chunks, but no layout the recipe sets for PP2) and PP8 x VP4 do not;
    the refusal names the laid-out pairs. The search proposes no other pipelined plan."""
    kw = dict(tp=1, ep=8, seq_len=4096, global_batch=4096, micro_batch=1, dtype="mxfp8", zero=1,
              order="tp-cp-dp-pp", recompute="full")
    ran = estimate_training("deepseek-v3", "dgx-b200", 256, pp=4, vpp=4, **kw)  # type: ignore[arg-type]
    assert (ran.config.pp, ran.config.vpp) == (4, 4) and ran.step_time_s > 0
    for pp, vpp in ((2, 8), (8, 4)):
        with pytest.raises(InputError, match=r"for 61 layers; nearest valid PPs at VPP 1: 1, 61; or a pipeline layout "
                                             r"of the stack at PP x VPP 4 x 1, 4 x 2, 4 x 4, 8 x 1, 8 x 2, 16 x 1$"):
            estimate_training("deepseek-v3", "dgx-b200", 256, pp=pp, vpp=vpp, **kw)  # type: ignore[arg-type]
    result = search_plans("deepseek-v3", "dgx-b200", 256, 4096, 4096, dtype="mxfp8", top=200)
    pairs = {(row.config.pp, row.config.vpp) for row in result.top}
    assert pairs <= {(1, 1), (4, 1), (8, 1), (4, 2), (16, 1), (8, 2), (4, 4)} and len(pairs - {(1, 1)}) >= 2
    bare = load_stack("nemo-26.04")  # a Stack object is taken as built: no recipe, so no layouts and PP4 x VP4 refused
    with pytest.raises(InputError, match="16 model chunks for 61 layers"):
        estimate_training("deepseek-v3", "dgx-b200", 256, pp=4, vpp=4, stack=bare, **kw)  # type: ignore[arg-type]


def test_train_without_vpp_interleaves_only_as_far_as_the_split_takes() -> None:
    """`train` without --vpp interleaves PP8 of 61 layers into chunks of 2 (VP4, `chosen_virtual_stages`), which the
    even split refuses (32 chunks): it runs the most up to 4 that it takes, the recipe's PP8 x VP2 layout, and says
    so; 64 layers (a what-if) keep VP4."""
    kw = dict(tp=1, pp=8, ep=8, seq_len=4096, global_batch=4096, micro_batch=1, dtype="mxfp8", zero=1,
              order="tp-cp-dp-pp", recompute="full", vpp=None)
    chosen = estimate_training("deepseek-v3", "dgx-b200", 256, **kw)  # type: ignore[arg-type]
    assert chosen.config.vpp == 2 and any("chose 2 virtual stages for PP8, the most up to 4" in n for n in chosen.notes)
    shape = load_model("deepseek-v3")
    wider = shape.model_copy(update={"num_layers": 64, "name": "deepseek-v3-64-layers"})
    assert estimate_training(wider, "dgx-b200", 256, **kw).config.vpp == 4  # type: ignore[arg-type]
