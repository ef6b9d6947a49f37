"""Hand mutants over the older core (hE, session 57): the cost model's per-asset lives.

Each test fails on a one-line mutant that the mirrored tests let through (validation/notes/product_review_tried.md,
"hE (session 57)") and asserts a definition, not the current output."""

from __future__ import annotations

import pytest

from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility


def test_each_asset_class_is_annualised_over_its_own_overridden_life() -> None:
    """cluster/cost.py: capex by asset class, each straight-line over its own life at cost_of_capital 0 (1 / years,
    `annuity_factor`); a --costs file sets each life by its own key. With servers 4, network 8, facility 20 years the
    three charges are capex / 4, / 8 and / 20. Mutant F4 (hE57): the network's life read from `server_life_years`
    (the catalog's two lives are both 5.5 years, so only an override tells them apart)."""
    over = CostOverrides(server_life_years=4.0, network_life_years=8.0, facility_life_years=20.0)
    report = size_facility(accelerator="h100-sxm", count=64, overrides=over)
    assert report.assumptions.lives_years == {"servers": 4.0, "network": 8.0, "facility": 20.0}
    capex, annual = report.capex_usd, report.annualized_capex_usd_per_year
    assert capex is not None and annual is not None and capex["network"] > 0
    for asset, years in (("servers", 4.0), ("network", 8.0), ("facility", 20.0)):
        assert annual[asset] == pytest.approx(capex[asset] / years, rel=1e-12)
