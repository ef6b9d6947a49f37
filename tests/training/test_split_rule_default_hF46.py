"""A stack file that leaves `pipeline_split_divisible` out is held to Megatron-Core's divisibility rule by default
(None reads as true, `Stack.pipeline_split_divisible`); a plan refused for it said nothing of that default, so a
user whose framework spreads the remainder could not tell which field lifts it (hF46)."""

from __future__ import annotations

import pytest

from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.pipeline_split_rule import DefaultRule, pipeline_split_rule

PLAN = {"tp": 1, "pp": 3, "seq_len": 2048, "global_batch": 48, "micro_batch": 1}  # 32 (+ extra) layers over PP 3


def _refusal(divisible: bool | None) -> str:
    stack = load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": divisible})
    with pytest.raises(InputError) as error:
        estimate_training("llama3-8b", "dgx-h100-superpod", 24, stack=stack, **PLAN)
    return str(error.value)


def test_a_refusal_under_the_default_says_it_is_the_default_and_names_the_field() -> None:
    line = _refusal(None)
    assert "pipeline stages x virtual stages do not divide" in line and "\n" not in line
    assert "sets no pipeline_split_divisible, which defaults to this rule" in line
    assert "pipeline_split_divisible: false" in line


def test_a_stack_that_sets_the_rule_itself_is_not_told_of_a_default() -> None:
    line = _refusal(True)
    assert "pipeline stages x virtual stages do not divide" in line and "pipeline_split_divisible" not in line
    estimate_training("llama3-8b", "dgx-h100-superpod", 24,  # false: any count, the same plan runs
                      stack=load_stack("nemo-26.04").model_copy(update={"pipeline_split_divisible": False}), **PLAN)


def test_the_rule_is_marked_default_only_where_the_field_is_left_out() -> None:
    stack = load_stack("nemo-26.04")
    assert isinstance(pipeline_split_rule(stack.model_copy(update={"pipeline_split_divisible": None})), DefaultRule)
    explicit = pipeline_split_rule(stack.model_copy(update={"pipeline_split_divisible": True}))
    assert explicit is not None and not isinstance(explicit, DefaultRule)
