"""A band claims a bias only where its campaigns show one (hC57, session 57).

An error band that excludes 0 says the model errs one way: the facility IT-power band was +0.1 % to +2.0 %, the full
range of three residuals of three campaigns, all positive ("measured likely 17.9 to 18.3 MW" with the prediction at
its top). Three same-signed campaigns are what a model without bias gives one time in four: under a median of 0 each
campaign's sign is a fair coin, so all K of one sign has probability 2 x 0.5^K = 2^(1 - K) (25 % at K = 3; the
two-sided exact sign test, Conover, Practical Nonparametric Statistics, 3rd ed. 1999, Sec. 3.4). The rule, for every
band the residuals build (`catalog.error_bands.error_band`'s conformal and full-range tiers and the held-out /
swing bands `band_families` and `band_stack_transfer` build through `_full_range_below_nine`):

* a band that spans 0 is kept as built;
* a band that excludes 0 is kept where the campaigns' signs show the bias: one sign a campaign (its median residual's,
  a campaign's cases sharing its bias; a median of exactly 0 counts for neither side), the two-sided exact sign test
  rejects a median of 0 at `SIGN_TEST_LEVEL` (5 %): from K = 6 campaigns of one sign (p = 3.1 %), or e.g. 8 of 9;
* else its nearer end moves to 0 and the basis says why (`widened_note`).

Widening only: no band narrows, so no coverage falls (the conformal and (K - 1) / (K + 1) claims still hold, now
conservatively). On the stored residuals of 2026-12-05 the one band that excluded 0 was facility IT power
(3 campaigns, p = 0.25): now 0 % to +2.0 %. `ZERO_UNLESS_BIASED = False` restores the bands as built.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

ZERO_UNLESS_BIASED = True  # the rule above; False: every band as its builder gives it
SIGN_TEST_LEVEL = 0.05  # the two-sided sign test's level below which the campaigns' signs show a bias


def campaign_signs(values: Sequence[float], campaigns: Sequence[str]) -> tuple[int, int]:
    """(campaigns whose median residual is above 0, campaigns whose median is below 0)."""
    groups: dict[str, list[float]] = {}
    for value, campaign in zip(values, campaigns, strict=True):
        groups.setdefault(campaign, []).append(float(value))
    medians = [float(np.median(members)) for members in groups.values()]
    return sum(m > 0 for m in medians), sum(m < 0 for m in medians)


def sign_test_p(above: int, below: int) -> float:
    """Two-sided exact sign test of a zero median: P(a split at least as uneven) for n = above + below fair coins."""
    n = above + below
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(above, below) + 1)) / 2.0**n
    return min(1.0, 2.0 * tail)


def spanning_zero(band: tuple[float, float], values: Sequence[float], campaigns: Sequence[str]
                  ) -> tuple[tuple[float, float], str]:
    """`band` under the rule (module docstring) and the note its basis appends ('' where it is kept as built)."""
    low, high = band
    if not ZERO_UNLESS_BIASED or low <= 0.0 <= high:
        return band, ""
    above, below = campaign_signs(values, campaigns)
    p = sign_test_p(above, below)
    if p < SIGN_TEST_LEVEL:
        return band, ""
    return (min(low, 0.0), max(high, 0.0)), widened_note(above, below, p, len(set(campaigns)))


def widened_note(above: int, below: int, p: float, campaigns: int | None = None) -> str:
    """What a widened band's basis says: the campaigns' signs and the test's p. `campaigns`: how many the band has
    (None: `above + below`); those with a median of 0 are counted for neither side and said so (hL57, hH57's leftover:
    "its 4 campaigns" was read where the band had 6, 2 with a median of 0)."""
    signed = above + below
    zero = 0 if campaigns is None else campaigns - signed
    whose = (f"the signs of {signed} of its {campaigns} campaigns" if zero > 0 else f"its {signed} campaigns' signs")
    unsigned = f", the other {zero} with a median of 0 (counted for neither side)" if zero > 0 else ""
    return (f"; widened to 0: {whose} ({above} above 0, {below} below) show no bias{unsigned} "
            f"(two-sided sign test p = {p:.2g}, >= {SIGN_TEST_LEVEL:.0%}: catalog/band_sign.py)")
