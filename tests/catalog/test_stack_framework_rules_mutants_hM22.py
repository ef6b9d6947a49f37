"""Mutation wave hM22 (session 45): `catalog.stack_framework_rules.FrameworkRules`'s checks, every field.

The module's contract (its docstring and each field's description): each framework limit is optional and, when set,
needs its `<field>_source` (a blank one is none); a stack's default ZeRO stage must be one it runs; a fixed
partition cuts a balanced split only ("time", the default, is what no partition means); a recipe's own layout is a
pipeline (PP >= 2) of at least one virtual stage; a set of schedules or precisions is never empty; and
hybrid sharding shards ZeRO 1, 2 or 3 (ZeRO-0 has nothing to shard).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infraplan.catalog.stacks import Stack, load_stack

BASE = load_stack("nemo-26.04").model_dump()

# a value each limit may take (`FrameworkRules`' types)
LIMITS: dict[str, Any] = {
    "pipeline_schedules": ("1f1b",), "zero_stages": (0, 1, 2, 3), "pipeline_zero_stages": (0, 1, 2, 3),
    "context_parallel": True, "default_zero": 1, "pipeline_default_zero": 1, "pipeline_micro_batch_rules": "megatron",
    "pipeline_split_divisible": True, "pipeline_partition": "time", "pipeline_default_schedule": "1f1b",
    "expert_tensor_parallel": "any", "expert_parallel_layout": "ep-inside-dp", "rank_order": "tp-cp-pp-dp",
    "dtypes": ("bf16",), "zero_shard_stages": (1,),
}


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_every_limit_needs_a_source_and_a_blank_one_is_none(name: str) -> None:
    given = {**BASE, name: LIMITS[name], f"{name}_source": "a framework file, line"}
    assert getattr(Stack.model_validate(given), name) is not None  # (the value is one the field takes)
    for missing in (None, "  "):
        with pytest.raises(ValueError, match=f"{name} needs {name}_source"):
            Stack.model_validate({**given, f"{name}_source": missing})


def test_the_default_zero_without_a_pipeline_must_be_a_stage_the_stack_runs() -> None:
    with pytest.raises(ValueError, match=r"default_zero 3 is not among zero_stages \[1, 2\]"):
        Stack.model_validate({**BASE, "zero_stages": (1, 2), "zero_stages_source": "s", "default_zero": 3,
                              "default_zero_source": "s"})


def test_the_time_partition_is_no_partition_on_an_even_split() -> None:
    """"time" is what None means (the balanced split's own cut): an even split takes it as it takes None, while a
    DeepSpeed cut on an even split is refused."""
    even = {**BASE, "pipeline_split": "even"}
    assert Stack.model_validate({**even, "pipeline_partition": "time", "pipeline_partition_source": "s"})
    with pytest.raises(ValueError, match="cuts a balanced split"):
        Stack.model_validate({**even, "pipeline_partition": "uniform", "pipeline_partition_source": "s"})


@pytest.mark.parametrize("plans", [((1, 2),), ((4, 0),)])
def test_a_recipe_layout_is_a_pipeline_of_at_least_one_virtual_stage(plans: tuple[tuple[int, int], ...]) -> None:
    assert Stack.model_validate({**BASE, "pipeline_layout_plans": ((4, 2),)}).pipeline_layout_plans == ((4, 2),)
    with pytest.raises(ValidationError):
        Stack.model_validate({**BASE, "pipeline_layout_plans": plans})


@pytest.mark.parametrize("name", ["pipeline_schedules", "dtypes", "zero_stages", "pipeline_zero_stages",
                                  "zero_shard_stages"])
def test_an_empty_set_of_what_the_framework_runs_is_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        Stack.model_validate({**BASE, name: (), f"{name}_source": "s"})


def test_hybrid_sharding_of_zero_0_is_refused() -> None:
    with pytest.raises(ValidationError):
        Stack.model_validate({**BASE, "zero_shard_stages": (0,), "zero_shard_stages_source": "s"})


@pytest.mark.parametrize(("name", "value"), [("context_parallel", False), ("pipeline_split_divisible", False),
                                             ("default_zero", 0), ("pipeline_default_zero", 0)])
def test_a_limit_set_to_false_or_zero_is_set_and_needs_its_source(name: str, value: object) -> None:
    """False (the framework lacks CP; splits any count) and ZeRO-0 are limits a framework states, not absences."""
    with pytest.raises(ValueError, match=f"{name} needs {name}_source"):
        Stack.model_validate({**BASE, name: value, f"{name}_source": None})
