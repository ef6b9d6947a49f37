"""A stack's limits beyond its schedules are part of its profile (`Stack.zero_stages`, `Stack.pipeline_zero_stages`,
`Stack.context_parallel`): every shipped training stack names them with a source, `search` proposes no plan its
framework refuses (DeepSpeed: no ZeRO-2/3 with PP, no CP; Megatron-Core 0.8: no ZeRO-2/3 at any PP; torchtitan: no
ZeRO-1), `train` prices one with a note, and a stack file without the fields keeps everything with a warning
(`training.stack_limits`)."""

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
            assert stack.zero_stages is stack.pipeline_zero_stages is stack.context_parallel is None
            continue
        assert stack.pipeline_zero_stages and 0 in stack.pipeline_zero_stages, name
        assert stack.zero_stages and set(stack.pipeline_zero_stages) <= set(stack.zero_stages), name
        assert stack.context_parallel is not None, name
        assert len(stack.pipeline_zero_stages_source or "") > 100, name
        assert len(stack.zero_stages_source or "") > 100, name
        assert len(stack.context_parallel_source or "") > 80, name
    deepspeed = load_stack("deepspeed")
    assert deepspeed.pipeline_zero_stages == (0, 1) and deepspeed.context_parallel is False
    assert "engine.py:72-73" in (deepspeed.pipeline_zero_stages_source or "")
    assert searched_limits(deepspeed) == ((0, 1, 2, 3), (0, 1), False)
    assert searched_limits(load_stack("nemo-26.04")) == ((0, 1, 2, 3), (0, 1, 2, 3), True)
    assert searched_limits(load_stack("torchtitan")) == ((0, 2, 3), (0, 2, 3), True)
    assert searched_limits(load_stack("megatron-core-0.8")) == ((0, 1), (0, 1), True)  # no FSDP before 0.10
    assert "custom_fsdp" in (load_stack("megatron-core-0.8").zero_stages_source or "")
    for old in ("megatron-lm-2021", "megatron-lm-2022", "nemo-23.05", "deepseek-v3"):
        assert load_stack(old).context_parallel is False, old


def test_a_limit_without_a_source_is_refused(tmp_path) -> None:
    for field, value in (("zero_stages", "[0, 1]"), ("pipeline_zero_stages", "[0, 1]"), ("context_parallel", "false")):
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
    stacks = (deepspeed, load_stack("torchtitan"), load_stack("megatron-core-0.8"))  # refused with PP > 1 / at any PP
    monkeypatch.setattr(search, "BOUND_MIN_PLANS", 0)
    bounded = [search_plans(*args, top=7, stack=stack) for stack in stacks]
    monkeypatch.setattr(search, "BRANCH_AND_BOUND", False)
    fulls = [search_plans(*args, top=7, stack=stack) for stack in stacks]
    for b, f in zip(bounded, fulls, strict=True):
        assert (b.evaluated_count, b.feasible_count) == (f.evaluated_count, f.feasible_count)
        assert [r.config for r in b.top] == [r.config for r in f.top]
    full = fulls[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackLimitWarning)
        free = search_plans(*args, top=7, stack=deepspeed.model_copy(update={"pipeline_zero_stages": None}))
    assert free.evaluated_count == full.evaluated_count and free.feasible_count > full.feasible_count


def test_search_proposes_only_the_zero_stages_the_stack_runs_without_a_pipeline() -> None:
    """Megatron-Core 0.8 shards only the optimizer (ZeRO-1, no FSDP): no ZeRO-2/3 plan even at PP 1, where the same
    stack with the field removed proposes ZeRO-3 plans; torchtitan's FSDP2 has no ZeRO-1 at any PP."""
    args = ("llama3-8b", "dgx-h100-superpod", 64, 8192, 128)
    mcore = load_stack("megatron-core-0.8")
    # top 40: since the DP x CP group shards the optimizer (hE, session 38) CP plans fill the first 20 rows
    rows = search_plans(*args, top=40, stack=mcore).top
    assert rows and all(r.config.zero <= 1 for r in rows) and any(r.config.pp == 1 for r in rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackLimitWarning)
        free = search_plans(*args, top=40, stack=mcore.model_copy(update={"zero_stages": None})).top
    assert any(r.config.pp == 1 and r.config.zero >= 2 for r in free)
    titan = search_plans(*args, top=20, stack="torchtitan").top
    assert titan and all(r.config.zero != 1 for r in titan) and any(r.config.zero >= 2 for r in titan)


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
    flat = {**PLAN, "pp": 1, "zero": 3}
    mcore = estimate_training(**flat, stack="megatron-core-0.8")  # type: ignore[arg-type]
    assert any(n.startswith("ZeRO outside the stack: megatron-core-0.8 does not run ZeRO-3 without a pipeline")
               for n in mcore.notes) and mcore.step_time_s > 0
    titan = estimate_training(**{**flat, "zero": 1}, stack="torchtitan")  # type: ignore[arg-type]
    assert any(n.startswith("ZeRO outside the stack: torchtitan does not run ZeRO-1") for n in titan.notes)
    assert not any("ZeRO outside" in n for n in estimate_training(  # type: ignore[arg-type]
        **flat, stack="nemo-26.04").notes)
    batched = train_batch([{**PLAN, "zero": 3, "cp": 2, "stack": "deepspeed"}])[0]  # the sweep's `train` says the same
    single = estimate_training(**PLAN, zero=3, cp=2, stack="deepspeed")  # type: ignore[arg-type]
    assert isinstance(batched, TrainingEstimate) and batched.notes == single.notes and len(single.notes) >= 2


def test_a_stack_file_without_the_fields_keeps_everything_with_a_note(tmp_path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("display_name: mine\nkind: training\nstack_class: megatron\nsource: test\n")
    stack = load_stack(str(own))
    with pytest.warns(StackLimitWarning, match="mine names no zero_stages or pipeline_zero_stages or context_parallel"):
        assert searched_limits(stack) == ((0, 1, 2, 3), (0, 1, 2, 3), True)
    notes = stack_limit_notes(stack, pp=4, zero=3, cp=2)
    assert any("names no pipeline_zero_stages: ZeRO-3 with PP 4 is priced unchecked" in n for n in notes)
    assert any("names no context_parallel: CP 2 is priced unchecked" in n for n in notes)
    assert stack_limit_notes(stack, pp=1, zero=3, cp=1) == ["stack mine names no zero_stages: ZeRO-3 without a "
                                                             "pipeline is priced unchecked"]
    assert stack_limit_notes(stack, pp=1, zero=0, cp=1) == []
