"""Mutation wave hM25 (session 47) on `planning.fleet_mix_llm.finer_units`: a unit that serves a quarter of the rate
is fine (module docstring: FINE_UNITS = 4) whatever the last bits of its capacity, a float summed from replicas'
rates (0.1 + 0.1 + 0.1 requests/s is 0.30000000000000004): no halving is searched for a rounding."""

from __future__ import annotations

from infraplan.planning.fleet_mix_llm import FINE_UNITS, finer_units


def test_a_quarter_of_the_rate_to_its_last_bits_is_fine() -> None:
    rate = 3.0
    capacity = (0.1 + 0.1 + 0.1) * 2.5  # 0.75 requests/s, a quarter of 3, summed in floats: 0.7500000000000001
    assert capacity != rate / FINE_UNITS and abs(capacity / (rate / FINE_UNITS) - 1) < 1e-15
    asked: list[float] = []

    def at(r: float) -> tuple[float, int, float]:
        asked.append(r)
        return r, int(4 * r), r  # a unit of 4 devices per request/s

    assert finer_units(rate, capacity, 8, at) == [] and asked == []
    # a unit serving a third (clearly more than a quarter) is refined: the halving at R / 2 is searched
    assert finer_units(rate, 1.0, 8, at) == [1.5, 0.75] and asked == [1.5, 0.75]  # 6 then 3 devices
