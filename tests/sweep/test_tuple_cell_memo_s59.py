"""A sweep's points share one error band's case and campaign tuples: their JSON cell is built once, not per point
(sweep.results._TUPLE_CELLS; lead, session 59), and the cell equals the model_dump route's."""

from __future__ import annotations

from typing import Any

import pytest

from infraplan.sweep import results as sweep_results
from infraplan.sweep.results import flatten, flatten_result
from infraplan.training.estimate import estimate_training


@pytest.fixture(scope="module")
def result() -> Any:
    return estimate_training("llama3-8b", "dgx-h100-superpod", 64, tp=2, pp=1, global_batch=512, micro_batch=1,
                             seq_len=8192)


def test_the_band_cases_cell_is_built_once_for_many_points(result: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert result.error_band.cases_used, "the training band lists its cases"
    sweep_results._TUPLE_CELLS.clear()
    calls: list[Any] = []
    real = sweep_results.to_jsonable_python

    def counted(value: Any) -> Any:
        calls.append(value)
        return real(value)

    monkeypatch.setattr(sweep_results, "to_jsonable_python", counted)
    first = flatten_result(result)
    built = sum(1 for value in calls if value is result.error_band.cases_used)
    second = flatten_result(result)
    again = sum(1 for value in calls if value is result.error_band.cases_used) - built
    assert (built, again) == (1, 0)
    assert first == second == flatten(result.model_dump(mode="json"))


def test_an_equal_but_new_tuple_is_priced_on_its_own(result: Any) -> None:
    band = result.error_band
    shorter = result.model_copy(update={"error_band": band.model_copy(update={"cases_used": band.cases_used[:1]})})
    flatten_result(result)
    cell = flatten_result(shorter)["error_band__cases_used"]
    assert cell == flatten(shorter.model_dump(mode="json"))["error_band__cases_used"]
    assert cell != flatten_result(result)["error_band__cases_used"]


def test_the_memo_is_bounded() -> None:
    """hN59's mutant (the 256-entry clear dropped): a sweep of per-point tuples holds at most 256 of them."""
    sweep_results._TUPLE_CELLS.clear()
    for i in range(300):
        sweep_results._remember_tuple_cell((i, "x"), [i, "x"])
    assert 0 < len(sweep_results._TUPLE_CELLS) <= 256
