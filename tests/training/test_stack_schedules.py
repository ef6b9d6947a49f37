"""A software stack's pipeline schedules are part of its profile (`Stack.pipeline_schedules`): every shipped training
stack names them with a source, `search` tries no other, `train` notes one it is asked for, and a stack file
without the field keeps every registered schedule with a warning (`training.schedules.stack_schedules`)."""

from __future__ import annotations

import json
import warnings

import pytest

from infraplan.catalog.stacks import list_stacks, load_stack
from infraplan.cli.main import main
from infraplan.errors import InputError
from infraplan.training.enums import Schedule
from infraplan.training.estimate import estimate_training
from infraplan.training.schedules import (
    PIPELINE_SCHEDULES,
    StackScheduleWarning,
    searched_schedules,
    stack_schedules,
)
from infraplan.training.search import search_plans

SEARCH = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, seq_len=4096, global_batch=128, dtype="bf16",
              top=20)
PLAN = dict(model="llama3-70b", system="dgx-h100-superpod", gpus=64, tp=8, pp=4, seq_len=4096, global_batch=128,
            recompute="full")


def test_every_shipped_training_stack_names_its_schedules_with_a_source() -> None:
    for name in list_stacks():
        stack = load_stack(name)
        if stack.kind == "serving":
            assert stack.pipeline_schedules is None
            continue
        assert stack.pipeline_schedules, name
        assert len(stack.pipeline_schedules_source or "") > 100, name
        assert set(stack_schedules(stack)) <= set(PIPELINE_SCHEDULES)  # every name is a registered schedule
    assert stack_schedules(load_stack("deepspeed")) == (Schedule.ONE_F_ONE_B,)
    for megatron in ("megatron-lm-2021", "megatron-lm-2022", "megatron-core-0.8", "nemo-23.05", "nemo-24.12",
                     "nemo-26.04", "meta-llama3"):
        assert stack_schedules(load_stack(megatron)) == (Schedule.ONE_F_ONE_B, Schedule.INTERLEAVED)
    assert stack_schedules(load_stack("deepseek-v3")) == (Schedule.DUALPIPE,)
    assert Schedule.DUALPIPE not in stack_schedules(load_stack("torchtitan"))  # torch ships DualPipeV, not DualPipe


def test_a_list_without_a_source_or_with_an_unknown_name_is_refused(tmp_path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text("display_name: x\nkind: training\nstack_class: megatron\nsource: s\n"
                    "pipeline_schedules: [1f1b]\n")
    with pytest.raises(InputError, match="pipeline_schedules_source"):
        load_stack(str(bare))
    odd = tmp_path / "odd.yaml"
    odd.write_text("display_name: x\nkind: training\nstack_class: megatron\nsource: s\n"
                   "pipeline_schedules: [gpipe]\npipeline_schedules_source: a framework\n")
    with pytest.raises(InputError, match="pipeline_schedules must be one of"):
        stack_schedules(load_stack(str(odd)))


def test_search_under_deepspeed_proposes_only_its_1f1b() -> None:
    """Megatron-DeepSpeed's pipeline engine runs one schedule (TrainSchedule): no interleaving, ZB or DualPipe row,
    where the same search with every registered schedule ranks some among its best."""
    deepspeed = load_stack("deepspeed")
    rows = search_plans(**SEARCH, stack=deepspeed).top  # type: ignore[arg-type]
    assert rows and {r.config.schedule for r in rows} == {"1f1b"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StackScheduleWarning)
        free = search_plans(**SEARCH, stack=deepspeed.model_copy(update={"pipeline_schedules": None})).top  # type: ignore[arg-type]
    assert {r.config.schedule for r in free} - {"1f1b"}


def test_search_under_a_dualpipe_stack_keeps_plans_without_a_pipeline() -> None:
    """DeepSeek-V3's stack ships only DualPipe: its pipelined plans run it, and a plan without a pipeline (PP = 1,
    coded 1F1B) is still searched; asked for schedules the stack lacks, the search refuses in one line."""
    rows = search_plans("llama3-8b", "dgx-h100-superpod", 16, 4096, 64, dtype="bf16", top=40,
                        stack=load_stack("nemo-24.12").model_copy(update={"pipeline_schedules": ("dualpipe",)})).top
    assert any(r.config.pp == 1 for r in rows)
    assert all(r.config.schedule == ("dualpipe" if r.config.pp > 1 else "1f1b") for r in rows)
    assert searched_schedules(load_stack("deepseek-v3")) == (Schedule.DUALPIPE,)
    with pytest.raises(InputError, match="deepspeed ships none of them"):
        search_plans(**SEARCH, stack="deepspeed", schedules=["interleaved", "dualpipe"])  # type: ignore[arg-type]
    assert searched_schedules(load_stack("torchtitan"), (Schedule.ZB_V, Schedule.DUALPIPE)) == (Schedule.ZB_V,)


def test_train_notes_a_schedule_outside_the_stack() -> None:
    """`train` prices what it is asked (as for TP beyond a scale-up domain) and says the framework would refuse it."""
    outside = estimate_training(**PLAN, vpp=2, schedule="interleaved", stack="deepspeed")  # type: ignore[arg-type]
    said = "schedule outside the stack: deepspeed does not ship the interleaved"
    assert any(n.startswith(said) for n in outside.notes)
    inside = estimate_training(**PLAN, vpp=2, schedule="zb-v", stack="torchtitan")  # type: ignore[arg-type]
    assert not any("schedule outside the stack" in n for n in inside.notes)
    unpiped = estimate_training(**{**PLAN, "pp": 1, "tp": 8}, stack="deepseek-v3")  # type: ignore[arg-type]
    assert not any("schedule outside the stack" in n for n in unpiped.notes)  # PP = 1 runs no schedule


def test_a_stack_file_without_the_field_keeps_every_schedule_with_a_note(tmp_path) -> None:
    own = tmp_path / "mine.yaml"
    own.write_text("display_name: mine\nkind: training\nstack_class: megatron\nsource: test\n")
    stack = load_stack(str(own))
    with pytest.warns(StackScheduleWarning, match="mine names no pipeline_schedules"):
        assert searched_schedules(stack) == tuple(PIPELINE_SCHEDULES)
    result = estimate_training(**PLAN, schedule="dualpipe", stack=str(own))  # type: ignore[arg-type]
    assert any("mine names no pipeline_schedules: the dualpipe schedule is priced unchecked" in n for n in result.notes)


def _cli(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_train_says_the_stack_lacks_the_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, ["train", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "64", "--tp", "8",
                                 "--pp", "4", "--schedule", "dualpipe", "--stack", "deepspeed", "--seq-len", "4096",
                                 "--global-batch", "128", "--recompute", "full", "--json"])
    assert code == 0
    assert any("does not ship the dualpipe pipeline schedule" in n for n in json.loads(out)["notes"])
    code, _, err = _cli(capsys, ["search", "llama3-70b", "--system", "dgx-h100-superpod", "--gpus", "64",
                                 "--seq-len", "4096", "--global-batch", "128", "--schedule", "dualpipe",
                                 "--stack", "deepspeed"])
    assert code == 2 and err.count("\n") == 1 and "deepspeed ships none of them" in err
