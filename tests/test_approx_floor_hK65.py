"""The suite's pytest.approx refuses a comparison its default absolute tolerance (1e-12) decides (tests/conftest.py,
hK65): hI65 found `approx(5.8e-11, rel=1e-12)` in tests/serving/test_dsa_short_prefill_hC64.py passing a 61-forward
mutant of a 62-forward cost (1.6 % apart, within the 1e-12 floor)."""

from __future__ import annotations

import numpy as np
import pytest

BANDWIDTH_B_PER_S = 4.8e12  # H200's HBM3e (ASSUMPTION of the example only: any bandwidth of that order)


def _clean_pass_s(forwards: int) -> float:
    """vLLM's prefill clean pass: a 4 B -inf logit a forward (hC64), ~5.2e-11 s for 62 forwards."""
    return 4.0 * forwards / BANDWIDTH_B_PER_S


def test_a_value_the_floor_decides_fails_the_test() -> None:
    cost, mutant = _clean_pass_s(62), _clean_pass_s(61)
    with pytest.raises(pytest.fail.Exception, match="default abs=1e-12"):
        assert cost == pytest.approx(cost, rel=1e-12)
    with pytest.raises(pytest.fail.Exception):  # inside an array or a mapping too
        assert np.array([1.0, cost]) == pytest.approx(np.array([1.0, cost]))
    with pytest.raises(pytest.fail.Exception):
        assert {"s": cost} == pytest.approx({"s": cost})
    with pytest.raises(pytest.fail.Exception):  # `!=` compares through `==`
        assert mutant != pytest.approx(cost)


def test_comparisons_the_floor_does_not_decide_still_work() -> None:
    cost, mutant = _clean_pass_s(62), _clean_pass_s(61)
    assert cost == pytest.approx(cost, rel=1e-12, abs=0)  # an explicit abs is the writer's choice
    assert mutant != pytest.approx(cost, rel=1e-12, abs=0)  # and there a layer's error fails
    assert cost * 1e9 == pytest.approx(62 / 1200, rel=1e-12)  # the natural unit (ns)
    tiny, small, plain = 1e-13, 2e-9, 1.5
    assert tiny == pytest.approx(0.0)  # zero: the floor is the only tolerance there is
    assert small == pytest.approx(2e-9)  # the floor decides, but is 0.05 % of the value (under FLOOR_SHARE)
    assert plain == pytest.approx(1.5) and plain != pytest.approx(1.5000001, rel=1e-9)
    word, flag = "a", True
    assert word == pytest.approx("a") and flag == pytest.approx(True)
