"""Mutation spot-checks, third wave (hM, session 34): cost-file bounds and money sums (cluster/cost.py).

Each test fails on a one-line mutant (validation/notes/test_suite_cost_tried.md, "hM (session 34)") and asserts
a definition or a hand count, not the current output."""

from __future__ import annotations

import pytest

from infraplan.cluster.cost import CostOverrides
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility


@pytest.mark.parametrize("field, value", [("pue", 0.9), ("load_factor", 1.5)])
def test_a_cost_file_may_not_say_what_a_flag_may_not(field: str, value: float) -> None:
    """PUE = facility energy / IT energy >= 1 (The Green Grid, WP#49); a load factor is a share of the peak,
    <= 1 (cost.py: the CLI's bounds). Mutants E10 (PUE from 0) and E11 (load factor to 2)."""
    assert getattr(CostOverrides(**{field: 1.0}), field) == 1.0
    with pytest.raises(InputError, match=field):
        CostOverrides().merged(**{field: value})


def test_a_per_port_price_is_for_the_400g_reference_port() -> None:
    """cost.py: a --costs file's `switch_port_usd` prices a 400G reference port, scaled by the port's bandwidth:
    the GB200 NVL72 SuperPOD's 800 Gb/s ports (ConnectX-8) cost 2x. Mutant F05 charged every port the 400G price."""
    report = size_facility(system="gb200-nvl72-superpod", overrides=CostOverrides(switch_port_usd=1000.0))
    assert report.network.switch_ports > 0 and report.capex_usd is not None
    assert report.capex_usd["network"] == pytest.approx(report.network.switch_ports * 1000.0 * 800 / 400, rel=1e-12)


def test_floor_area_is_per_rack_and_the_facility_lives_its_build_types_years() -> None:
    """cooling.yaml: 3.0 m2 per liquid-cooled rack (8 NVL72 racks, 144 compute trays: 24 m2); build_types.yaml:
    every build type, the liquid default ai-campus too, depreciates over 14 years (Epoch AI's 1-GW model), servers
    and network over 5.5 (economics.yaml, Meta 10-K). Mutants F08 (area per server) and F10 (facility life from the
    network's)."""
    report = size_facility(system="gb200-nvl72-superpod")
    assert (report.cooling, report.racks) == ("liquid", 8) and report.servers > report.racks
    assert report.floor_area_m2 == pytest.approx(8 * 3.0, rel=1e-12)
    assert report.build_type == "ai-campus"  # liquid cooling's default build type
    assert report.assumptions.lives_years == {"servers": 5.5, "network": 5.5, "facility": 14.0}
