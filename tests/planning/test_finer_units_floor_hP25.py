"""`fleet_mix_llm.finer_units` searches no halving below a unit of one device (hP25, session 46).

The rule keeps a halving's answer only where its unit holds fewer devices than every coarser option's; no unit holds
fewer than one device, so once the coarsest unit is one device no halving can be kept and the searches below it were
wasted (the benchmark's Llama 3 8B services on H100, H200 and B200: 30 of `plan`'s 38 serve-plan searches). The
options must be the rule's without the shortcut: checked against that rule written out here (the loop of 8be0dcc)
on stub answers drawn with a fixed seed, and on real searches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pytest

from infraplan.planning import fleet_mix_llm, scenario_sizing
from infraplan.planning.fleet_mix_llm import FINE_UNITS, FINER_HALVINGS, finer_options, finer_units
from infraplan.planning.scenario_sizing import Sized, size_options
from infraplan.planning.scenario_spec import ScenarioSpec

R = 32.0


def _unfloored(rate: float, capacity: float, unit_devices: int,
               option_at: Callable[[float], tuple[float, int, Any] | None]) -> list[Any]:
    """The rule as 8be0dcc ran it: every halving while the last kept unit serves more than rate / FINE_UNITS."""
    out: list[Any] = []
    last, coarsest = capacity, unit_devices
    for k in range(1, FINER_HALVINGS + 1):
        if last <= rate / FINE_UNITS * (1 + 1e-9):
            break
        got = option_at(rate / 2**k)
        if got is None:
            break
        if got[1] < coarsest:
            last, coarsest = got[0], got[1]
            out.append(got[2])
    return out


def _stub(table: Mapping[float, tuple[float, int] | None], asked: list[float]) -> Callable[[float], Any]:
    def at(rate: float) -> tuple[float, int, float] | None:
        asked.append(rate)
        got = table.get(rate)
        return None if got is None else (got[0], got[1], rate)
    return at


def test_a_one_device_unit_searches_no_halving() -> None:
    """A whole-rate answer of one 1-device replica serving all 32: the rule searched R / 2 .. R / 32 (every answer a
    1-device unit, none kept); now none is searched, and the options are the same (none)."""
    table = {R / 2**k: (R / 2**k, 1) for k in range(1, 6)}
    asked_before: list[float] = []
    assert _unfloored(R, R, 1, _stub(table, asked_before)) == []
    assert asked_before == [R / 2**k for k in range(1, 6)]
    asked: list[float] = []
    assert finer_units(R, R, 1, _stub(table, asked)) == [] and asked == []


def test_halvings_stop_once_a_kept_unit_is_one_device() -> None:
    """32 on a 4-device unit; 16 on 2, then 8 on 1 (kept, still serving more than 32 / 4): nothing below 8 asked."""
    table = {16.0: (16.0, 2), 8.0: (10.0, 1), 4.0: (4.0, 1), 2.0: (2.0, 1), 1.0: (1.0, 1)}
    asked: list[float] = []
    kept = finer_units(R, R, 4, _stub(table, asked))
    assert kept == [16.0, 8.0] and asked == [16.0, 8.0]
    assert _unfloored(R, R, 4, _stub(table, [])) == kept


def test_the_options_are_the_unfloored_rules_on_drawn_answers() -> None:
    """2,000 stub searches (seed 25): each halving's answer drawn (nothing, or a capacity and a unit of 1-8 devices),
    the whole-rate unit 1-8 devices: the options equal the unfloored rule's, never with more searches, and fewer
    exactly where a one-device unit was reached while the rule still asked."""
    rng = np.random.default_rng(25)
    fewer = 0
    for _ in range(2000):
        table: dict[float, tuple[float, int] | None] = {}
        for k in range(1, FINER_HALVINGS + 1):
            rate = R / 2**k
            table[rate] = None if rng.random() < 0.1 else (float(rate * rng.uniform(0.5, 3.0)),
                                                            int(rng.integers(1, 9)))
        capacity, devices = float(R * rng.uniform(0.1, 1.0)), int(rng.integers(1, 9))
        asked_before: list[float] = []
        asked: list[float] = []
        before = _unfloored(R, capacity, devices, _stub(table, asked_before))
        assert finer_units(R, capacity, devices, _stub(table, asked)) == before
        assert asked == asked_before[:len(asked)]
        fewer += len(asked) < len(asked_before)
    assert fewer > 100  # the shortcut was exercised


def test_fleet_mix_searches_no_halving_of_a_one_device_unit(monkeypatch: pytest.MonkeyPatch) -> None:
    """fleet-mix's `finer_options` on a whole-rate answer of one 1-device replica: no `llm_option` search."""
    calls: list[Any] = []
    monkeypatch.setattr(fleet_mix_llm, "llm_option", lambda *args: calls.append(args) or {"reason": "stub"})
    whole = {"rate": R, "capacity": R, "unit_devices": 1, "units": 1}
    assert finer_options(None, "h100-sxm", "gpu", "a", None, whole) == [] and calls == []


@pytest.mark.slow
def test_plan_sizes_the_benchmarks_chat_on_h100_with_one_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Llama 3 8B chat at 20 requests/s on H100 (benchmarks/scenario_plan.py's `chat`): serve-plan answers one 1-GPU
    replica, so `plan` runs that one search (was 6: 20, 10, ... 0.625, every answer one GPU), with the same options
    as the unfloored rule over the real searches."""
    spec = ScenarioSpec.model_validate({
        "name": "one", "phases": [{"name": "p1", "year": 2025}],
        "services": [{"name": "chat", "kind": "llm", "model": "llama3-8b", "workload": "chat", "rate": 20}],
        "pools": [{"name": "h100", "device": "h100-sxm", "site": "s"}], "sites": [{"name": "s", "power": "10MW"}]})
    svc, pool = spec.services[0], spec.pools[0]
    searched: list[float] = []
    real = scenario_sizing.serve_plan_search

    def counted(*args: Any) -> Any:
        searched.append(args[2])
        return real(*args)

    monkeypatch.setattr(scenario_sizing, "serve_plan_search", counted)
    got = size_options(svc, pool, 20.0)
    assert searched == [20.0] and isinstance(got, list) and len(got) == 1 and got[0].unit_devices == 1

    def at(rate: float) -> tuple[float, int, Sized] | None:
        finer = scenario_sizing.size(svc, pool, rate)
        return None if isinstance(finer, str) else (finer.capacity, finer.unit_devices, finer)

    searched.clear()
    assert _unfloored(20.0, got[0].capacity, got[0].unit_devices, at) == []
    assert searched == [20.0 / 2**k for k in range(1, FINER_HALVINGS + 1)]  # the five the rule wasted
