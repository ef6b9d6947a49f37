"""`campus --fleet meta-2024` itemises what is published of Meta's fleet, as `plan examples/meta-2024.yaml` does.

Both presets say they hold Meta's published, itemised clusters. The plan example's installed base has RSC-2's
8,000 A100 (Kokolis et al., HPCA 2025, arXiv 2410.21680, abstract: "RSC-1 (16K A100) and RSC-2 (8K A100)"); the
fleet preset left it out (366,000 accelerators, 59.2 % of the published 600,000 H100e), while its header said only
RSC-1's A100 were itemised. hG57 added it: 374,000 accelerators, 59.6 %, and the site is priced as the plan's
`rsc-2` pool (the same power, money and tCO2e: the one cost model through both commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infraplan.planning.campus import plan_fleet
from infraplan.planning.pool_money import pool_money
from infraplan.planning.scenario_spec import load_scenario

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "meta-2024.yaml"


def test_the_fleet_holds_every_published_cluster_the_plan_example_installs() -> None:
    fleet = plan_fleet("meta-2024")
    spec = load_scenario(EXAMPLE)
    counts: dict[str, int] = {}
    for site in fleet.sites:
        counts[site.accelerator] = counts.get(site.accelerator, 0) + site.accelerators
    installed = {p.name: p.installed for p in spec.pools}
    assert counts["a100-80gb"] == installed["rsc"] + installed["rsc-2"] == 24_000  # RSC-1 16K + RSC-2 8K
    assert counts["h100-sxm"] == 350_000  # Meta's blog: 350,000 H100, the two 24,576-GPU clusters among them
    assert fleet.accelerators == 374_000
    assert fleet.published_h100_equivalents is not None
    assert fleet.h100_equivalents / fleet.published_h100_equivalents == pytest.approx(0.5960, abs=5e-4)


def test_rsc2_is_priced_as_the_plan_examples_pool() -> None:
    """The fleet's rsc-2 site and the plan example's rsc-2 pool are the same 8,000 A100 at the same site inputs
    (air, us-average): one answer for IT and facility power, capex and tCO2e."""
    site = next(s for s in plan_fleet("meta-2024").sites if s.name == "rsc-2")
    spec = load_scenario(EXAMPLE)
    pool = next(p for p in spec.pools if p.name == "rsc-2")
    money = pool_money(spec, pool, next(s for s in spec.sites if s.name == pool.site), pool.installed)
    assert site.accelerators == money.devices == 8000
    assert site.it_power_w == pytest.approx(money.it_w, rel=1e-12)
    assert site.facility_power_w == pytest.approx(money.facility_w, rel=1e-12)
    assert site.capex_usd == pytest.approx(money.capex_usd, rel=1e-12)
    assert site.co2_t_per_year == pytest.approx(money.co2_t_per_year, rel=1e-12)
    assert site.embodied_co2_t_per_year == pytest.approx(money.embodied_co2_t_per_year, rel=1e-12)
