"""Mutation wave 10 (hM10, session 39): `image_capacity`'s search over batch caps and its rate bisection.

The search on a latency curve written by hand in place of the diffusion simulation (`_p99`: p99 image latency at a
rate, and the offline images/s at rate None), so every answer is the module docstring's arithmetic: the rate is
bisected BISECTION_STEPS = 12 times between 1/1000 of the offline throughput (probed, within the SLO) and the
offline throughput for the highest rate whose p99 meets the SLO (p99 <= SLO); the best cap wins, ties to the
smaller; a cap whose lowest rate misses the SLO is skipped, and larger caps are not tried once one does not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

import infraplan.planning.image_capacity as ic
from infraplan.errors import InputError

Curve = Callable[[float], float]


def _capacity(monkeypatch: pytest.MonkeyPatch, curves: Mapping[int, tuple[float, Curve]], slo_s: float,
              asked: list[tuple[float | None, int]] | None = None) -> ic.ImageCapacity | str:
    """`image_capacity` (uncached) on `curves`: batch cap -> (offline images/s, p99 s at a rate); a cap not named
    does not fit memory."""
    def p99(workload: str, model: str | None, system: str, rate: float | None, batch: int) -> tuple[float, float]:
        if asked is not None:
            asked.append((rate, batch))
        if batch not in curves:
            raise InputError(f"batch {batch} does not fit")
        offline, curve = curves[batch]
        return (curve(offline) if rate is None else curve(rate)), offline

    monkeypatch.setattr(ic, "_p99", p99)
    return ic.image_capacity.__wrapped__(ic.DEFAULT_IMAGE_WORKLOAD, None, "stub", slo_s)  # type: ignore[attr-defined]


def _rate(r: float) -> float:
    return r  # p99 seconds = images/s (a latency rising with the rate)


def test_twelve_halvings_land_on_the_grid_below_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline 1 image/s, SLO 0.7 s on p99 = rate: the bisection from [0.001, 1] keeps lo on the grid 0.001 +
    k 0.999 / 2^12 and ends at the highest point <= 0.7: k = floor(0.699 x 4096 / 0.999) = 2865 (11 halvings:
    k = 1432 of 2^11, 0.6995); its p99 is the curve's there."""
    got = _capacity(monkeypatch, {1: (1.0, _rate)}, 0.7)
    assert isinstance(got, ic.ImageCapacity)
    lo = 0.001 + 2865 * 0.999 / 4096
    assert got.images_per_s == pytest.approx(lo, rel=1e-12)
    assert 0.0 < 0.7 - got.images_per_s < 0.999 / 4096
    assert got.p99_latency_s == pytest.approx(lo, rel=1e-12)
    assert (got.max_batch, got.slo_s, got.offline_images_per_s) == (1, 0.7, 1.0)


def test_a_probe_exactly_at_the_slo_meets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """SLO = the first midpoint (0.001 + 1) / 2 = 0.5005 s on p99 = rate: that probe meets it (p99 <= SLO) and
    every later one is above it, so the answer is that rate, at that p99 (not the low end's 0.001 s)."""
    got = _capacity(monkeypatch, {1: (1.0, _rate)}, 0.5005)
    assert isinstance(got, ic.ImageCapacity)
    assert got.images_per_s == 0.5 * (0.001 + 1.0)
    assert got.p99_latency_s == 0.5 * (0.001 + 1.0)


def test_no_probe_within_the_slo_leaves_the_probed_low_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """SLO 0.0011 s on p99 = rate: the low end (0.001 images/s) meets it and every midpoint, the lowest 0.001 +
    0.999 / 4096 = 0.00124, misses it: the capacity is the low end itself, at its p99."""
    got = _capacity(monkeypatch, {1: (1.0, _rate)}, 0.0011)
    assert isinstance(got, ic.ImageCapacity)
    assert (got.images_per_s, got.p99_latency_s) == (0.001, 0.001)


def test_a_low_end_exactly_at_the_slo_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """p99 0.25 s up to 0.001 images/s, more above: at SLO 0.25 s the low end meets it and is the answer; a cap whose
    low end is above the SLO is skipped, the reason given when every cap is."""
    def curve(rate: float) -> float:
        return 0.25 if rate <= 0.001 else 0.25 + rate

    got = _capacity(monkeypatch, {1: (1.0, curve)}, 0.25)
    assert isinstance(got, ic.ImageCapacity)
    assert (got.images_per_s, got.p99_latency_s) == (0.001, 0.25)
    every_cap = {b: (1.0, curve) for b in ic.IMAGE_BATCH_CAPS}
    assert _capacity(monkeypatch, every_cap, 0.2) == "one image takes 0.25 s at p99, beyond the 0.2 s SLO"


def test_equal_caps_tie_to_the_smaller_and_larger_caps_stop_at_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caps 1 and 2 on the same curve reach the same rate: the smaller wins; cap 4 does not fit, so 8-32 are not
    tried."""
    asked: list[tuple[float | None, int]] = []
    got = _capacity(monkeypatch, {1: (1.0, _rate), 2: (1.0, _rate)}, 0.7, asked)
    assert isinstance(got, ic.ImageCapacity)
    assert got.max_batch == 1
    assert got.images_per_s == pytest.approx(0.001 + 2865 * 0.999 / 4096, rel=1e-12)
    assert {b for _, b in asked} == {1, 2, 4}


def test_a_cap_that_can_at_most_tie_is_not_bisected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cap 1 (offline 2 images/s, every rate within the SLO) reaches 2 - 1.998 / 4096; cap 2 saturates at exactly
    that rate: its rate stays below its offline end, so it cannot win and is not bisected (its offline and
    low-end probes only); the answer is cap 1's."""
    def meets(rate: float) -> float:
        return 0.1

    alone = _capacity(monkeypatch, {1: (2.0, meets)}, 1.0)
    assert isinstance(alone, ic.ImageCapacity)
    assert alone.images_per_s == pytest.approx(2.0 - 1.998 / 4096, rel=1e-12)
    asked: list[tuple[float | None, int]] = []
    got = _capacity(monkeypatch, {1: (2.0, meets), 2: (alone.images_per_s, meets)}, 1.0, asked)
    assert got == alone
    assert [rate for rate, b in asked if b == 2] == [None, alone.images_per_s * 1e-3]
