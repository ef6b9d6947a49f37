"""numpy's `isclose` / `allclose` called from a test refuse a comparison their default absolute tolerance (1e-8)
decides (tests/conftest.py `_numpy_refuses_the_floor`, hS66), as pytest.approx's default 1e-12 is refused since hK65:
|a - b| <= 1e-8 + 1e-5 |b| passes a 61-layer mutant of a 62-layer cost of 1e-7 s (1.6 % apart), and any cost below
1e-8 s against any other. np.testing.assert_allclose's default atol is 0: relative alone, nothing to guard."""

from __future__ import annotations

import numpy as np
import pytest

LAYER_S = 1.6e-9  # one layer's launch-bound small kernel (ASSUMPTION of the example only: any figure of that order)


def _cost_s(layers: int) -> float:
    return layers * LAYER_S


def test_a_value_the_floor_decides_fails_the_test() -> None:
    cost, mutant = _cost_s(62), _cost_s(61)  # ~9.9e-8 s and ~9.8e-8 s
    assert np.isclose(mutant, cost, atol=1e-8)  # what numpy's default passed: the mutant, unseen
    with pytest.raises(pytest.fail.Exception, match="default atol=1e-08"):
        np.isclose(mutant, cost)
    with pytest.raises(pytest.fail.Exception, match="of 9.92e-08"):  # an array: its least value the floor decides
        np.allclose([1.0, mutant], [1.0, cost], rtol=1e-12)
    with pytest.raises(pytest.fail.Exception):  # `not allclose` asks the same question
        assert not np.allclose(mutant, cost)


def test_comparisons_the_floor_does_not_decide_still_work() -> None:
    cost, mutant = _cost_s(62), _cost_s(61)
    assert np.isclose(cost, cost, rtol=1e-12, atol=0) and not np.isclose(mutant, cost, rtol=1e-12, atol=0)
    assert np.allclose(np.array([cost, 1.0]) * 1e9, [62 * 1.6, 1e9], rtol=1e-12)  # the natural unit (ns)
    assert np.allclose([1e-13, 2e-6], [0.0, 2e-6])  # zero: the floor is the only tolerance there is; 2e-6: the
    assert not np.allclose(2.1e-6, 2e-6)  # floor decides, but is 0.5 % of the value (under FLOOR_SHARE): 5 % fails
    assert np.isclose([1.0, 2.0], [1.0, 2.0]).tolist() == [True, True]


def test_calls_from_outside_the_tests_compare_as_numpys_own() -> None:
    """The package's or a library's call (here code compiled under another file name) gets numpy's default atol."""
    outside = compile("np.allclose(9.8e-08, 9.9e-08)", "/elsewhere/module.py", "eval")
    assert eval(outside, {"np": np}) is True  # noqa: S307 (a fixed expression)
