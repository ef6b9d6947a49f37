"""Edges of `catalog.band_transfer` (hL, session 52: hand mutation testing). Each test failed on a mutant the
module's own tests let live (checked by flipping the line and running this file): the swing below the conformal
campaigns taken as the smallest factor, not the largest; the basis calling 8 campaigns' swing "conformal"; and an
answer of a kind that runs on no stack (facility, network) treated as on an unvalidated stack."""

from __future__ import annotations

import math

import numpy as np

from infraplan.catalog.band_transfer import settings_swing, stack_unvalidated
from infraplan.catalog.error_bands import Residual, campaign_band, error_band


def _rows(campaigns: int, factors: list[float]) -> list[Residual]:
    own = [Residual(id=f"m{i}", family="hopper", stack="megatron", kind="training", residual=float(r),
                    campaign=f"paper {i}") for i, r in enumerate(np.linspace(-0.1, 0.3, campaigns))]
    return own + [r.model_copy(update={"residual": (1.0 + r.residual) * f - 1.0, "settings": "default"})
                  for r, f in zip(own, factors, strict=True)]


def test_below_the_conformal_campaigns_the_swing_is_the_largest_factor() -> None:
    factors = [1.0, 1.3, 0.9]
    rows = _rows(3, factors)
    swing = settings_swing(rows, "training", rows[0].metric, campaign_band)
    assert swing is not None
    assert swing[0] == max(abs(math.log(f)) for f in factors) and swing[1:] == (3, 3)


def test_eight_campaigns_are_called_the_largest_not_conformal() -> None:
    rows = tuple(_rows(8, [1.0, 1.05, 0.9, 1.2, 1.0, 0.8, 1.1, 1.3]))
    band = error_band("h100-sxm", "torchtitan", "training", rows)
    assert band is not None and "largest, fewer than 9 campaigns" in band.basis
    assert f"widened by the factor {1.3:.3f}" in band.basis  # |ln 1.3| > |ln 0.8|


def test_a_kind_that_runs_on_no_stack_is_never_unvalidated() -> None:
    pool = _rows(3, [1.0, 1.0, 1.0])
    assert stack_unvalidated(pool, "deepspeed", "training")
    assert not stack_unvalidated(pool, "megatron", "training")
    assert not stack_unvalidated(pool, "deepspeed", "facility") and not stack_unvalidated(pool, "deepspeed", "network")
    assert not stack_unvalidated([], "deepspeed", "training")  # no cases: nothing to say
