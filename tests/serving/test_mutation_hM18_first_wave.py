"""Mutation wave 2 (hM18, session 43) on `serving.client_loop.first_wave`: the edges the landed tests let through.

Request k < clients of the wave reaches the engine at max(its given arrival, request k - 1's + d), d the spacing:
worked by hand below."""

from __future__ import annotations

import math

import numpy as np
import pytest

from infraplan.serving.client_loop import first_wave


def test_two_clients_are_spaced_too() -> None:
    """Two clients at t = 0: the second is sent d after the first; the third request (the loop's) is left as given."""
    assert np.allclose(first_wave(np.zeros(3), 2, 1e-3), [0.0, 1e-3, 0.0], rtol=0.0, atol=0.0)
    assert np.allclose(first_wave(np.zeros(2), 5, 1e-3), [0.0, 1e-3], rtol=0.0, atol=0.0)  # fewer requests


@pytest.mark.parametrize("spacing", [math.inf, math.nan, -1.0])
def test_a_spacing_that_is_not_a_finite_time_is_refused(spacing: float) -> None:
    """An infinite spacing would send every request but the first at t = inf (and 0 x inf = nan for the first)."""
    with pytest.raises(ValueError, match="finite time >= 0"):
        first_wave(np.zeros(4), 4, spacing)
