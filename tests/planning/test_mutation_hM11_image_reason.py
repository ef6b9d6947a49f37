"""Mutation wave 11 (hM11, session 39): the reason `image_capacity` gives where no batch cap meets the SLO.

On a latency curve written by hand in place of the diffusion simulation (`_offline`, `_p99`, as
tests/planning/test_mutation_hM10_image_capacity.py): where every cap that fits memory misses the SLO at its lowest
probed rate (1/1000 of its offline throughput), the reason names the least of those p99s (the module's "the least
p99 of the caps that fit memory but miss the SLO"), whichever cap it was met at, and a larger cap that does not fit
memory does not replace it.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

import infraplan.planning.image_capacity as ic
from infraplan.errors import InputError


def _reason(monkeypatch: pytest.MonkeyPatch, low_p99_s: Mapping[int, float], slo_s: float) -> ic.ImageCapacity | str:
    """`image_capacity` (uncached) where cap b's p99 is `low_p99_s[b]` at any rate (offline 1 image/s); a cap not
    named does not fit memory (`_offline` raises, as the diffusion run's memory check)."""
    def offline(workload: str, model: str | None, system: str, batch: int) -> float:
        if batch not in low_p99_s:
            raise InputError(f"batch {batch} does not fit")
        return 1.0

    def p99(workload: str, model: str | None, system: str, rate: float, batch: int, images: int) -> float:
        return low_p99_s[batch]

    monkeypatch.setattr(ic, "_offline", offline)
    monkeypatch.setattr(ic, "_p99", p99)
    return ic._device_capacity.__wrapped__(ic.DEFAULT_IMAGE_WORKLOAD, None, "stub", slo_s)  # type: ignore[attr-defined]


def test_the_reason_names_the_least_p99_not_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """Caps 1, 2, 4 fit memory with p99s 0.5, 0.3, 0.4 s against a 0.1 s SLO, cap 8 does not fit: the lightest is
    cap 2's 0.3 s (not cap 4's 0.4 s, the last met, nor cap 1's 0.5 s, the most)."""
    why = _reason(monkeypatch, {1: 0.5, 2: 0.3, 4: 0.4}, 0.1)
    assert why == "one image takes 0.3 s at p99, beyond the 0.1 s SLO"


def test_a_falling_p99_names_the_last_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """p99s 0.5, 0.4, 0.2 s on caps 1, 2, 4 (all 6 caps tried: 8 and up do not fit): the least is the last, 0.2 s."""
    why = _reason(monkeypatch, {1: 0.5, 2: 0.4, 4: 0.2}, 0.1)
    assert why == "one image takes 0.2 s at p99, beyond the 0.1 s SLO"


def test_no_cap_in_memory_gives_the_memory_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cap fits: the first cap's memory line is the reason."""
    assert _reason(monkeypatch, {}, 0.1) == "batch 1 does not fit"
