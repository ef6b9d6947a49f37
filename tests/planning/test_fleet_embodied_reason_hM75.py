"""hM75 mutant of `planning.campus.plan_fleet`'s embodied-carbon reason (hN75): the hint to state a figure is said
only where a site lacks one."""

from __future__ import annotations

from infraplan.planning.campus import plan_fleet


def test_a_fleet_whose_parts_all_have_embodied_figures_gives_no_reason() -> None:
    """meta-2024's sites are A100 80GB and H100 SXM, both with catalog embodied figures: every site's embodied
    tonnes are stated, so there is no reason line (null in the JSON), not the how-to-state-one hint."""
    fleet = plan_fleet("meta-2024")
    assert all(s.embodied_co2_t_per_year is not None for s in fleet.sites)
    assert fleet.embodied_co2_reason is None
