"""Mutation wave 10 (hM10, session 39): `image_capacity`'s search over batch caps and its rate bisection; rewritten
(hI44, session 43) for the steady-state search: probes of `probe_images(rho)` images, the bisection on
x = -ln(1 - rho) between LOW_END and `top_utilisation()`, stopped within RATE_TOLERANCE of its top.

The search on a latency curve written by hand in place of the diffusion simulation (`_offline`: the offline images/s
of a cap; `_p99`: p99 image latency at a rate), so every answer is the module docstring's arithmetic: the best cap
wins, ties to the smaller; a cap whose lowest rate misses the SLO is skipped, and larger caps are not tried once one
does not fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import pytest

import infraplan.planning.image_capacity as ic
from infraplan.errors import InputError

Curve = Callable[[float], float]
Asked = list[tuple[float, int, int]]  # (rate, batch cap, probe images)


def _capacity(monkeypatch: pytest.MonkeyPatch, curves: Mapping[int, tuple[float, Curve]], slo_s: float,
              asked: Asked | None = None) -> ic.ImageCapacity | str:
    """`image_capacity` (uncached) on `curves`: batch cap -> (offline images/s, p99 s at a rate); a cap not named
    does not fit memory."""
    def offline(workload: str, model: str | None, system: str, batch: int) -> float:
        if batch not in curves:
            raise InputError(f"batch {batch} does not fit")
        return curves[batch][0]

    def p99(workload: str, model: str | None, system: str, rate: float, batch: int, images: int) -> float:
        if asked is not None:
            asked.append((rate, batch, images))
        return curves[batch][1](rate)

    monkeypatch.setattr(ic, "_offline", offline)
    monkeypatch.setattr(ic, "_p99", p99)
    return ic._device_capacity.__wrapped__(ic.DEFAULT_IMAGE_WORKLOAD, None, "h100-sxm", slo_s)  # type: ignore[attr-defined]


def _step(threshold: float) -> Curve:
    """p99 0.1 s up to `threshold` images/s, 10 s above."""
    return lambda r: 0.1 if r <= threshold else 10.0


def test_the_top_is_where_the_longest_probe_ends() -> None:
    """60 x rho^2 / (1 - rho)^2 = 200,000 at rho = 1 / (1 + sqrt(60 / 200,000)) = 0.982974 (Poisson); a burstier
    stream (c_a^2 = 4) relaxes 4 x slower: 1 / (1 + 2 sqrt(3e-4)) = 0.966519."""
    assert ic.top_utilisation() == pytest.approx(0.982974, abs=1e-6)
    assert ic.top_utilisation(4.0) == pytest.approx(0.966519, abs=1e-6)
    top = ic.top_utilisation()
    assert ic.probe_images(top, 16) is not None and ic.probe_images(top + 1e-6, 16) is None


def test_probe_length_grows_as_the_relaxation_time() -> None:
    """rho 0.97: 60 x 0.9409 / 0.0009 = 62,726.7 -> 62,727 images; 0.95: 60 x 0.9025 / 0.0025 = 21,660; 0.9:
    4,860, below the floor of 10,000 (and 4 x the batch cap above it: 4 x 4,096 = 16,384); burstier arrivals
    (c_a^2 = 4) relax 4 x slower: 0.9 -> 19,440."""
    assert ic.probe_images(0.97, 16) == 62727
    assert ic.probe_images(0.95, 16) == pytest.approx(21660, abs=1)  # (rounded up: float error may add one)
    assert ic.probe_images(0.9, 16) == 10000
    assert ic.probe_images(0.9, 4096) == 16384
    assert ic.probe_images(0.9, 16, 4.0) == pytest.approx(19440, abs=1)
    assert ic.probe_images(1.0, 16) is None


def test_the_answer_is_within_the_tolerance_below_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Offline 1 image/s, the SLO met up to 0.5 images/s: the answer met it (<= 0.5) and the bracket it stops on
    is within RATE_TOLERANCE of its top, which missed (> 0.5): answer > 0.5 (1 - 0.005). Each probe sends
    `probe_images` of its utilisation."""
    asked: Asked = []
    got = _capacity(monkeypatch, {1: (1.0, _step(0.5))}, 1.0, asked)
    assert isinstance(got, ic.ImageCapacity)
    assert 0.5 * (1 - ic.RATE_TOLERANCE) < got.images_per_s <= 0.5
    assert got.p99_latency_s == 0.1 and (got.max_batch, got.slo_s, got.offline_images_per_s) == (1, 1.0, 1.0)
    assert asked[0] == (1e-3, 1, ic.LOW_END_IMAGES)  # the low end: a lone image's latency
    assert all(n == ic.probe_images(rate, 1) for rate, _, n in asked[1:])
    assert got.probe_images == ic.probe_images(got.images_per_s, 1)


def test_the_first_probe_halves_minus_log_of_the_idle_share(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the low end (1/1000 of offline), the first probe is at -ln(1 - rho) halfway between the low end's and
    the top's: rho = 1 - sqrt(0.999 x (1 - top))."""
    asked: Asked = []
    _capacity(monkeypatch, {1: (2.0, _step(1.0))}, 1.0, asked)
    assert asked[0][0] == pytest.approx(2.0 * 1e-3, rel=1e-12)
    assert asked[1][0] == pytest.approx(2.0 * (1 - math.sqrt(0.999 * (1 - ic.top_utilisation()))), rel=1e-12)


def test_every_rate_within_the_slo_stops_at_the_top(monkeypatch: pytest.MonkeyPatch) -> None:
    """A curve that always meets the SLO: no rate above the top utilisation is probed or answered (its steady
    state would need more than MAX_PROBE_IMAGES), and the answer is within the tolerance below it."""
    asked: Asked = []
    got = _capacity(monkeypatch, {1: (1.0, lambda r: 0.1)}, 1.0, asked)
    assert isinstance(got, ic.ImageCapacity)
    top = ic.top_utilisation()
    assert top * (1 - ic.RATE_TOLERANCE) < got.images_per_s < top
    assert max(rate for rate, _, _ in asked) < top
    assert max(n for _, _, n in asked) <= ic.MAX_PROBE_IMAGES


def test_a_low_end_exactly_at_the_slo_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    """p99 0.25 s up to 0.001 images/s, more above: at SLO 0.25 s the low end meets it and is the answer; a cap whose
    low end is above the SLO is skipped, the reason given when every cap is."""
    def curve(rate: float) -> float:
        return 0.25 if rate <= 0.001 else 0.25 + rate

    got = _capacity(monkeypatch, {1: (1.0, curve)}, 0.25)
    assert isinstance(got, ic.ImageCapacity)
    assert (got.images_per_s, got.p99_latency_s, got.probe_images) == (0.001, 0.25, ic.LOW_END_IMAGES)
    every_cap = {b: (1.0, curve) for b in ic.IMAGE_BATCH_CAPS}
    assert _capacity(monkeypatch, every_cap, 0.2) == "one image takes 0.25 s at p99, beyond the 0.2 s SLO"


def test_a_probe_exactly_at_the_slo_meets_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """p99 = the SLO exactly at every rate up to 0.5 images/s: those probes meet it (p99 <= SLO)."""
    got = _capacity(monkeypatch, {1: (1.0, lambda r: 0.7 if r <= 0.5 else 0.8)}, 0.7)
    assert isinstance(got, ic.ImageCapacity)
    assert 0.5 * (1 - ic.RATE_TOLERANCE) < got.images_per_s <= 0.5 and got.p99_latency_s == 0.7


def test_equal_caps_tie_to_the_smaller_and_larger_caps_stop_at_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caps 1 and 2 on the same curve reach the same rate: the smaller wins; cap 4 does not fit, so 8-32 are not
    tried."""
    asked: Asked = []
    got = _capacity(monkeypatch, {1: (1.0, _step(0.7)), 2: (1.0, _step(0.7))}, 1.0, asked)
    assert isinstance(got, ic.ImageCapacity)
    assert got.max_batch == 1
    assert {b for _, b, _ in asked} == {1, 2}


def test_the_larger_offline_rate_wins_where_both_meet(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cap 2 saturates higher (2 images/s vs 1) on the same latency curve of rho: cap 2's rate is twice cap 1's."""
    got = _capacity(monkeypatch, {1: (1.0, _step(0.6)), 2: (2.0, _step(1.2))}, 1.0)
    assert isinstance(got, ic.ImageCapacity)
    assert got.max_batch == 2 and 1.2 * (1 - ic.RATE_TOLERANCE) < got.images_per_s <= 1.2


def test_a_cap_that_can_at_most_tie_is_not_bisected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cap 1 (offline 2 images/s, every rate within the SLO) reaches just below 2 x top; cap 2, whose top is at or
    below that rate, cannot win and is not bisected (its low-end probe only); the answer is cap 1's."""
    alone = _capacity(monkeypatch, {1: (2.0, lambda r: 0.1)}, 1.0)
    assert isinstance(alone, ic.ImageCapacity)
    asked: Asked = []
    got = _capacity(monkeypatch, {1: (2.0, lambda r: 0.1), 2: (alone.images_per_s, lambda r: 0.1)}, 1.0, asked)
    assert got == alone
    assert [rate for rate, b, _ in asked if b == 2] == [alone.images_per_s * 1e-3]
