"""Mutation wave on hO42's balanced-split memory (hM16, session 42): tests that kill the survivors of hand mutations
of `stage_params.balanced_stage_layers`, `memory.kind_layers` / `memory_bound_terms` and `memory_bounds.memory_rows`.

Each expectation is derived outside the code: whole layers split by hand (the heaviest stage X, the other end as many
as X where the layers left allow, the rest on the middle stages), the balanced split's pace-setting stage by brute
force over every first-stage layer count (the minimum of max(first's pace, last's pace) on PP2), and a bound holding
a stage's own state (Megatron mixed precision under ZeRO-1: 2 B weights + 4 B fp32 gradients + 12 B optimizer state
over DP per parameter).
"""

from __future__ import annotations

import numpy as np
import pytest

from infraplan.catalog import load_model
from infraplan.catalog.stacks import load_stack
from infraplan.ops.params import local_layer_params
from infraplan.training.memory import memory_bound_terms, memory_breakdown
from infraplan.training.memory_bounds import memory_rows
from infraplan.training.plan import PlanArrays
from infraplan.training.stage_params import balanced_stage_layers
from infraplan.training.stage_split import heaviest_stage

LLAMA3 = load_stack("meta-llama3")  # pipeline_split: balanced


def _layers(num: int, pp: int, split: tuple[float, float, float]) -> tuple[float, ...]:
    return tuple(float(x) for x in balanced_stage_layers(num, pp, split, LLAMA3))


def test_pp3_with_an_end_heaviest_puts_the_rest_on_the_one_middle_stage() -> None:
    """32 layers on PP3, the first stage the heaviest with 11 (+ the embedding): the last holds as many as the
    heaviest (11, the layers left allow it) and the one middle stage the 10 left; mirrored with the last heaviest.
    (middle, first, last); the layers add up to 32 either way."""
    assert _layers(32, 3, (11.0, 1.0, 0.0)) == (10.0, 11.0, 11.0)
    assert _layers(32, 3, (11.0, 0.0, 1.0)) == (10.0, 11.0, 11.0)
    for split in ((11.0, 1.0, 0.0), (11.0, 0.0, 1.0), (12.0, 1.0, 0.0)):
        middle, first, last = _layers(32, 3, split)
        assert middle + first + last == 32.0


def _pp2_split_by_brute_force(num: int, embed: float, head: float) -> tuple[float, bool]:
    """(the pace-setting stage's layers, it is the last) of the whole-layer PP2 split minimising the slower stage,
    each layer 1 time unit: every first-stage count k tried."""
    best = min(range(num + 1), key=lambda k: max(k + embed, num - k + head))
    first, last = best + embed, num - best + head
    return (float(num - best), True) if last >= first else (float(best), False)


def test_the_bound_kind_holds_the_last_stage_when_it_has_the_most_layers() -> None:
    """Llama 3 8B (32 layers) on PP2 where the embedding's pace is 3.5 layers and the LM head's 0.1: the balanced
    split is 14 / 18, the last stage (with the head) the heaviest by time and by layers (brute force; the product's
    `heaviest_stage` finds the same). The states' upper bound must hold that stage's 18 layers + the LM head table,
    the most any stage holds: ZeRO-1, DP 32, TP1."""
    layers, last = _pp2_split_by_brute_force(32, 3.5, 0.1)
    assert (layers, last) == (18.0, True)
    _, found, is_last, is_first = heaviest_stage(32, np.array([2.0]), np.array([1.0]), np.array([3.5]),
                                                 np.array([0.1]), "balanced")
    assert (float(found[0]), bool(is_last[0]), bool(is_first[0])) == (18.0, True, False)
    assert _layers(32, 2, (18.0, 0.0, 1.0)) == (0.0, 14.0, 18.0)
    shape = load_model("llama3-8b")
    rows = PlanArrays.build(tp=[1, 1], pp=[2, 2], dp=[32, 32], cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                            global_batch=128, seq_len=8192, recompute=0, zero=1, dtype=0, schedule=0)
    split = (np.array([18.0, 18.0]), np.zeros(2), np.ones(2))
    p = float(local_layer_params(shape, 1))
    table = shape.vocab_size * shape.hidden_size
    last_state = (18 * p + table) * (2.0 + 4.0 + 12.0 / 32)
    first_state = (14 * p + table) * (2.0 + 4.0 + 12.0 / 32)
    states = memory_bound_terms(shape, rows, LLAMA3, "states", split)
    assert np.all(states["state_high"] >= last_state * (1 - 1e-12))
    assert np.all(states["state_low"] <= first_state * (1 + 1e-12))


def test_an_even_split_stack_ignores_a_split_given() -> None:
    """A stack whose pipeline_split is "even" has no balanced split: the memory of a plan with a (balanced) split
    passed is the even split's, the same as without one (`memory_breakdown`'s `split`: None the stack's even split)."""
    shape = load_model("llama3-8b")
    even = load_stack("nemo-26.04")
    assert even.pipeline_split == "even"
    plan = PlanArrays.one_plan(tp=1, pp=2, dp=32, cp=1, ep=1, etp=None, vpp=1, micro_batch=1, global_batch=128,
                               seq_len=8192, recompute=0, zero=1, dtype=0, attention=0, order=0, sequence_parallel=1)
    alone = memory_breakdown(shape, plan, even)
    with_split = memory_breakdown(shape, plan, even, (15.0, 0.0, 1.0))
    assert {k: float(v[0]) for k, v in with_split.items()} == {k: float(v[0]) for k, v in alone.items()}


@pytest.mark.parametrize("order", [0, 1])
def test_memory_rows_starts_a_row_where_any_split_column_changes(order: int) -> None:
    """Rows equal in every plan field share the memory of the row before them only with the same balanced split:
    the heaviest's layers 8, 7, 8, 8, 8 and the heaviest the first stage on rows 3 and 4: rows 0-3 each start a
    memory row (a split column differs from the row before), row 4 repeats row 3 (its order alone may differ)."""
    rows = PlanArrays.build(tp=[8] * 5, pp=[16] * 5, dp=[16] * 5, cp=1, ep=1, etp=None, vpp=1, micro_batch=1,
                            global_batch=2048, seq_len=8192, recompute=0, zero=1, dtype=0,
                            order=[0, 0, 0, 0, order], schedule=0)
    split = (np.array([8.0, 7.0, 8.0, 8.0, 8.0]), np.array([0.0, 0.0, 0.0, 1.0, 1.0]), np.zeros(5))
    assert memory_rows(rows, split).tolist() == [True, True, True, True, False]
    assert memory_rows(rows).tolist() == [True, False, False, False, False]
