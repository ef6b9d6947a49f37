"""The ends of an error band from its campaigns' residuals: the conformal band of a new campaign's residual
(`campaign_band`) and the rule that keeps a band excluding 0 only where its campaigns show that bias
(`spanning_zero`). `catalog.error_bands.error_band` builds every band with both. Merged from band_conformal.py and
band_sign.py unchanged (hM, session 62).

Conformal band (catalog/error_bands.py's docstring states the rule and its sources: one draw per campaign, Dunn,
Wasserman & Ramdas, JASA 118 (2023); split conformal ranks, Vovk, Gammerman & Shafer 2005, Lei et al., JASA 113
(2018); the ends the ranks' expectations over every draw, exact by the Poisson-binomial law). Moved out of
error_bands.py unchanged (hX, session 59: that module was at the 400-line cap).

A band claims a bias only where its campaigns show one (hC57, session 57). An error band that excludes 0 says the
model errs one way: the facility IT-power band was +0.1 % to +2.0 %, the full range of three residuals of three
campaigns, all positive ("measured likely 17.9 to 18.3 MW" with the prediction at its top). Three same-signed
campaigns are what a model without bias gives one time in four: under a median of 0 each campaign's sign is a fair
coin, so all K of one sign has probability 2 x 0.5^K = 2^(1 - K) (25 % at K = 3; the two-sided exact sign test,
Conover, Practical Nonparametric Statistics, 3rd ed. 1999, Sec. 3.4). The rule, for every band the residuals build
(`catalog.error_bands.error_band`'s conformal and full-range tiers and the held-out / swing bands
`catalog.band_transfer` builds through `_full_range_below_nine`):

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

MIN_BAND_CAMPAIGNS = 9  # the fewest campaigns with both conformal ranks of an 80 % two-sided band (docstring)
BAND_TAILS = (0.1, 0.9)  # the band's lower and upper tail probabilities: 80 % between them


def campaign_band(values: Sequence[float], campaigns: Sequence[str]) -> tuple[float, float] | None:
    """The 80 % band of a new campaign's residual (module docstring): the expected k_lo-th and k_hi-th smallest of
    one case drawn at random from each of the K distinct `campaigns`; None when K < MIN_BAND_CAMPAIGNS."""
    groups: dict[str, list[float]] = {}
    for value, campaign in zip(values, campaigns, strict=True):
        groups.setdefault(campaign, []).append(float(value))
    k = len(groups)
    k_lo, k_hi = math.floor(BAND_TAILS[0] * (k + 1)), math.ceil(BAND_TAILS[1] * (k + 1))
    if k_lo < 1 or k_hi > k:
        return None
    # the sorted distinct residuals; return_counts takes np.unique's sort path, whose default path imports numpy.ma
    # (~6 ms of a `train` process: numpy 2.x _unique1d checks np.ma.is_masked first)
    grid = np.unique(np.asarray(values, dtype=float), return_counts=True)[0]
    # count[c, j]: P(exactly c of the K draws are <= grid[j]) (Poisson-binomial, one campaign at a time); c first:
    # each update runs along rows, each element's products and sum as before (hS: same bits, 2 bands 4.3 -> 2.1 ms)
    count = np.zeros((k + 1, grid.size))
    count[0] = 1.0
    for done, members in enumerate(groups.values(), start=2):
        below = np.searchsorted(np.sort(members), grid, side="right") / len(members)  # the campaign's CDF
        above, moved = 1.0 - below, count[:done - 1] * below
        # rows from `done` on are still exactly 0.0 (at most done - 1 draws so far): left so (hE80: ~30 % less time)
        count[1:done] *= above
        count[1:done] += moved
        count[0] *= above
    count = count.T.copy()  # each grid point's counts contiguous: the sums below add in the order they did (bits)
    ends = []
    for rank in (k_lo, k_hi):
        at_most = count[:, rank:].sum(axis=1)  # P(the rank-th smallest draw <= grid[j])
        ends.append(float(np.sum(grid * np.diff(at_most, prepend=0.0))))  # its expectation
    return ends[0], ends[1]


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
            f"(two-sided sign test p = {p:.2g}, >= {SIGN_TEST_LEVEL:.0%}: catalog/band_ends.py)")
