"""hM73's mutation wave on hP73's plan pricing: one frozen cost-override object per inputs (its validation paid
once per pool, not once per count the bound prices)."""

from __future__ import annotations

from infraplan.planning.device_money import cost_overrides


def test_cost_overrides_are_one_object_per_inputs() -> None:
    first = cost_overrides(0.08, 1.2, 30000.0, 5.0, 0.8)
    assert cost_overrides(0.08, 1.2, 30000.0, 5.0, 0.8) is first
    assert first.electricity_usd_per_mwh == 80.0 and first.server_usd_per_accelerator == 30000.0
    unpriced = cost_overrides(0.08, 1.2, 30000.0, 5.0, 0.8, unpriced=True)
    assert unpriced is not first and unpriced.server_usd_per_accelerator == 0.0
