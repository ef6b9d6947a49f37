"""A stack's limits beyond its schedules are part of its profile (`Stack.pipeline_zero_stages`,
`Stack.context_parallel`): every shipped training stack names them with a source, `search` proposes no plan its
framework refuses (DeepSpeed: no ZeRO-2/3 with PP, no CP), `train` prices one with a note, and a stack file without
the fields keeps everything with a warning (`training.stack_limits`)."""

from __future__ import annotations

import warnings

import pytest

from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.errors import InputError
from infraplan.sweep.functions import train_batch
from infraplan.training import search
from infraplan.training.estimate import estimate_training
from infraplan.training.results import TrainingEstimate
from infraplan.training.search import search_plans
from infraplan.training.stack_limits import StackLimitWarning, searched_limits, stack_limit_notes

# the MLPerf Training v3.0 Gaudi 2 case (`validate`, plan_source: search): its best plan was PP 8, CP 2, ZeRO-3
GAUDI = dict(model="gpt3-175b", system="gaudi2-cluster", gpus=384, seq_len=2048, global_batch=1536, dtype="bf16",
             top=20)
PLAN = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, pp=4, seq_len=4096, global_batch=128,
            recompute="full")


def test_every_shipped_training_stack_names_its_limits_with_a_source() -> None:
    for name in list_stacks():
        stack = load_stack(name)
        if stack.kind == "serving":
            assert stack.pipeline_zero_stages is None and stack.context_parallel is None
            continue
        assert stack.pipeline_zero_stages and 0 in stack.pipeline_zero_stages, name
        assert stack.context_parallel is not None, name
        assert len(stack.pipeline_zero_stages_source or "") > 100, name
        assert len(stack.context_parallel_source or "") > 80, name
    deepspeed = load_stack("deepspeed")
    assert deepspeed.pipeline_zero_stages == (0, 1) and deepspeed.context_parallel is False
    assert "engine.py:72-73" in (deepspeed.pipeline_zero_stages_source or "")
    assert searched_limits(load_stack("nemo-26.04")) == ((0, 1, 2, 3), True)
    assert searched_limits(load_stack("torchtitan")) == ((0, 2, 3), True)
    for old in ("megatron-lm-2021", "megatron-lm-2022", "nemo-23.05", "deepseek-v3"):
        assert load_stack(old).context_parallel is False, old


def test_a_limit_without_a_source_is_refused(tmp_path) -> None:
    for field, value in (("pipeline_zero_stages", "[0, 1]"), ("context_parallel", "false")):
        bare = tmp_path / f"{field}.yaml"
        bare.write_text(f"display_name: x\nkind: training\nstack_class: megatron\nsource: s\n{field}: {value}\n")
        with pytest.raises(InputError, match=f"{field}_source"):
            load_stack(str(bare))
    odd = tmp_path / "odd.yaml"
    odd.write_text("display_name: x\nkind: training\nstack_class: megatron\nsource: s\n"
                   "pipeline_zero_stages: [4]\npipeline_zero_stages_source: a framework\n")
    with pytest.raises(InputError):
        load_stack(str(odd))


def test_search_under_deepspeed_proposes_no_zero_2_3_with_pp_and_no_cp() -> None:
    """DeepSpeed's pipeline engine asserts ZeRO < 2 and it ships no ring / all-gather CP: the Gaudi 2 case's search
    proposed PP 8, CP 2, ZeRO-3 before; with the limits every row is ZeRO 0/1 where PP > 1, and CP 1."""
    deepspeed = load_stack("deepspeed")
    rows = search_plans(**GAUDI, stack=deepspeed).top  # type: ignore[arg-type]
    assert rows and all(r.config.cp == 1 for r in rows)
    assert all(r.config.zero <= 1 for r in rows if r.config.pp > 1)
    assert any(r.config.pp > 1 for r in rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackLimitWarning)
        free = search_plans(**GAUDI, stack=deepspeed.model_copy(  # type: ignore[arg-type]
            update={"pipeline_zero_stages": None, "context_parallel": None})).top
    assert any(r.config.cp > 1 for r in free) and any(r.config.pp > 1 and r.config.zero >= 2 for r in free)


def test_refused_zero_stages_are_checked_never_feasible_and_the_bound_agrees(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused ZeRO stage stays in the broadcast ZeRO axis: counted evaluated (the grid prices it, as a plan over
    the memory), never feasible; the branch and bound returns bitwise what pricing every plan does."""
    args = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128)
    deepspeed = load_stack("deepspeed")
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = search_plans(*args, top=7, stack=deepspeed)
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    full = search_plans(*args, top=7, stack=deepspeed)
    assert (bounded.evaluated, bounded.feasible) == (full.evaluated, full.feasible)
    assert [r.config for r in bounded.top] == [r.config for r in full.top]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackLimitWarning)
        free = search_plans(*args, top=7, stack=deepspeed.model_copy(update={"pipeline_zero_stages": None}))
    assert free.evaluated == full.evaluated and free.feasible > full.feasible


def test_train_notes_a_plan_outside_the_stack() -> None:
    said = "ZeRO outside the stack: deepspeed does not run ZeRO-3 with pipeline parallelism"
    outside = estimate_training(**PLAN, zero=3, stack="deepspeed")  # type: ignore[arg-type]
    assert any(n.startswith(said) for n in outside.notes)
    inside = estimate_training(**PLAN, zero=1, stack="deepspeed")  # type: ignore[arg-type]
    assert not any("outside the stack" in n for n in inside.notes)
    unpiped = estimate_training(**{**PLAN, "pp": 1}, zero=3, stack="deepspeed")  # type: ignore[arg-type]
    assert not any("ZeRO outside" in n for n in unpiped.notes)  # ZeRO-3 without a pipeline: DeepSpeed runs it
    cp = estimate_training(**PLAN, cp=2, zero=1, stack="deepspeed")  # type: ignore[arg-type]
    assert any(n.startswith("context parallelism outside the stack: deepspeed") for n in cp.notes)
    assert outside.step_time_s > 0 and cp.step_time_s > 0  # priced as asked
    titan = estimate_training(**PLAN, cp=2, zero=3, stack="torchtitan")  # type: ignore[arg-type]
    assert not any("outside the stack" in n for n in titan.notes)
    batched = train_batch([{**PLAN, "zero": 3, "cp": 2, "stack": "deepspeed"}])[0]  # the sweep's `train` says the same
    single = estimate_training(**PLAN, zero=3, cp=2, stack="deepspeed")  # type: ignore[arg-type]
    assert isinstance(batched, TrainingEstimate) and batched.notes == single.notes and len(single.notes) >= 2


def test_a_stack_file_without_the_fields_keeps_everything_with_a_note(tmp_path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("display_name: mine\nkind: training\nstack_class: megatron\nsource: test\n")
    stack = load_stack(str(own))
    with pytest.warns(StackLimitWarning, match="mine names no pipeline_zero_stages or context_parallel"):
        assert searched_limits(stack) == ((0, 1, 2, 3), True)
    notes = stack_limit_notes(stack, pp=4, zero=3, cp=2)
    assert any("names no pipeline_zero_stages: ZeRO-3 with PP 4 is priced unchecked" in n for n in notes)
    assert any("names no context_parallel: CP 2 is priced unchecked" in n for n in notes)
    assert stack_limit_notes(stack, pp=1, zero=3, cp=1) == []
