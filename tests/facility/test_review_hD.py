"""A data-centre planner's review (hD, session 33): the energy and money identities of `facility`, rack power from
board power, cooling limits, PUE within published ranges, and the checkpoint interval reported with its formula.

Reference figures (shared/reference/datacenter.md Sec. 2.1-2.3, frontier.md), none of them a validation case."""

from __future__ import annotations

import pytest

from infraplan.catalog.facility_loader import load_cooling
from infraplan.cluster.cost import HOURS_PER_YEAR
from infraplan.errors import InputError
from infraplan.facility.facility import size_facility
from infraplan.facility.reliability import reliability_report

# (system, accelerator, count, cooling, location): air and liquid, three climates, a catalog fabric and a built one
CASES = [
    ("meta-genai-roce-24k", None, None, None, "ohio"),
    (None, "gb200", 72, "liquid", "us-average"),
    (None, "gb200", 9216, "immersion", "louisiana"),
    (None, "h100-sxm", 1024, "air", "texas"),
    (None, "h100-sxm", 16384, "liquid", "oregon"),
    ("dgx-b200", None, None, None, "virginia"),
    (None, "a100-80gb", 4096, "air", "world-average"),
]


@pytest.mark.parametrize(("system", "accelerator", "count", "cooling", "location"), CASES)
def test_facility_energy_money_and_carbon_identities(system, accelerator, count, cooling, location) -> None:
    r = size_facility(system=system, accelerator=accelerator, count=count, cooling=cooling, location=location)
    a = r.assumptions
    assert r.facility_power_w == pytest.approx(r.it_power_w * r.pue)
    assert sum(r.power_breakdown_w.values()) == pytest.approx(r.facility_power_w)
    # annual energy = facility power x load factor x 8,760 h; water = IT energy x WUE; carbon = energy x intensity
    assert r.energy_mwh_per_year == pytest.approx(r.facility_power_w * a.load_factor * 8760 / 1e6)
    assert r.water_m3_per_year == pytest.approx(r.it_power_w * a.load_factor * 8760 / 1e6 * a.wue_l_per_kwh)
    assert r.co2_t_per_year == pytest.approx(r.energy_mwh_per_year * a.grid_gco2_per_kwh / 1e3)
    assert r.capex_usd is not None and r.annualized_capex_usd_per_year is not None
    for asset, capex in r.capex_usd.items():  # straight-line (cost of capital 0)
        assert r.annualized_capex_usd_per_year[asset] == pytest.approx(capex / a.lives_years[asset])
    assert r.capex_usd["facility"] == pytest.approx(r.it_power_w * a.facility_usd_per_w)
    opex = r.opex_breakdown_usd_per_year
    assert opex["electricity"] == pytest.approx(r.energy_mwh_per_year * a.electricity_usd_per_mwh)
    assert opex["maintenance"] == pytest.approx(sum(r.capex_usd.values()) * a.maintenance_fraction_of_capex_per_year)
    tco = sum(r.annualized_capex_usd_per_year.values()) + sum(opex.values())
    assert r.tco_usd_per_year == pytest.approx(tco)
    assert r.usd_per_gpu_hour == pytest.approx(tco / (r.accelerators * HOURS_PER_YEAR))  # every hour of the year
    assert r.embodied_co2_t is not None
    assert r.embodied_co2_t_per_year == pytest.approx(r.embodied_co2_t / a.lives_years["servers"])


@pytest.mark.parametrize(("accelerator", "board_w", "low_kw", "high_kw"), [
    ("gb200", 1200, 120, 132),  # ~120 kW (STH at GTC 2024) to ~132 kW (SemiAnalysis-style), datacenter.md 2.1
    ("gb300", 1400, 120, 142),  # ~120-142 kW (introl; essay), datacenter.md 2.1; board 1,400 W in frontier.md
])
def test_nvl72_rack_power_follows_board_power_within_published_range(accelerator, board_w, low_kw, high_kw) -> None:
    r = size_facility(accelerator=accelerator, count=72, cooling="liquid")
    assert r.racks == 1 and r.accelerators_per_rack == 72
    assert r.power_breakdown_w["accelerators"] == pytest.approx(72 * board_w)
    assert low_kw * 0.99 <= r.rack_power_w / 1e3 <= high_kw  # GB200 122.4 kW, NVSwitch trays in: +2.0 % on 120
    # 18 compute trays of ~6.5-6.6 kW each (introl, Supermicro 2025)
    assert 6.5e3 * 0.99 <= (r.power_breakdown_w["accelerators"] + r.power_breakdown_w["hosts"]) / 18 <= 7.5e3


def test_dgx_server_power_matches_nvidia_maximum() -> None:
    """DGX B200 system max 14.3 kW (NVIDIA docs via thedailyscout); a 32-system unit ~458 kW of servers."""
    r = size_facility(system="dgx-b200")
    server_w = (r.power_breakdown_w["accelerators"] + r.power_breakdown_w["hosts"]) / r.servers
    assert server_w == pytest.approx(14.3e3, rel=0.01)
    assert r.servers * server_w == pytest.approx(458e3, rel=0.01)


@pytest.mark.parametrize("rack", ["130kW", "31kW"])
def test_air_cooling_refuses_a_rack_above_its_limit(rack) -> None:
    from infraplan.units import parse_stated_power_w

    with pytest.raises(InputError, match="air cooling allows"):
        size_facility(accelerator="h100-sxm", count=1024, cooling="air",
                      rack_power_w=parse_stated_power_w(rack, "--rack-power"))
    with pytest.raises(InputError, match="air cooling allows"):  # a 122.4 kW NVL72 rack
        size_facility(accelerator="gb200", count=72, cooling="air")


def test_pue_by_cooling_and_climate_lies_in_published_ranges() -> None:
    """Hyperscale PUE: Meta Prineville 1.07, fleet 1.08, Google 1.10, specialised AI 1.14; new large builds 1.3 or
    better (Uptime 2024 survey): every entry in [1.03, 1.30], liquid <= air and cool <= temperate <= hot."""
    pue = {name: load_cooling(name).pue for name in ("air", "liquid", "immersion")}
    for table in pue.values():
        assert 1.03 <= table["cool"] <= table["temperate"] <= table["hot"] <= 1.30
    for climate in ("cool", "temperate", "hot"):
        assert pue["immersion"][climate] <= pue["liquid"][climate] <= pue["air"][climate]


def test_llama3_interruptions_scale_with_gpus_and_the_interval_states_its_formula() -> None:
    r = reliability_report("meta-genai-roce-24k", 16384, days=54)
    assert r.expected_unexpected_interruptions == pytest.approx(419, rel=0.005)  # Llama 3 Table 5
    assert r.expected_interruptions == pytest.approx(466, rel=0.005)  # with the 47 planned
    half = reliability_report("meta-genai-roce-24k", 8192, days=54)
    assert half.expected_unexpected_interruptions == pytest.approx(419 / 2, rel=0.005)
    note = r.notes[0]  # the interval's formula first (the planned interruptions' note follows, hE)
    assert "Daly (2006) tau = sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d" in note
    assert f"= {r.checkpoint_interval_s:.4g} s" in note and f"{r.checkpoint_write_s:.4g} s" in note
    assert f"Young (1974) sqrt(2 d M) = {r.young_interval_s:.4g} s" in note
    assert "M = 11,134 s" in note  # 54 x 86,400 s / 419
    big = reliability_report("meta-genai-roce-24k", 16384, days=54, checkpoint_size_bytes=1e18)
    assert "tau = M, since d >= 2M" in big.notes[0]


def test_reliability_prints_the_interval_formula(capsys) -> None:
    from infraplan.cli.main import main

    assert main(["reliability", "--system", "meta-genai-roce-24k", "--gpus", "16384", "--days", "54"]) == 0
    out = capsys.readouterr().out
    assert "Young (1974) sqrt(2 d M)" in out and "Daly (2006)" in out
