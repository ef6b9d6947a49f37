"""Embodied carbon for every catalog part, decoupled from prices (helper hC41, session 41).

hardware_costs.yaml held price and embodied carbon in one entry that required a price, so MI300X, GB300, MSVP and
the other unpriced parts had no embodied figure and meta-2024's and gigawatt-2027's planning totals were null. An
entry may now hold carbon without a price; each figure states its dies, process, memory and host
(`embodied_derivation`), LLMCarbon's arithmetic (die area x carbon per area + DRAM GB x 0.4 kg) plus the A100
anchor's server share (318 kg, Chien et al. HotCarbon'23, less its own 826 mm2 at 7 nm and 80 GB)."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from infraplan.catalog import list_presets, load_accelerator
from infraplan.catalog.hardware_costs import (
    HardwareCost,
    accelerator_embodied_kg,
    accelerator_price,
    load_embodied_method,
    load_hardware_cost,
    video_device_embodied_kg,
)
from infraplan.cli import main
from infraplan.errors import InputError
from infraplan.facility.carbon import derived_embodied_kg
from infraplan.facility.facility import size_facility
from infraplan.planning.scenario import plan_scenario
from infraplan.planning.scenario_spec import ScenarioSpec

# by hand: the anchor's server share, A100 318 kg less 8.26 cm2 x 1.6 kg/cm2 (7 nm) and 80 GB x 0.4 kg/GB
SERVER_SHARE_KG = 318 - (8.26 * 1.6 + 80 * 0.4)  # 272.784 kg per accelerator of an 8-GPU-class server
HOST_W_A100 = 3300 / 8  # DGX A100: 6.5 kW - 8 x 400 W of host per 8 GPUs
HAND_KG = {
    # 8 XCD x 115 mm2 on N5 (the 4 nm figure) + 4 IOD x 370 mm2 on N6 (the 7 nm figure) + 192 GB HBM3
    "mi300x": 8 * 1.15 * 1.8 + 4 * 3.70 * 1.6 + 192 * 0.4 + SERVER_SHARE_KG,
    # two ~800 mm2 dies on TSMC 4NP + 288 GB HBM3e
    "gb300": 2 * 8.0 * 1.8 + 288 * 0.4 + SERVER_SHARE_KG,
    # ~112 mm2 at 7 nm + 8 GB LPDDR5 + the anchor's share per watt of host, 40 W of a Yosemite V3-class host
    "msvp": 1.12 * 1.6 + 8 * 0.4 + SERVER_SHARE_KG * 40 / HOST_W_A100,
}


def _catalog_kg(part: str) -> float | None:
    return video_device_embodied_kg(part) if part == "msvp" else accelerator_embodied_kg(load_accelerator(part))


@pytest.mark.parametrize("part", sorted(HAND_KG))
def test_mi300x_gb300_and_msvp_have_the_derivations_figure(part: str) -> None:
    """MI300X 389.8 -> 390 kg, GB300 416.8 -> 417 kg, MSVP 31.4 -> 31 kg per device: the catalog's figure is the
    derivation's arithmetic, rounded to the kilogram as the file's figures are."""
    kg = _catalog_kg(part)
    assert kg is not None and kg == round(HAND_KG[part])
    entry = load_hardware_cost(part) if part != "msvp" else None
    derivation = (entry.embodied_derivation if entry is not None else HardwareCost.model_validate(
        {"embodied_kgco2e_per_accelerator": kg, "source": "x", "embodied_derivation": {
            "dies": [{"area_mm2": 112, "process": "tsmc-n7"}], "memory_gb": 8, "host_power_w": 40}}
    ).embodied_derivation)
    assert derivation is not None
    assert derived_embodied_kg(derivation, load_embodied_method()) == pytest.approx(HAND_KG[part], rel=1e-12)


def test_every_catalog_part_has_a_figure_that_its_derivation_gives() -> None:
    """Every accelerator, CPU and video device preset has an embodied figure; each stated figure is its
    derivation's arithmetic within the kilogram it is rounded to (H100's 320 was rounded from 45 and 47 kg of
    chips, 319.4 unrounded); the A100 is the anchor (318 kg, measured)."""
    method = load_embodied_method()
    parts = list_presets("accelerators")
    assert all(accelerator_embodied_kg(load_accelerator(p)) is not None for p in parts)
    assert all(video_device_embodied_kg(d) is not None for d in list_presets("video/devices"))
    for part in parts:
        entry = load_hardware_cost(part)
        assert entry is not None and entry.embodied_kgco2e_per_accelerator is not None
        if part == method.anchor.accelerator:
            assert entry.embodied_kgco2e_per_accelerator == method.anchor.kgco2e_per_accelerator
            continue
        assert entry.embodied_derivation is not None, part
        derived = derived_embodied_kg(entry.embodied_derivation, method)
        assert abs(entry.embodied_kgco2e_per_accelerator - derived) < 1.0, (part, derived)


def _spec(pool: dict[str, object], service: dict[str, object], objective: str = "tco") -> ScenarioSpec:
    return ScenarioSpec.model_validate({
        "name": "hC41", "phases": [{"name": "2026", "year": 2026}], "services": [service],
        "pools": [{"name": "pool", "site": "s", **pool}], "sites": [{"name": "s", "power": "50MW", "location": "ohio"}],
        "policy": {"objective": objective}})


def test_plan_and_facility_give_one_embodied_figure_for_mi300x() -> None:
    """64 MI300X in a plan pool and in `facility --count 64`: one embodied and total tCO2e per year,
    64 x 390 kg / 1,000 / 5.5 years, and the plan's sums are no longer null."""
    plan = plan_scenario(_spec({"device": "mi300x", "installed": 64, "capex_usd": 42000},
                               {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": 1e5,
                                "latency_slo": "10ms"}))
    facility = size_facility(accelerator="mi300x", count=64, location="ohio")
    (pool,) = plan.pools
    assert facility.embodied_co2_t_per_year == pytest.approx(64 * 390 / 1e3 / 5.5, rel=1e-12)
    assert pool.embodied_co2_t_per_year == pytest.approx(facility.embodied_co2_t_per_year, rel=1e-12)
    assert plan.total_co2_t_per_year == pytest.approx(facility.total_co2_t_per_year, rel=1e-12)
    assert plan.embodied_co2_reason is None


def test_an_msvp_pool_carries_its_embodied_carbon_per_device() -> None:
    plan = plan_scenario(_spec({"device": "msvp", "capex_usd": 1500},
                               {"name": "v", "kind": "video", "daily_hours": 2000, "input": "1080p30",
                                "ladder": 5}))
    (pool,) = plan.pools
    assert pool.devices > 0 and pool.embodied_co2_reason is None
    assert pool.embodied_co2_t_per_year == pytest.approx(pool.devices * 31 / 1e3 / 5.5, rel=1e-12)
    assert pool.total_co2_t_per_year == pytest.approx(pool.co2_t_per_year + pool.embodied_co2_t_per_year)


def test_a_part_with_carbon_and_no_price_still_says_its_price_is_unknown(capsys: pytest.CaptureFixture[str]
                                                                          ) -> None:
    """MI300X has an embodied figure and no price: `facility` reports its carbon and leaves the money null with
    the missing price named; a plan pool of it without capex_usd is unpriced (a tco plan refuses it, one line; a
    power plan plans it, money null, carbon reported); the price rule says None."""
    assert accelerator_price(load_accelerator("mi300x")) is None
    assert main(["facility", "--accelerator", "mi300x", "--count", "64", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["embodied_co2_t"] == pytest.approx(64 * 390 / 1e3) and out["capex_usd"] is None
    assert "no server price for mi300x" in out["cost_reason"]
    rank = {"name": "rank", "kind": "recsys", "model": "dlrm-low", "qps": 1e5, "latency_slo": "10ms"}
    with pytest.raises(InputError, match="no price for mi300x"):
        plan_scenario(_spec({"device": "mi300x", "installed": 64}, rank))
    plan = plan_scenario(_spec({"device": "mi300x", "installed": 64}, rank, objective="power"))
    (pool,) = plan.pools
    assert pool.capex_usd is None and "no price for mi300x" in (pool.cost_reason or "")
    assert pool.embodied_co2_t_per_year == pytest.approx(64 * 390 / 1e3 / 5.5, rel=1e-12)


def test_a_what_if_inherits_its_presets_carbon_and_not_a_missing_price(tmp_path) -> None:
    what_if = tmp_path / "mi300x-hbm.yaml"
    what_if.write_text("extends: mi300x\nmemory_bandwidth_bytes_per_s: 6TB/s\n")
    accelerator = load_accelerator(str(what_if))
    assert accelerator_embodied_kg(accelerator) == 390 and accelerator_price(accelerator) is None


def test_an_entry_needs_a_price_or_a_carbon_figure() -> None:
    with pytest.raises(ValidationError):
        HardwareCost.model_validate({"source": "neither"})
    assert HardwareCost.model_validate({"embodied_kgco2e_per_accelerator": 1, "source": "x"}).server_rack_units is None
