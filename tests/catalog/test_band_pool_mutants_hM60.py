"""Mutants of hF60's band lines and pooled counts (`band_cases.with_cases_line`, `pool_cases`, `error_bands.envelope`;
hM, session 60): a band given its line keeps it; a composite of a listed pool and a pool too large to list counts
both; parts of one range but different pools are named as parts, not as the first one alone."""

from __future__ import annotations

from typing import NamedTuple

from infraplan.catalog.answer_bands import envelope
from infraplan.catalog.band_cases import BandCampaign, cases_used
from infraplan.catalog.error_bands import ErrorBand


class _Row(NamedTuple):
    id: str
    residual: float
    group: str


def _band(rows: list[_Row], basis: str) -> ErrorBand:
    cases, campaigns = cases_used(rows)
    values = [r.residual for r in rows]
    return ErrorBand(low=min(values), high=max(values), cases=len(rows), basis=basis, cases_used=cases,
                     campaigns_used=campaigns)


def test_a_band_given_its_line_keeps_it() -> None:
    band = _band([_Row("c1", -0.1, "x"), _Row("c2", 0.2, "y")], "b")
    given = {**band.model_dump(), "cases_line": "cases behind it: as the answer said"}
    assert ErrorBand.model_validate(given).cases_line == "cases behind it: as the answer said"
    assert ErrorBand(low=0.0, high=0.1, cases=2, basis="b", cases_used=band.cases_used,
                     cases_line="").cases_line == ""  # given empty: kept empty
    assert band.cases_line  # (built without one: its pool's)


def test_a_listed_pool_and_an_unlisted_one_count_both() -> None:
    listed = _band([_Row("c1", -0.1, "x"), _Row("c2", 0.2, "y")], "listed")
    unlisted = ErrorBand(low=-0.2, high=0.3, cases=50, basis="campaigns",
                         campaigns_used=(BandCampaign(campaign="p", cases=30, residual_min=-0.2, residual_max=0.1),
                                         BandCampaign(campaign="q", cases=20, residual_min=0.0, residual_max=0.3)))
    both = envelope([listed, unlisted], "total")
    assert both is not None and both.cases == 52  # 2 listed + 50 of campaigns p and q
    assert "52 cases of 4 campaigns in all (the parts': 2, 50)" in both.basis


def test_parts_of_one_range_and_different_pools_are_named_as_parts() -> None:
    wide = _band([_Row("c1", -0.1, "x"), _Row("c2", 0.05, "y"), _Row("c3", 0.2, "y")], "wide's")
    narrow = _band([_Row("c1", -0.1, "x"), _Row("c3", 0.2, "y")], "narrow's")
    both = envelope([wide, narrow], "total")
    assert both is not None and (both.low, both.high, both.cases) == (-0.1, 0.2, 3)
    assert both.basis != "total: wide's" and "(the parts': 3, 2)" in both.basis


def test_parts_of_one_range_and_count_but_other_cases_are_named_as_parts() -> None:
    a = _band([_Row("c1", -0.1, "x"), _Row("c2", 0.2, "y")], "a's")
    b = _band([_Row("c1", -0.1, "x"), _Row("c3", 0.2, "y")], "b's")
    both = envelope([a, b], "total")
    assert both is not None and both.cases == 3 and both.basis != "total: a's"
    assert "3 cases of 2 campaigns in all (the parts': 2, 2)" in both.basis
