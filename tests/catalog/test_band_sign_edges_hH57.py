"""Edges of hC57's sign rule (catalog/band_ends.py) its own tests did not pin (hH57's hand mutants):

* a campaign whose median residual is exactly 0 counts for neither side (the module docstring): counted as above, two
  exact-zero campaigns and four positive ones would read as 6 of one sign (p = 3.1 %) and keep a band that excludes
  0, where 4 of one sign (p = 12.5 %) show no bias. (Mutant: `m >= 0`.)
* the held-out / swing bands go through the rule too (`error_bands._full_range_below_nine`, what
  `band_transfer.family_transfer` and `band_transfer` build their bands with): three positive campaigns' full
  range widens to 0 there as in `error_band`. (Mutant: the helper's band as built.)
"""

from __future__ import annotations

import pytest

from infraplan.catalog.band_ends import campaign_signs, sign_test_p, spanning_zero
from infraplan.catalog.error_bands import _full_range_below_nine


def test_a_zero_median_campaign_counts_for_neither_side() -> None:
    values = [0.0, 0.0, 0.01, 0.02, 0.03, 0.04]
    campaigns = ["z1", "z2", "a", "b", "c", "d"]
    assert campaign_signs(values, campaigns) == (4, 0)
    assert sign_test_p(4, 0) == pytest.approx(0.125)
    band, note = spanning_zero((0.01, 0.04), values, campaigns)
    assert band == (0.0, 0.04) and "(4 above 0, 0 below)" in note
    assert campaign_signs([-0.01, 0.01], ["a", "a"]) == (0, 0)  # one campaign's median 0 (two cases either side)


def test_the_held_out_and_swing_bands_follow_the_rule() -> None:
    assert _full_range_below_nine([0.01, 0.02, 0.03], ["a", "b", "c"]) == (0.0, 0.03)
    assert _full_range_below_nine([-0.01, 0.02, 0.03], ["a", "b", "c"]) == (-0.01, 0.03)  # spans 0: as built
    assert _full_range_below_nine([0.01, 0.02], ["a", "a"]) is None  # one campaign: no band
