"""`facility --accelerator SYSTEM --count N` at exactly the system's size is the system (hI73 mutant of
`Cluster.for_count`: `count > total` flipped to `>=` passed hC72's tests, which ask for part of a system or more than
it holds). A system holds its own total: the count takes its own tiers, the switches `facility --system` prices."""

from __future__ import annotations

import pytest

from infraplan.catalog import load_system
from infraplan.cluster import Cluster
from infraplan.facility.facility import size_facility


@pytest.mark.parametrize("system", ["dgx-a100-superpod", "dgx-h100-superpod"])
def test_a_count_of_the_whole_system_is_the_system(system: str) -> None:
    total = load_system(system).total_accelerators
    cluster = Cluster.for_count(system, total)
    assert not cluster.generic and cluster.name == system
    whole, counted = size_facility(system=system), size_facility(accelerator=system, count=total)
    assert counted.system == system
    assert counted.network.switches == whole.network.switches
    assert counted.power_breakdown_w["network"] == pytest.approx(whole.power_breakdown_w["network"], rel=1e-12)
