"""hD74: `campus --accelerator SYSTEM` builds the campus's N as `facility --accelerator SYSTEM --count N` and a plan
pool of the system build them: on the system's own tiers for the N it holds, past its size whole copies of it joined
at 1:7 (hP74, facility/campus_fabric.py `zone_layout`). The base built its part's generic 2,048-GPU zones at any
count: the facility power of 8,192 H100 of dgx-h100-superpod (13.24 MW, 640 switches) held 8,368 on 428 switches in
`campus`; that of 16,392 (26.77 MW, 1,419 switches, $1,119 M) held 16,832 on 932 switches, $1,089 M. A system
within one generic zone (dgx-b200's 256) is on its part's generic Clos past its size, the part's own campus."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from infraplan.cluster import Cluster
from infraplan.cluster.cost import CostOverrides
from infraplan.facility.facility import size_facility
from infraplan.planning.campus import plan_campus, plan_fleet
from infraplan.planning.device_money import cost_overrides, device_money, device_site, missing_price


def _overrides(system: str) -> CostOverrides:
    price = 10_000.0 if missing_price("p", system, None) else None  # a system with no catalog price: any price
    return cost_overrides(None, None, price, None)


def _counts(system: str) -> list[int]:
    size = Cluster.resolve(system).total_accelerators
    return [size // 2, size + 8, 2 * size]


CASES = [(system, n) for system in ("dgx-h100-superpod", "meta-genai-ib-24k", "dgx-b200") for n in _counts(system)]


@pytest.mark.parametrize(("system", "count"), CASES)
def test_campus_is_facility_and_a_plan_pool_of_its_count(system: str, count: int) -> None:
    overrides = _overrides(system)
    facility = size_facility(accelerator=system, count=count, overrides=overrides)
    pool = device_money(system, count, device_site(system, overrides))
    assert pool.it_w == pytest.approx(facility.it_power_w, rel=1e-12)
    assert facility.capex_total_usd is not None
    assert sum(pool.capex_usd.values()) == pytest.approx(facility.capex_total_usd, rel=1e-12)
    # the facility power of `count` holds `count` in a campus, and the campus's facility is facility's, field for field
    campus = plan_campus(facility.facility_power_w * (1 + 1e-12), system, overrides=overrides)
    assert campus.accelerators == count
    assert campus.facility == facility
    assert (campus.capex_usd, campus.network) == (facility.capex_usd, facility.network)


def test_the_campus_says_the_systems_fabric() -> None:
    """Within the size: its own tiers; past it: whole copies (1,419 switches for 16,392, as `facility`); a system
    inside one generic zone past its size: no line (the part's own campus)."""
    within = size_facility(accelerator="dgx-h100-superpod", count=8_192)
    past = size_facility(accelerator="dgx-h100-superpod", count=16_392)
    assert (within.network.switches, past.network.switches) == (640, 1_419)
    small = plan_campus(within.facility_power_w * (1 + 1e-12), "dgx-h100-superpod")
    large = plan_campus(past.facility_power_w * (1 + 1e-12), "dgx-h100-superpod")
    assert small.notes[0] == ("the campus's 8,192 are within the 16,384 of dgx-h100-superpod: on its own fabric's "
                              "tiers; `facility --accelerator dgx-h100-superpod --count 8192` and a plan pool of it "
                              "build the same")
    assert large.notes[0] == ("the campus's 16,392 are more than the 16,384 of dgx-h100-superpod: whole copies of its "
                              "16,384 on its own tiers and the rest on them, joined at 1:7 as `campus` joins its "
                              "zones; `facility --accelerator dgx-h100-superpod --count 16392` and a plan pool of it "
                              "build the same")
    assert large.network.switches == 1_419 and "zones on dgx-h100-superpod's own tiers" in large.network.model
    b200 = plan_campus(2e6, "dgx-b200")
    assert b200.accelerators > 256 and not any("dgx-b200" in note for note in b200.notes)
    part = plan_campus(2e6, "b200")  # the part's campus (its runs note the 256 of dgx-b200), and facility's count note
    assert b200.accelerators == part.accelerators and b200.notes == part.notes
    assert b200.facility.model_copy(update={"count_note": None}) == part.facility


def test_a_fleet_site_of_a_system_and_a_power_is_facility_of_its_count(tmp_path: Path) -> None:
    """`campus --fleet` fills a site's power as `campus --power` does, so a system's site is `facility --count`."""
    report = size_facility(accelerator="dgx-h100-superpod", count=20_000)
    power = f"{report.facility_power_w * (1 + 1e-12)!r}W"
    sites = [{"name": "pods", "accelerator": "dgx-h100-superpod", "power": power, "cooling": report.cooling,
              "location": report.location}]
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump({"name": "pods", "sites": sites}))
    (site,) = plan_fleet(str(path)).sites
    assert (site.accelerators, site.capex_usd, site.it_power_w) == (20_000, report.capex_total_usd,
                                                                    report.it_power_w)
