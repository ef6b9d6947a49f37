"""hN59's hand mutants over catalog/band_cases.py (hX59) that no test killed: the median case of `nearest_line` and
the campaigns' order (by name, `cases_used`); and an envelope that listed a campaign twice (`merged`)."""

from __future__ import annotations

from typing import NamedTuple

from infraplan.catalog.answer_bands import parts_band
from infraplan.catalog.band_cases import BandCampaign, BandCase, cases_used, merged, nearest_line
from infraplan.catalog.error_bands import ErrorBand


class _Row(NamedTuple):
    id: str
    residual: float
    group: str


ROWS = [_Row("c5", 0.05, "zeta"), _Row("c1", -0.20, "alpha"), _Row("c9", 0.30, "zeta"), _Row("c3", -0.02, "mid"),
        _Row("c4", 0.01, "alpha")]


def test_the_campaigns_are_by_name_and_the_cases_as_stored() -> None:
    cases, campaigns = cases_used(ROWS)
    assert [c.case for c in cases] == ["c5", "c1", "c9", "c3", "c4"]
    assert [(c.campaign, c.cases, c.residual_min, c.residual_max) for c in campaigns] == [
        ("alpha", 2, -0.20, 0.01), ("mid", 1, -0.02, -0.02), ("zeta", 2, 0.05, 0.30)]


def test_the_line_names_the_lowest_median_and_highest_case() -> None:
    cases, campaigns = cases_used(ROWS)
    band = ErrorBand(low=-0.2, high=0.3, cases=5, basis="b", cases_used=cases, campaigns_used=campaigns)
    assert nearest_line(band.cases_used, band.campaigns_used) == band.cases_line == (
        "cases behind it (lowest, median, highest of 5): -20.0 % (c1), +1.0 % (c4), +30.0 % (c9); every case in "
        "--json error_band.cases_used")
    few = ErrorBand(low=-0.2, high=0.3, cases=1, basis="b", cases_used=(BandCase(case="x", residual=0.1,
                                                                                  campaign="x"),))
    assert nearest_line(few.cases_used, few.campaigns_used).startswith(
        "cases behind it (lowest, median, highest of 1): +10.0 % (x); ")


def test_an_envelope_names_a_campaign_once_where_its_parts_pools_differ() -> None:
    """A serving campaign re-run on two parts' profiles has different rows in each pool: before, the envelope listed
    it twice (H100 + B200 serving: 52 entries, 45 campaigns); now once, its rows counted and ranged together."""
    h100 = BandCampaign(campaign="A", cases=3, residual_min=-0.1, residual_max=0.2)
    b200 = BandCampaign(campaign="A", cases=2, residual_min=-0.3, residual_max=0.1)
    other = BandCampaign(campaign="B", cases=1, residual_min=0.0, residual_max=0.0)
    assert merged([], [h100, other, b200, h100])[1] == (
        BandCampaign(campaign="A", cases=5, residual_min=-0.3, residual_max=0.2), other)
    band, _ = parts_band(["h100-sxm", "b200"], None, "serving", "throughput", "total")
    assert band is not None
    names = [c.campaign for c in band.campaigns_used]
    assert len(names) == len(set(names)) > 0
