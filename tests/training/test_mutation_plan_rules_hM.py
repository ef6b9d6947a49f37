"""Mutation spot-checks, third wave (hM, session 34): plan rules and stack limits (training/plan_rules.py,
training/stack_limits.py).

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)"); the rules are
the frameworks' as the modules cite them."""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.catalog.stacks import resolve_stack
from infraplan.training.plan import PlanArrays
from infraplan.training.plan_rules import broken_rule_values, pipeline_extra_layers, valid_mask
from infraplan.training.stack_limits import refused_plans, searched_dtypes

LLAMA_8B = load_model("llama3-8b")  # 32 heads, 8 KV heads (query groups), 32 layers


def test_tp_may_be_a_multiple_of_the_query_groups_on_the_grid() -> None:
    """Megatron-Core transformer_config.py: num_query_groups must be a multiple or a divisor of TP. With 8 groups,
    TP 16 (each group replicated on 2 ranks) and TP 4 are both valid plans, TP 16 on the search's grid too. Mutant
    C02 kept only the divisor case on the grid."""
    n = 3
    plans = PlanArrays.build(tp=np.array([4, 8, 16]), pp=np.ones(n, dtype=int), dp=np.ones(n, dtype=int),
                             cp=np.ones(n, dtype=int), ep=np.ones(n, dtype=int), vpp=np.ones(n, dtype=int),
                             micro_batch=np.ones(n, dtype=int), global_batch=np.full(n, 8),
                             seq_len=np.full(n, 4096), recompute=np.zeros(n, dtype=int), zero=np.zeros(n, dtype=int),
                             dtype=np.zeros(n, dtype=int))
    assert valid_mask(LLAMA_8B, plans).tolist() == [True, True, True]


def test_the_even_split_counts_the_embedding_and_the_loss_as_one_layer_each() -> None:
    """Megatron-Core account_for_embedding_in_pipeline_split / account_for_loss_in_pipeline_split: each flag adds
    one pipeline layer. Mutant C05 counted the embedding only."""
    base = resolve_stack(None, "training").model_copy(update={"pipeline_split": "even"})
    def flags(emb: bool, loss: bool) -> int:
        return pipeline_extra_layers(base.model_copy(update={"account_for_embedding_in_pipeline_split": emb,
                                                             "account_for_loss_in_pipeline_split": loss}))
    assert (flags(False, False), flags(True, False), flags(False, True), flags(True, True)) == (0, 1, 1, 2)


def test_the_nearest_valid_global_batches_bracket_the_asked_one() -> None:
    """1,000 over DP 3 x micro-batch 1: the multiples of 3 either side are 999 and 1,002. Mutant C07 offered
    1,005."""
    row = PlanArrays.build(tp=1, pp=1, dp=3, cp=1, ep=1, vpp=1, micro_batch=1, global_batch=1000, seq_len=4096,
                           recompute=0, zero=0, dtype=0).one_row
    text = broken_rule_values(LLAMA_8B, row, "global batch not divisible by DP x micro-batch")
    assert text.endswith("nearest valid global batches: 999, 1,002")


def test_deepspeed_refuses_zero_2_and_3_only_with_a_pipeline_and_cp_from_two() -> None:
    """DeepSpeed 0.14.4 runtime/pipe/engine.py:72-73 asserts ZeRO < 2 with pipeline parallelism, while stages 0-3 run
    without one (runtime/zero/config.py); it ships no context parallelism as modelled, so CP 2 is refused. Mutants
    C09 (PP 1 read as pipelined) and C10 (CP refused only above 2)."""
    ds = resolve_stack("deepspeed", "training")
    pp, zero = np.array([1, 1, 2, 2, 1]), np.array([2, 3, 2, 1, 0])
    cp = np.array([1, 1, 1, 1, 2])
    assert refused_plans(ds, pp, zero, cp).tolist() == [False, False, True, False, True]


def test_a_stack_naming_no_precisions_searches_every_one_offered() -> None:
    """stack_limits.searched_dtypes: a stack naming no `dtypes` trains in all that the accelerator offers. Mutant
    C12 kept the first."""
    stack = resolve_stack(None, "training").model_copy(update={"dtypes": None})
    assert searched_dtypes(stack, ["bf16", "fp8"], "auto") == ["bf16", "fp8"]
