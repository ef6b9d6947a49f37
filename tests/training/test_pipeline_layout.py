"""Megatron-Core pipeline layouts and MTP in training (`training.pipeline_layout`, `Stack.pipeline_layouts`,
`Stack.mtp_num_layers`): the layout string as Megatron-Core parses it, its checks, the heaviest rank it gives, and
the step it prices, on the single-estimate and the grid path alike."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import Stack, load_stack
from infraplan.cluster.cluster import Cluster
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training, evaluate_plans
from infraplan.training.one_plan_memo import clear_one_plan_memo
from infraplan.training.pipeline_layout import check_layout, parse_layout, rank_loads
from infraplan.training.plan_rules import valid_mask
from infraplan.training.search import enumerate_plans

# Megatron-Bridge 0.3.1 recipes/deepseek/deepseek_v3.py:37-49 (PP16 / PP8 x VP2 / PP4 x VP4; PP8 / PP4 x VP2; PP4)
RECIPE_LAYOUTS = ("Et*16|t*16|t*16|t*13mL", "Et*8|(t*8|)*6t*5mL", "Et*4|(t*4|)*14tmL")


def _stack(**update: object) -> Stack:
    return load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False, **update})  # 61 layers


def test_layout_string_parses_as_megatron_core_does() -> None:
    chunks = parse_layout("Et*4|(t*4|)*14tmL")
    assert len(chunks) == 16
    assert chunks[0] == (1, 4, 0, 0) and chunks[1] == (0, 4, 0, 0) and chunks[-1] == (0, 1, 1, 1)
    assert parse_layout("Ettt|(tt|)*29,m|L")[-2:] == ((0, 0, 1, 0), (0, 0, 0, 1))  # the docstring's example
    # chunk i on rank i mod p: PP4 x VP4 puts the embedding + 16 layers first, 13 layers + MTP + loss last
    assert rank_loads(chunks, 4) == [(1, 16, 0, 0), (0, 16, 0, 0), (0, 16, 0, 0), (0, 13, 1, 1)]


@pytest.mark.parametrize(("layout", "mtp", "message"), [
    ("Et*4|(t*4|)*14tmL", 0, "MTP modules"),
    ("Et*4|(t*4|)*14ttL", 1, "decoder layers"),
    ("t*4E|(t*4|)*14tmL", 1, "embedding"),
    ("Et*4|(t*4|)*14mtL", 1, "follow an MTP"),
    ("Et*4|(t*4|)*14tmX", 1, "unknown layer character"),
    ("Et*100000000000|t|t|tL", 0, "repeats past"),  # refused before it is unrolled, not a MemoryError
    ("E(t*9000|)*99L", 0, "unrolls past"),
])
def test_bad_layouts_are_one_line_input_errors(layout: str, mtp: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_layout(layout, 61, mtp)


def _h017(stack: Stack, pp: int = 16, vpp: int = 1) -> float:
    clear_one_plan_memo()
    est = estimate_training("deepseek-v3", "dgx-b200", 256, tp=1, pp=pp, vpp=vpp, ep=8, seq_len=4096,
                            global_batch=4096, micro_batch=1, recompute="none", zero=1, dtype="mxfp8", stack=stack,
                            order="tp-cp-dp-pp")
    return est.step_time_s


def test_mtp_and_the_recipe_layout_move_the_step_as_the_stages_say() -> None:
    even = _h017(_stack())
    with_mtp = _h017(_stack(mtp_num_layers=1))
    laid_out = _h017(_stack(mtp_num_layers=1, pipeline_layouts=RECIPE_LAYOUTS))
    # MTP (a layer, an embedding and a second LM head + loss) on the even split's last stage of 4 layers + head
    # makes it the pace-setter: slower. The recipe's layout moves 3 layers off that stage (1 layer + MTP + loss),
    # so the pace is a 4-layer stage again, without the head: faster than even the plain even split.
    assert with_mtp > even * 1.05
    assert laid_out < even
    # a layout whose chunk count matches no plan leaves the stack's split
    assert _h017(_stack(mtp_num_layers=1, pipeline_layouts=("Et*30|t*31mL",))) == pytest.approx(with_mtp, rel=1e-12)


def test_a_layout_the_model_cannot_hold_is_refused() -> None:
    with pytest.raises(InputError, match="decoder layers"):
        _h017(_stack(mtp_num_layers=1, pipeline_layouts=("Et*4|(t*4|)*14ttmL",)))


def test_layout_plans_price_the_same_alone_and_in_a_grid() -> None:
    shape, cluster = load_model("deepseek-v3"), Cluster.resolve("dgx-b200").for_gpus(256)
    profile = _stack(mtp_num_layers=1, pipeline_layouts=RECIPE_LAYOUTS)
    plans = enumerate_plans(shape, 256, 4096, 4096, ["mxfp8"], 8)
    plans = plans.take(valid_mask(shape, plans).nonzero()[0])
    keep = np.isin(plans.pp, (4, 8, 16))
    plans = plans.take(keep.nonzero()[0])
    rng = np.random.default_rng(7)
    plans = plans.take(np.sort(rng.choice(len(plans), size=min(16, len(plans)), replace=False)))
    plans = dataclasses.replace(plans, recompute=np.zeros(len(plans), dtype=np.int64))
    assert len(plans) >= 8
    grid = evaluate_plans(shape, cluster, plans, profile)
    for i in range(len(plans)):
        clear_one_plan_memo()
        alone = evaluate_plans(shape, cluster, plans.take([i]), profile)
        assert float(alone["step_time_s"][0]) == pytest.approx(float(grid["step_time_s"][i]), rel=1e-12)


def test_the_deepseek_v3_recipe_layouts_hold_the_model_and_its_mtp_module() -> None:
    from infraplan.validation.sets import DEEPSEEK_V3_RECIPE_TRAINING, MODEL_RECIPE_STACK

    shape = load_model("deepseek-v3")
    layouts = DEEPSEEK_V3_RECIPE_TRAINING["pipeline_layouts"]
    assert layouts == RECIPE_LAYOUTS
    assert [len(check_layout(x, shape.num_layers, 1)) for x in layouts] == [4, 8, 16]
    # checked and left off (issue 13 round 7): the frontier rows' stack does not set them
    assert "pipeline_layouts" not in MODEL_RECIPE_STACK["deepseek-v3"]


def test_a_bounded_search_under_layouts_equals_pricing_every_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The branch and bound's floors hold under a layout (rows it cannot bound are priced): the same top plans as
    pricing every plan, and the layout moves the search's answer against the plain even split."""
    from infraplan.training import search, search_bounds
    from infraplan.training.search import search_plans

    profile = _stack(mtp_num_layers=1, pipeline_layouts=RECIPE_LAYOUTS)
    # NVFP4 only (985 k plans of the 3.9 M in the B200's four dtypes): the top plans of all four are NVFP4 (5.04 s;
    # MXFP8's best 5.38 s, FP8's 5.44 s), and a wrong floor changes the answer only on rows that could reach the
    # top, so the other dtypes' rows cost ~1 CPU s and added no power to fail
    args = ("deepseek-v3", "dgx-b200", 256, 4096, 1024, "nvfp4")
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    monkeypatch.setattr(search_bounds, "FIRST_BATCH_ROWS", 3)
    bounded = search_plans(*args, top=3, stack=profile)
    monkeypatch.undo()
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    every = search_plans(*args, top=3, stack=profile)
    assert [r.model_dump(exclude={"train_command"}) for r in bounded.top] == [
        r.model_dump(exclude={"train_command"}) for r in every.top]
    assert bounded.top[0].step_time_s != search_plans(*args, top=1, stack=_stack(mtp_num_layers=1)).top[0].step_time_s


def test_a_stack_file_with_a_foreign_layout_character_is_refused_on_load(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A layout character Megatron-Core does not know fails when the stack loads, whatever plan is asked for."""
    text = (Path(__file__).parents[2] / "src/infraplan/catalog/stacks/nemo-26.04.yaml").read_text()
    path = tmp_path / "bad.yaml"
    path.write_text(text + 'pipeline_layouts: ["Et*4|(tttt|)*14,tmX"]\nmtp_num_layers: 1\n')
    with pytest.raises(InputError, match="unknown character"):
        load_stack(str(path))


def test_without_vpp_a_plan_runs_the_layout_its_stack_was_written_for() -> None:
    """No `--vpp`: the stack's layout whose stages divide over PP sets the virtual stages, and a note says so."""
    stack = _stack(pipeline_layouts=("Et*4|(tttt|)*14,tmL",), mtp_num_layers=1)
    clear_one_plan_memo()
    est = estimate_training("deepseek-v3", "dgx-b200", 256, tp=1, pp=8, ep=8, vpp=None, seq_len=4096,
                            global_batch=4096, micro_batch=1, recompute="none", zero=1, dtype="mxfp8", stack=stack,
                            order="tp-cp-dp-pp")
    assert est.config.vpp == 2
    assert any("pipeline layout of 16 stages runs as PP8 x VP2" in note for note in est.notes)
    plain = estimate_training("deepseek-v3", "dgx-b200", 256, tp=1, pp=8, ep=8, vpp=None, seq_len=4096,
                              global_batch=4096, micro_batch=1, recompute="none", zero=1, dtype="mxfp8",
                              order="tp-cp-dp-pp", stack=_stack())
    assert not any("pipeline layout" in note for note in plain.notes)
