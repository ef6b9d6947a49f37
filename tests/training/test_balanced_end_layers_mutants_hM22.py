"""Mutation wave hM22 (session 45): `training.stage_split.balanced_end_layers` where one end sets the pace, and on
one stage.

Expectations from its docstring's rule (hO48, session 44), counted by hand: with one end the heaviest (X layers), the
other end holds its own capacity at most L - X, on two stages all L - X; the heaviest end holds 0 here (the caller
gives it X); on one stage (the heaviest both first and last) the counts are the caller's `first_n` / `last_n`.
"""

from __future__ import annotations

from infraplan.scalar_path import FLOAT_OPS
from infraplan.training.stage_split import balanced_end_layers


def test_two_stages_put_every_other_layer_on_the_other_end_whatever_its_capacity() -> None:
    """L = 32, the first stage the heaviest at X = 18: the last holds 32 - 18 = 14, though its capacity is 9."""
    assert balanced_end_layers(2.0, 18.0, 14.0, 1.0, 0.0, (18.0, 9.0), FLOAT_OPS, 18.0, 14.0) == (0.0, 14.0)


def test_the_other_end_holds_its_own_capacity() -> None:
    """PP 4, L = 32, the first stage the heaviest at X = 9 (capacities: first 9, last 7): the last end holds its
    own 7 (not the first's 9), the first 0 here."""
    assert balanced_end_layers(4.0, 9.0, 23.0, 1.0, 0.0, (9.0, 7.0), FLOAT_OPS, 9.0, 8.0) == (0.0, 7.0)
    # the last end the heaviest: the first holds its 9
    assert balanced_end_layers(4.0, 9.0, 23.0, 0.0, 1.0, (9.0, 7.0), FLOAT_OPS, 8.0, 9.0) == (9.0, 0.0)


def test_one_stage_keeps_the_callers_counts() -> None:
    """PP 1: the heaviest is both ends (with_embed = with_head = 1): not 'one end', so (first_n, last_n) as given."""
    assert balanced_end_layers(1.0, 32.0, 0.0, 1.0, 1.0, None, FLOAT_OPS, 32.0, 32.0) == (32.0, 32.0)
