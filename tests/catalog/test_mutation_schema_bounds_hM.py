"""Mutation spot-checks, third wave (hM, session 34): catalog schema bounds no test exercised at their edge.

Each test fails on a one-line mutant of catalog/schemas.py (`KernelEfficiency`: catalog/kernel_fits.py since session
58; validation/notes/test_suite_cost_tried.md, "hM (session 34)"). The bounds are definitions: an efficiency is a
share of a datasheet figure (0 < f <= 1), and a tier's oversubscription is bandwidth into a domain over bandwidth
leaving it (>= 1; below 1 is more uplink than downlink, which the fabric model reads as 1:1)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from infraplan.catalog import load_accelerator
from infraplan.catalog.kernel_fits import KernelEfficiency
from infraplan.catalog.schemas import NetworkTier


def _efficiency(**change: object) -> dict[str, object]:
    data = load_accelerator("h100-sxm").efficiency.model_dump()
    data.update(change)
    return data


@pytest.mark.parametrize("fraction", [1.0, 0.88])
def test_a_fraction_of_the_datasheet_up_to_one_is_accepted(fraction: float) -> None:
    assert KernelEfficiency(**_efficiency(memory_bandwidth_fraction=fraction)).memory_bandwidth_fraction == fraction


@pytest.mark.parametrize("fraction", [1.2, 0.0])
def test_a_fraction_above_the_datasheet_or_zero_is_refused(fraction: float) -> None:
    """Mutant E08 allowed fractions up to 2 (a kernel at 1.2x the HBM datasheet bandwidth)."""
    with pytest.raises(ValidationError):
        KernelEfficiency(**_efficiency(memory_bandwidth_fraction=fraction))


def test_oversubscription_below_one_is_refused() -> None:
    """Mutant E09 accepted 0.5 (twice the uplink of the downlink)."""
    assert NetworkTier(name="leaf", group_size=32, oversubscription=1.0).oversubscription == 1.0
    with pytest.raises(ValidationError):
        NetworkTier(name="leaf", group_size=32, oversubscription=0.5)
