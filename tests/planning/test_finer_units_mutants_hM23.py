"""Mutation wave hM23 (session 45) on `planning.fleet_mix_llm.finer_units` (fleet-mix's and plan's one rule): which
halvings are searched and which answers are kept, on a stub search whose answers are written by hand.

The rule (module docstring): while the last option kept serves more than R / 4 (FINE_UNITS), search R / 2, R / 4 ...
at most 5 times (R / 32, FINER_HALVINGS); keep an answer whose unit holds fewer devices than every coarser one;
stop where a search finds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from infraplan.planning import fleet_mix_llm
from infraplan.planning.fleet_mix_llm import finer_options, finer_units

R = 32.0


def _run(table: Mapping[float, tuple[float, int] | None], capacity: float,
         devices: int) -> tuple[list[float], list[Any]]:
    """(the rates searched, the options kept: their rates) on a stub whose answer at each rate is `table`'s."""
    asked: list[float] = []

    def at(rate: float) -> tuple[float, int, float] | None:
        asked.append(rate)
        got = table.get(rate)
        return None if got is None else (got[0], got[1], rate)

    return asked, finer_units(R, capacity, devices, at)


def test_a_unit_serving_a_quarter_is_fine_and_one_serving_more_is_refined() -> None:
    assert _run({}, R / 4, 8) == ([], [])  # 8 of 32: fine as it is, nothing searched
    asked, kept = _run({16.0: (16.0, 4), 8.0: (8.0, 2)}, 10.0, 8)  # 10 of 32 (between a third and a quarter)
    assert asked == [16.0, 8.0] and kept == [16.0, 8.0]


def test_the_search_stops_once_the_last_kept_unit_is_fine() -> None:
    """One unit serves all 32 on 16 devices; 16 on 8, then 8 on 4 (a quarter): stop there, R / 8 not searched."""
    asked, kept = _run({16.0: (16.0, 8), 8.0: (8.0, 4), 4.0: (4.0, 2)}, 32.0, 16)
    assert asked == [16.0, 8.0] and kept == [16.0, 8.0]


def test_an_answer_no_smaller_than_a_kept_one_is_dropped_and_the_search_goes_on() -> None:
    """At R / 4 the answer holds as many devices (8) as the one kept at R / 2: dropped (not finer), so the last kept
    still serves 16 > 8 and R / 8 is searched, whose 4-device unit is kept."""
    asked, kept = _run({16.0: (16.0, 8), 8.0: (8.0, 8), 4.0: (4.0, 4)}, 32.0, 16)
    assert asked == [16.0, 8.0, 4.0] and kept == [16.0, 4.0]


def test_a_search_that_finds_nothing_ends_the_halvings() -> None:
    asked, kept = _run({16.0: (16.0, 8), 4.0: (4.0, 2)}, 32.0, 16)  # nothing at R / 4: no smaller rate helps
    assert asked == [16.0, 8.0] and kept == [16.0]


def test_at_most_five_halvings_down_to_r_over_32() -> None:
    """Answers that keep serving more than a quarter (each over-serves its rate, on fewer devices each time): the
    five searches R / 2 .. R / 32, all kept, and no sixth."""
    table = {16.0: (30.0, 30), 8.0: (20.0, 20), 4.0: (15.0, 15), 2.0: (12.0, 12), 1.0: (10.0, 10), 0.5: (9.0, 9)}
    asked, kept = _run(table, 32.0, 32)
    assert asked == [16.0, 8.0, 4.0, 2.0, 1.0] and kept == asked


def test_fleet_mixs_options_start_from_the_whole_answers_unit_not_its_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole-rate answer of 4 units of R / 4 each is fine already: fleet-mix's `finer_options` searches nothing
    (judged on the unit's capacity, not on the service's rate)."""
    calls: list[float] = []

    def search(*args: Any) -> dict[str, Any]:
        calls.append(args[-1])
        return {"reason": "stub"}

    monkeypatch.setattr(fleet_mix_llm, "llm_option", search)
    whole = {"rate": R, "capacity": R / 4, "unit_devices": 8, "units": 4}
    assert finer_options(None, "h100-sxm", "gpu", "a", None, whole) == [] and calls == []
