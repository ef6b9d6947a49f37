"""Capex annuities are the capital recovery factor (hH mutation spot-check, session 33).

`cluster.cost.annuity_factor`: r / (1 - (1 + r)^-n), the (A/P, i, n) factor of any engineering-economics text
(e.g. Newnan et al., "Engineering Economic Analysis"): 0.25046 at 8 % over 5 years, 0.12950 at 5 % over 10,
1 + r over one year. An annuity over n + 1 years survived the existing check (above straight line at r > 0).
"""

from __future__ import annotations

import pytest

from infraplan.cluster.cost import annuity_factor


@pytest.mark.parametrize(("rate", "years", "factor"), [(0.08, 5.0, 0.250456), (0.05, 10.0, 0.129505),
                                                        (0.10, 1.0, 1.10)])
def test_annuity_is_the_capital_recovery_factor(rate: float, years: float, factor: float) -> None:
    assert annuity_factor(rate, years) == pytest.approx(factor, abs=1e-6)
