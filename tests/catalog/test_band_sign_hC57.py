"""A band claims a bias only where its campaigns' signs show one (hC57, catalog/band_ends.py).

Before: `facility`'s IT-power band was +0.1 % to +2.0 %, the full range of three positive residuals of three
campaigns, a bias claim a model without bias gives one time in four (sign test p = 0.25). Now its low end is 0 and
its basis says why; a band whose campaigns do show the bias (6 of one sign, p = 3 %) is kept as built, as is every
band that spans 0."""

from __future__ import annotations

import pytest

from infraplan.catalog import band_ends
from infraplan.catalog.band_ends import sign_test_p, spanning_zero
from infraplan.catalog.error_bands import FACILITY_STACK, Residual, band_and_basis, error_band
from infraplan.facility.facility import size_facility


def _r(i: int, value: float, campaign: str, kind: str = "facility", metric: str = "it_power") -> Residual:
    return Residual(id=f"c{i}", family="any", stack=FACILITY_STACK, kind=kind, residual=value, campaign=campaign,
                    metric=metric)


def test_the_sign_test_is_the_exact_two_sided_binomial() -> None:
    assert sign_test_p(3, 0) == pytest.approx(0.25)
    assert sign_test_p(5, 0) == pytest.approx(0.0625)
    assert sign_test_p(6, 0) == pytest.approx(0.03125)
    assert sign_test_p(8, 1) == pytest.approx(2 * 10 / 512)
    assert sign_test_p(2, 2) == 1.0 and sign_test_p(0, 0) == 1.0


def test_the_facility_it_power_band_spans_zero_and_says_why() -> None:
    band, basis = band_and_basis("h100-sxm", FACILITY_STACK, "facility", "it_power")
    assert band is not None
    assert band.low == 0.0 and band.high == pytest.approx(0.02, abs=1e-4)  # was +0.0008 .. +0.0200
    assert "widened to 0: its 3 campaigns' signs (3 above 0, 0 below) show no bias" in basis
    assert "p = 0.25" in basis
    report = size_facility(system="gb200-nvl72")
    assert report.error_band is not None and report.error_band.low == 0.0


def test_a_band_the_signs_do_show_is_kept_and_one_spanning_zero_is_untouched() -> None:
    six = [_r(i, 0.01 * (i + 1), f"k{i}") for i in range(6)]  # six campaigns above 0: p = 3.1 %
    band = error_band("h100-sxm", FACILITY_STACK, "facility", six, "it_power")
    assert band is not None and (band.low, band.high) == pytest.approx((0.01, 0.06))
    assert "widened" not in band.basis
    three = six[:3]
    band = error_band("h100-sxm", FACILITY_STACK, "facility", three, "it_power")
    assert band is not None and (band.low, band.high) == pytest.approx((0.0, 0.03))
    mixed = [_r(0, -0.02, "a"), _r(1, 0.03, "b"), _r(2, 0.01, "c")]
    band = error_band("h100-sxm", FACILITY_STACK, "facility", mixed, "it_power")
    assert band is not None and (band.low, band.high) == pytest.approx((-0.02, 0.03)) and "widened" not in band.basis


def test_one_sign_a_campaign_not_a_case() -> None:
    """Many cases of one campaign are one sign: 40 positive cases of 3 campaigns do not show a bias."""
    rows = [_r(i, 0.01 + 0.001 * i, f"k{i % 3}") for i in range(40)]
    band = error_band("h100-sxm", FACILITY_STACK, "facility", rows, "it_power")
    assert band is not None and band.low == 0.0
    assert spanning_zero((-0.05, -0.01), [-0.05, -0.01, 0.02], ["a", "a", "b"])[0] == (-0.05, 0.0)


def test_the_toggle_off_gives_the_bands_as_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(band_ends, "ZERO_UNLESS_BIASED", False)
    rows = [_r(0, 0.0008, "a"), _r(1, 0.0122, "b"), _r(2, 0.02, "c")]
    band = error_band("h100-sxm", FACILITY_STACK, "facility", rows, "it_power")
    assert band is not None and band.low == pytest.approx(0.0008) and "widened" not in band.basis
