"""Mutant-killing checks of `training.sparse_attention_rules` (hJ, session 62): the refusal lists exactly the shipped
stacks whose framework ships DSA (hN61's reading of the wheels: megatron-core >= 0.16.0 in nemo-26.04, and DeepSeek's
own stack; no serving stack is a training stack), CP 2 is already context parallelism (its keys gathered, said), and
a stack that names no `sparse_attention` prices a DSA model unchecked, with its note, rather than refusing it."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.errors import InputError
from infraplan.training.estimate import estimate_training
from infraplan.training.sparse_attention_rules import check_sparse_attention, sparse_attention_stack_notes

SHAPE = load_model("deepseek-v3.2")


def test_the_refusal_lists_the_two_stacks_that_ship_dsa() -> None:
    with pytest.raises(InputError) as refused:
        check_sparse_attention(load_stack("megatron-core-0.8"), SHAPE)
    assert str(refused.value).endswith("stacks that ship it: deepseek-v3, nemo-26.04")


def test_cp_2_gathers_the_index_keys_and_says_so() -> None:
    runs = load_stack("nemo-26.04").model_copy(update={"sparse_attention": "dsa-allgather-cp",
                                                      "sparse_attention_source": "megatron-core 0.19.0"})
    notes = sparse_attention_stack_notes(runs, SHAPE, 2)
    assert len(notes) == 1 and "DeepSeek Sparse Attention at CP 2" in notes[0]
    assert sparse_attention_stack_notes(runs, SHAPE, 1) == []


def test_a_stack_naming_no_sparse_attention_prices_dsa_with_its_note() -> None:
    unnamed = load_stack("nemo-26.04").model_copy(update={"sparse_attention": None, "sparse_attention_source": None})
    check_sparse_attention(unnamed, SHAPE)  # not refused
    out = estimate_training("deepseek-v3.2", "h800", 128, tp=8, ep=16, seq_len=4096, global_batch=16,
                            dtype="bf16", recompute="full", zero=1, stack=unnamed)
    assert out.step_time_s > 0.0 and any("names no sparse_attention" in n for n in out.notes)
