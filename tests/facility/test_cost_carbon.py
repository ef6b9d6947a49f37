"""Cost and carbon: annuities, capex scaling, overrides, $/GPU-hour, model-card accounting, embodied carbon."""

from __future__ import annotations

import pytest

from infraplan.cluster.cost import (
    HOURS_PER_YEAR,
    CostOverrides,
    annuity_factor,
    load_cost_overrides,
    usd_per_million_tokens,
)
from infraplan.errors import InputError
from infraplan.facility.carbon import amortised_embodied_co2_t, model_card_co2_t, operational_co2_t
from infraplan.facility.facility import size_facility


def test_annuity_is_straight_line_at_zero_rate_and_higher_with_interest():
    assert annuity_factor(0.0, 5.5) == pytest.approx(1 / 5.5)
    assert annuity_factor(0.08, 5.5) > 1 / 5.5
    with pytest.raises(InputError):
        annuity_factor(0.0, 0.0)


def test_capex_and_energy_scale_with_the_cluster():
    small = size_facility(accelerator="h100-sxm", count=4096)
    large = size_facility(accelerator="h100-sxm", count=8192)
    assert large.capex_usd["servers"] == pytest.approx(2 * small.capex_usd["servers"])
    assert large.energy_mwh_per_year > 1.9 * small.energy_mwh_per_year
    assert large.facility_power_w == pytest.approx(large.it_power_w * large.pue)
    hours = HOURS_PER_YEAR * large.accelerators
    assert large.usd_per_gpu_hour == pytest.approx(large.tco_usd_per_year / hours)


def test_location_changes_price_carbon_and_pue():
    oregon = size_facility(system="meta-genai-roce-24k", location="oregon")
    louisiana = size_facility(system="meta-genai-roce-24k", location="louisiana")
    assert oregon.pue < louisiana.pue  # cool vs hot climate
    assert oregon.co2_t_per_year / oregon.energy_mwh_per_year < (
        louisiana.co2_t_per_year / louisiana.energy_mwh_per_year)
    with pytest.raises(InputError, match="did you mean ohio"):
        size_facility(system="meta-rsc", location="ohoi")


def test_overrides_win_over_the_catalog():
    base = size_facility(system="meta-rsc")
    cheap = size_facility(system="meta-rsc", overrides=CostOverrides(electricity_usd_per_mwh=0.0, pue=1.5))
    assert cheap.pue == 1.5
    assert cheap.opex_breakdown_usd_per_year["electricity"] == 0.0
    assert cheap.opex_usd_per_year < base.opex_usd_per_year
    pricey = size_facility(system="meta-rsc", overrides=CostOverrides(server_usd_per_accelerator=50_000))
    assert pricey.capex_usd["servers"] == 50_000 * 16_000


def test_cost_file_overrides_and_bad_files(tmp_path):
    good = tmp_path / "costs.yaml"
    good.write_text("source: my quote\nelectricity_usd_per_mwh: 40\nserver_life_years: 4\n")
    over = load_cost_overrides(str(good))
    assert over.electricity_usd_per_mwh == 40 and over.server_life_years == 4
    assert over.merged(electricity_usd_per_mwh=55).electricity_usd_per_mwh == 55
    bad = tmp_path / "bad.yaml"
    bad.write_text("electricity_usd_per_mwh: -3\n")
    with pytest.raises(InputError, match="electricity_usd_per_mwh"):
        load_cost_overrides(str(bad))
    typo = tmp_path / "typo.yaml"
    typo.write_text("electricity_price: 3\n")
    with pytest.raises(InputError, match="electricity_price"):
        load_cost_overrides(str(typo))


def test_unpriced_accelerator_asks_for_a_price():
    bare = size_facility(accelerator="mi300x", count=64)  # power and carbon need no price; money is null
    assert bare.capex_usd is None and bare.tco_usd_per_year is None and "--server-price" in bare.cost_reason
    assert bare.energy_mwh_per_year > 0
    r = size_facility(accelerator="mi300x", count=64, overrides=CostOverrides(server_usd_per_accelerator=30_000))
    assert r.capex_usd["servers"] == 64 * 30_000


def test_model_card_formula_and_carbon_units():
    # 1,000 GPU-hours at 700 W, PUE 1.1, 400 g/kWh = 0.77 MWh x 400 kg/MWh = 0.308 t
    assert float(model_card_co2_t(1000, 700, 1.1, 400)) == pytest.approx(0.308)
    assert float(operational_co2_t(1.0, 1000)) == pytest.approx(1.0)
    full_life = float(amortised_embodied_co2_t(10, 300.0, 5 * 8760, 5))
    assert full_life == pytest.approx(3.0)


def test_usd_per_million_tokens():
    assert usd_per_million_tokens(2.0, 1000.0) == pytest.approx(2.0 / 3.6)
    with pytest.raises(InputError):
        usd_per_million_tokens(2.0, 0.0)


def test_embodied_per_accelerator_override_catalog_what_if_and_unpriced(tmp_path) -> None:
    from importlib.resources import files

    from infraplan.catalog import load_accelerator
    from infraplan.catalog.hardware_costs import load_hardware_cost
    from infraplan.cluster.cost import CostOverrides
    from infraplan.facility.facility import embodied_per_accelerator_kg

    h100 = load_accelerator("h100-sxm")
    catalog = load_hardware_cost("h100-sxm").embodied_kgco2e_per_accelerator  # type: ignore[union-attr]
    assert embodied_per_accelerator_kg(h100, CostOverrides()) == catalog == 320.0
    assert embodied_per_accelerator_kg(h100, CostOverrides(embodied_kgco2e_per_accelerator=100.0)) == 100.0
    (tmp_path / "w.yaml").write_text("extends: h100-sxm\ntdp_w: 900W\nprice_usd: 1\nprice_source: test\n")
    what_if = load_accelerator(str(tmp_path / "w.yaml"))  # its own price, its preset's embodied carbon
    assert embodied_per_accelerator_kg(what_if, CostOverrides()) == catalog
    (tmp_path / "tpu-own.yaml").write_text((files("infraplan.catalog") / "accelerators" / "tpu-v5p.yaml").read_text()
                                           .replace("tdp_w: 350W", "tdp_w: 360W"))  # no extends: no catalog entry
    assert embodied_per_accelerator_kg(load_accelerator(str(tmp_path / "tpu-own.yaml")), CostOverrides()) is None
