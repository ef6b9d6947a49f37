"""Mutation wave 10 (hM10, session 39): `plan`'s idle units trimmed (`scenario_caps.trim_idle`), by hand.

Its docstring: units the demand does not need are dropped, the largest assignments (by devices) whole first while
the rest still covers the demand, then divisible units one at a time; a unit whose capacity is exactly the
surplus goes (the demand stays covered exactly).
"""

from __future__ import annotations

import numpy as np

from infraplan.planning.phased_mix import MixOption
from infraplan.planning.scenario_caps import trim_idle


def test_the_largest_assignment_goes_first_when_the_surplus_is_exactly_its_capacity() -> None:
    """A demand of 3 served by 3 one-device units (capacity 1 each) and by one 8-device deployment (capacity 4):
    the surplus, 4, is exactly the deployment's: the deployment (8 devices, the largest) goes whole and the 3 units
    stay (3 devices; the units gone instead would leave the 8-device deployment)."""
    options = [MixOption(0, 0, 0, 1.0, 1, False), MixOption(0, 1, 0, 4.0, 8, True)]
    assert trim_idle(options, np.array([3, 1]), np.array([[3.0]])).tolist() == [3, 0]


def test_divisible_units_go_one_at_a_time_down_to_the_demand() -> None:
    """7 units of capacity 1 for a demand of 3 (the assignment is not wholly idle): 4 go, one at a time, 3 stay;
    and 5 of capacity 2 for a demand of 6 leave 3."""
    one = [MixOption(0, 0, 0, 1.0, 1, False)]
    assert trim_idle(one, np.array([7]), np.array([[3.0]])).tolist() == [3]
    two = [MixOption(0, 0, 0, 2.0, 1, False)]
    assert trim_idle(two, np.array([5]), np.array([[6.0]])).tolist() == [3]
