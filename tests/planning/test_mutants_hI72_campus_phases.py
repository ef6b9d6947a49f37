"""hI72 mutation wave on hN71's campus phases: a phase's average facility draw is, like its peak power and capex,
that of the whole NVL72 racks it brings online (468,720 of 2 GW's 937,368 GB200 for the first half, 468,648 for the
second: one rack more in the first), so the phases' averages add up to the campus's and each is its peak times the
campus's load factor."""

from __future__ import annotations

import pytest

from infraplan.planning.campus import plan_campus


def test_a_phases_average_draw_is_that_of_its_units() -> None:
    r = plan_campus(2e9, "gb200", phases="2026:0.5,2026H2:0.5")
    f = r.facility
    load = f.facility_power_average_w / f.facility_power_w
    for ph in r.phases:
        share = ph.accelerators / r.accelerators
        assert ph.facility_power_average_w == pytest.approx(share * f.facility_power_average_w, rel=1e-12)
        assert ph.facility_power_average_w == pytest.approx(load * ph.facility_power_w, rel=1e-12)
    assert sum(ph.facility_power_average_w for ph in r.phases) == pytest.approx(f.facility_power_average_w,
                                                                                rel=1e-12)
    assert r.phases[0].facility_power_average_w > r.phases[1].facility_power_average_w  # one rack more
