"""hI2 (session 68): hD68's refusal line for a model no recipe lays out (`training.pipeline_split_rule`
`OthersLaidOut`, `dividing_split`) names only the recipes that lay out a pipeline (`pipeline_layout_plans`) of a
model with as many layers. nemo-26.04's recipes: deepseek-v3, kimi-k2, kimi-k2.5 (61 layers) lay theirs out;
llama3-405b (126), qwen3-235b-a22b (94) and gpt-oss-120b (36) set none. megatron-7.5b (36 layers) at PP 8 is
refused by the even split with no such line (gpt-oss-120b's recipe lays nothing out, and the 61-layer ones are not
its count); DeepSeek-V3.2 (61) gets it (tests/training/test_training_leftovers_hD68.py). Kimi K2.5's recipe is K2's.
"""

from __future__ import annotations

import pytest

from infraplan.catalog.model_recipes import stack_for_model
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training


def test_a_36_layer_model_is_told_no_recipe_lays_out_its_count() -> None:
    with pytest.raises(InputError) as refused:
        estimate_training("megatron-7.5b", "dgx-h100-superpod", 64, stack="nemo-26.04", pp=8, tp=8, seq_len=4096,
                          global_batch=512)
    said = str(refused.value)
    assert "do not divide the model's 36 layers" in said and "nearest valid PPs: 6, 9" in said
    assert "model recipes lay out" not in said and "gpt-oss-120b" not in said


def test_kimi_k25_trains_with_k2s_recipe_settings() -> None:
    """hD68's Kimi K2.5 recipe on nemo-26.04 is K2's (Megatron-Bridge 0.6.0 kimi_k25_vl.py:28-50 K2's layouts,
    :115-122 Muon, :129 no CUDA graphs, :151 / :175 fp32 gradient reduce): the two models' stacks differ only in the
    recipe's name."""
    nemo = load_stack("nemo-26.04")
    k25, k2 = stack_for_model(nemo, "kimi-k2.5"), stack_for_model(nemo, "kimi-k2")
    assert (k25.recipe_model, k2.recipe_model) == ("kimi-k2.5", "kimi-k2")
    assert k25.grad_reduce_dtype == "fp32" and not k25.cuda_graphs and (16, 1) in k25.pipeline_layout_plans
    assert k25.model_dump(exclude={"recipe_model"}) == k2.model_dump(exclude={"recipe_model"})
