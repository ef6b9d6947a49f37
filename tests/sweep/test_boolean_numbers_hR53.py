"""A sweep spec's numbers refuse a boolean, as every catalog spec does since hC51 (`catalog.spec_base.Spec`, hR53).

pydantic's lax mode read `true` as 1: `gpus: {range: {start: true, stop: 4}}` swept 1.0, 2.0, 3.0, 4.0 and
`{log: {start: true, stop: 8, factor: 2}}` 1.0 ... 8.0, without a word. A list axis keeps its booleans (`sharp:
[true, false]` is an axis of flags), and so does `fixed`.
"""

from __future__ import annotations

import pytest

from infraplan.errors import InputError
from infraplan.sweep.spec import load_spec


@pytest.mark.parametrize("axis", [{"range": {"start": True, "stop": 4}},
                                  {"range": {"start": 1, "stop": 4, "step": True}},
                                  {"log": {"start": True, "stop": 8, "factor": 2}},
                                  {"log": {"start": 1, "stop": 8, "num": True}}])
def test_a_boolean_in_a_range_or_log_axis_is_refused(axis: dict) -> None:
    with pytest.raises(InputError) as info:
        load_spec({"function": "train", "axes": {"gpus": axis}})
    assert "boolean" in str(info.value) and "\n" not in str(info.value)


def test_a_boolean_seed_is_refused_and_flag_axes_keep_theirs() -> None:
    with pytest.raises(InputError, match="boolean"):
        load_spec({"function": "train", "seed": True, "axes": {"gpus": [8]}})
    spec = load_spec({"function": "train", "fixed": {"sequence_parallel": True}, "axes": {"sharp": [True, False]}})
    assert [p["sharp"] for p in spec.points()] == [True, False]
    assert all(p["sequence_parallel"] is True for p in spec.points())
    # the same axis in numbers is the range it says (by hand: 1, 2, 3, 4)
    numbers = load_spec({"function": "train", "axes": {"gpus": {"range": {"start": 1, "stop": 4}}}})
    assert [p["gpus"] for p in numbers.points()] == [1, 2, 3, 4]
