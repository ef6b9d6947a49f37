"""hP74: a plan pool's (and `facility --accelerator SYSTEM --count N`'s) price never falls as the count passes a
catalog system's size. hP73 left one step down: past its size a system's node was built on 2,048-GPU generic zones
joined at 1:7, cheaper than the system's own non-blocking fabric at its size (dgx-h100-superpod: 16,384 on 1,280
switches, capex +3.4 % over 16,392 on 907; meta-genai-roce-24k +3.1 %, meta-genai-ib-24k +3.8 %): asking for more
GPUs cost less, for a fabric with less bisection. Now a system larger than a generic zone is each zone of the count
past it (whole copies on its own tiers, the rest on them, joined at 1:7: facility/campus_fabric.py `zone_layout`).
On the base the 3 systems failed the monotone test, and `facility` and a plan pool differed past the size on the two
InfiniBand ones (the aggregation took the part's reference system's Ethernet; the pool, the system's InfiniBand)."""

from __future__ import annotations

import pytest

from infraplan.catalog import list_presets
from infraplan.cluster import Cluster
from infraplan.facility.facility import size_facility
from infraplan.planning.device_money import cost_overrides, device_money, device_site, missing_price

SYSTEMS = list_presets("systems")


def _site(system: str):
    price = 10_000.0 if missing_price("p", system, None) else None  # a rack with no catalog price: any price
    return cost_overrides(None, None, price, None)


def _counts(size: int) -> list[int]:
    return [size - 1, size, size + 1, size + 8, 2 * size]


def test_there_are_18_catalog_systems() -> None:
    assert len(SYSTEMS) == 18  # the set the tests below walk (a new system joins them)


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_systems_price_grows_with_the_count_across_its_size(system: str) -> None:
    size = Cluster.resolve(system).total_accelerators
    site = device_site(system, _site(system))
    money = [device_money(system, n, site) for n in _counts(size)]
    for a, b in zip(money, money[1:], strict=False):
        assert b.devices >= a.devices
        assert sum(b.capex_usd.values()) >= sum(a.capex_usd.values()) * (1 - 1e-12), (system, a.devices, b.devices)
        assert b.annual.tco_usd_per_year >= a.annual.tco_usd_per_year * (1 - 1e-12), (system, a.devices, b.devices)
        assert b.it_w >= a.it_w * (1 - 1e-12), (system, a.devices, b.devices)


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_plan_pool_is_facility_of_the_count_either_side_of_the_size(system: str) -> None:
    size = Cluster.resolve(system).total_accelerators
    overrides = _site(system)
    site = device_site(system, overrides)
    for n in _counts(size):
        pool = device_money(system, n, site)
        facility = size_facility(accelerator=system, count=n, overrides=overrides)
        assert pool.it_w == pytest.approx(facility.it_power_w, rel=1e-12), (system, n)
        assert sum(pool.capex_usd.values()) == pytest.approx(facility.capex_total_usd, rel=1e-12), (system, n)


def test_past_the_superpod_is_the_superpod_again_plus_the_rest() -> None:
    """16,392 H100 of dgx-h100-superpod: its 1,280 switches whole, the 8 on its own tiers and the aggregation above;
    32,768: two of it and the aggregation (the base: 907 and 1,812 switches)."""
    site = device_site("dgx-h100-superpod", _site("dgx-h100-superpod"))
    at = device_money("dgx-h100-superpod", 16_384, site)
    one_more = device_money("dgx-h100-superpod", 16_392, site)
    twice = device_money("dgx-h100-superpod", 32_768, site)
    assert at.switches == 1_280
    assert one_more.switches == 1_419 and twice.switches == 2_836
    assert sum(twice.capex_usd.values()) > 2 * sum(at.capex_usd.values())  # the aggregation tier on top
    report = size_facility(accelerator="dgx-h100-superpod", count=16_392)
    assert "2 zones on dgx-h100-superpod's own tiers of up to 16,384" in report.network.model
    assert report.count_note == (
        "--count 16,392 is more than the 16,384 accelerators of dgx-h100-superpod: whole copies of its 16,384 on its "
        "own tiers and the rest on them, joined at 1:7 as `campus` joins its zones (`network dgx-h100-superpod` "
        "builds up to 16,384)")


def test_a_system_inside_one_generic_zone_keeps_the_generic_clos_past_it() -> None:
    """dgx-b200's 256 sit inside one 2,048-GPU generic zone, whose non-blocking Clos past the size costs more than
    the system at it (24 switches at 264, 12 at 256): unchanged, and said as before."""
    from infraplan.facility.campus_fabric import zone_accelerators, zone_layout
    from infraplan.planning.device_money import device_layout

    past = device_layout("dgx-b200", 600)
    assert past.outgrown is not None and zone_layout(past) is past and zone_accelerators(past) == 2_048
    big = device_layout("dgx-h100-superpod", 16_392)
    assert zone_accelerators(big) == 16_384 and not zone_layout(big).generic
    assert zone_layout(big).system.network.tiers == Cluster.resolve("dgx-h100-superpod").system.network.tiers
    report = size_facility(accelerator="dgx-b200", count=600)
    assert report.count_note == ("--count 600 is more than the 256 accelerators of dgx-b200: its node on the generic "
                                 "Clos, as `campus` builds a count (`network dgx-b200` builds up to 256)")
