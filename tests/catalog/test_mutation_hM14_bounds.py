"""Mutation wave 14 (session 41): the hardware files' physical upper bounds (hV41, `infraplan.limits`).

The bounds as the README states them (1 PiB = 2^50 B of memory, 1 MW of power on any device) hold at the bound
itself and refuse anything above it, not only figures orders of magnitude past it (the CLI tests try 1e30).
"""

from __future__ import annotations

import pydantic
import pytest

from infraplan.catalog.loader import load_accelerator, load_system
from infraplan.catalog.schemas import Accelerator, Node


def _accelerator(**figures: float) -> Accelerator:
    return Accelerator.model_validate(load_accelerator("h100-sxm").model_dump() | figures)


def test_memory_at_one_pib_loads_and_half_again_is_refused() -> None:
    assert _accelerator(memory_bytes=2.0**50).memory_bytes == 2.0**50
    with pytest.raises(pydantic.ValidationError, match="above the 1 PiB bound"):
        _accelerator(memory_bytes=1.5 * 2.0**50)


def test_power_just_over_one_megawatt_is_refused() -> None:
    assert _accelerator(tdp_w=1e6).tdp_w == 1e6
    with pytest.raises(pydantic.ValidationError, match="above the 1 MW bound"):
        _accelerator(tdp_w=1.2e6)


def test_a_nodes_host_power_has_the_same_bound() -> None:
    """The node's host watts (CPUs, NICs, fans) are a device figure as well: 1.5 MW of host is a typo."""
    node = load_system("dgx-h100-superpod").node.model_dump()
    assert Node.model_validate(node | {"host_power_w": 1e6}).host_power_w == 1e6
    with pytest.raises(pydantic.ValidationError, match="above the 1 MW bound"):
        Node.model_validate(node | {"host_power_w": 1.5e6})
