"""Mutation wave hM21 (session 44): `training.pipeline_partition`'s layer list, its ends and the fixed cut's pace.

Expectations: DeepSpeed 0.14.4's own `partition_balanced` (runtime/utils.py:583-621) run from the PyPI wheel on the
type:transformer list (0 for the tables, 1 per layer: pipe/module.py:386-391); DeepSeek-V3's first three layers
dense (its config's first_k_dense_replace = 3); DeepSpeed's `partition_uniform` by hand; the pace's tie order as
`partitioned_stage`'s docstring states it (ties to the middle, then the last, the time split's order).
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog import load_model
from infraplan.training.pipeline_partition import (
    deepspeed_layer_weights,
    partition_end_layers,
    partition_stage_layers,
    partitioned_stage,
)

LLAMA3_8B = load_model("llama3-8b")  # 32 layers


def test_type_transformer_weighs_the_tables_zero_as_deepspeed_does() -> None:
    """DeepSpeed's partition_balanced([0, 1 x 32, 0, 0], 3) = [0, 12, 23, 35] -> 11 / 11 / 10 layers;
    (.., 5) = [0, 8, 15, 21, 27, 35] -> 7 / 7 / 6 / 6 / 6 (printed by its own function). A table weighed 1 would
    move a layer off the first stage (10 / 11 / 11)."""
    assert deepspeed_layer_weights(LLAMA3_8B, "type:transformer") == [0.0, *[1.0] * 32, 0.0, 0.0]
    assert partition_stage_layers(LLAMA3_8B, 3, "type:transformer") == (11, 11, 10)
    assert partition_stage_layers(LLAMA3_8B, 5, "type:transformer") == (7, 7, 6, 6, 6)


def test_deepseek_v3s_dense_layers_lead_its_layer_list() -> None:
    """Layers 0-2 dense (first_k_dense_replace 3), the other 58 routed and heavier: items 1-3 of the list."""
    weights = deepspeed_layer_weights(load_model("deepseek-v3"), "parameters")[1:-2]
    assert len(weights) == 61
    assert weights[:3] == [weights[0]] * 3 and weights[3:] == [weights[3]] * 58 and weights[0] < weights[3]


def test_uniform_ends_are_not_mirrored() -> None:
    """partition_uniform(35, 4) = [0, 9, 18, 27, 35] (35 = 4 x 8 + 3, one more on the first three): the first stage
    holds the embedding and layers 1-8 (8), a middle 9, the last layers 27-32 (6), the norm and the head."""
    assert partition_end_layers(LLAMA3_8B, 4.0, "uniform") == (8.0, 9.0, 6.0)
    first, middle, last = partition_end_layers(LLAMA3_8B, np.array([4, 1]), "uniform")
    assert first.tolist() == [8.0, 32.0] and middle.tolist() == [9.0, 0.0] and last.tolist() == [6.0, 32.0]


def test_tied_ends_pace_as_the_last() -> None:
    """7 t + 2 at both ends beside a middle of 5 t: the ends tie; the last stage is the pace (the tie order)."""
    assert partitioned_stage(4.0, 7.0, 5.0, 7.0, 1.0, 2.0, 2.0) == (9.0, 7.0, True, False)
    arrays = partitioned_stage(np.array([4.0]), np.array([7.0]), np.array([5.0]), np.array([7.0]), np.array([1.0]),
                               np.array([2.0]), np.array([2.0]))
    assert tuple(np.ravel(x)[0] for x in arrays) == (9.0, 7.0, True, False)


def test_one_stage_runs_both_tables_and_is_both_ends() -> None:
    """PP 1: 32 layers of 1 s, the embedding 3 s and the head 2 s on the one stage: 37 s, first and last."""
    assert partitioned_stage(1.0, 32.0, 0.0, 32.0, 1.0, 3.0, 2.0) == (37.0, 32.0, True, True)
    arrays = partitioned_stage(np.array([1.0, 4.0]), np.array([32.0, 7.0]), np.array([0.0, 9.0]),
                               np.array([32.0, 7.0]), np.array([1.0, 1.0]), np.array([3.0, 3.0]),
                               np.array([2.0, 1.0]))
    assert [x.tolist() for x in arrays] == [[37.0, 10.0], [32.0, 7.0], [True, False], [True, True]]
