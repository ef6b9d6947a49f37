"""Carbon: operational (location-based grid intensity) and embodied (manufacturing), in tonnes CO2e.

- Operational: facility energy x grid intensity. Location-based intensities per site are catalog data
  (locations.yaml: EIA for the US average, IEA 2019 for the world). Market-based accounting (Meta matches 100 %
  with renewables, so its market-based Scope 2 is ~0) is the caller's choice: pass intensity 0.
- Model-card accounting (Llama 2/3/3.1): GPU-hours x TDP x PUE x intensity, formula-based, not metered
  (`model_card_co2_t`); the validation cases reproduce the published tonnes with it.
- Embodied: kgCO2e per accelerator incl. its share of the server (hardware_costs.yaml: A100 318 kg from Chien et
  al. HotCarbon'23; others by LLMCarbon's carbon-per-area of die and DRAM, `derived_embodied_kg`: every catalog
  part's figure is this arithmetic on its stated dies, memory and host, priced or not), amortised linearly over
  the server life as LLMCarbon does (`embodied.py`: unit x CPA x exec_time / lifetime); per year of a standing fleet
  (`embodied_co2_t_per_year`: `facility`, `campus`, `plan`, `compare` and `fleet-mix` alike) it is the whole
  embodied figure over the servers' depreciation life, the same linear amortisation for a whole year of use.
"""

from __future__ import annotations

import numpy as np

from infraplan.catalog.hardware_costs import EmbodiedDerivation, EmbodiedMethod
from infraplan.cluster.cost import HOURS_PER_YEAR

G_PER_T = 1e6


def operational_co2_t(energy_mwh, grid_gco2_per_kwh):
    """Tonnes CO2e of `energy_mwh` at a grid intensity in g/kWh (array-friendly)."""
    return np.asarray(energy_mwh, dtype=np.float64) * 1e3 * np.asarray(grid_gco2_per_kwh) / G_PER_T


def model_card_energy_mwh(gpu_hours, power_w, pue):
    """The model cards' formula: GPU-hours x per-GPU peak power x PUE, in MWh."""
    return np.asarray(gpu_hours, dtype=np.float64) * np.asarray(power_w) * np.asarray(pue) / 1e6


def model_card_co2_t(gpu_hours, power_w, pue, grid_gco2_per_kwh):
    """Location-based tCO2e as the Llama model cards account it."""
    return operational_co2_t(model_card_energy_mwh(gpu_hours, power_w, pue), grid_gco2_per_kwh)


def embodied_co2_t(accelerators, kgco2e_per_accelerator: float):
    """Manufacturing emissions of a fleet of accelerators (with their server share), tonnes."""
    return np.asarray(accelerators, dtype=np.float64) * kgco2e_per_accelerator / 1e3


def amortised_embodied_co2_t(accelerators, kgco2e_per_accelerator: float, hours, life_years: float):
    """The share of embodied emissions a use of `hours` carries over a `life_years` service life."""
    share = np.asarray(hours, dtype=np.float64) / (life_years * HOURS_PER_YEAR)
    return embodied_co2_t(accelerators, kgco2e_per_accelerator) * share


def embodied_co2_t_per_year(accelerators, kgco2e_per_accelerator: float, life_years: float):
    """The embodied tCO2e a standing fleet of accelerators carries per year: its manufacturing emissions spread
    linearly over the servers' life (`amortised_embodied_co2_t` for one year of use)."""
    return embodied_co2_t(accelerators, kgco2e_per_accelerator) / life_years


def chips_and_memory_kg(part: EmbodiedDerivation, method: EmbodiedMethod) -> float:
    """LLMCarbon's embodied carbon of a part's silicon: die area (cm2) x carbon per area of its process, plus its
    memory GB x DRAM kgCO2e per GB."""
    cpa = method.carbon_per_area_kgco2e_per_cm2
    dies = sum(d.count * d.area_mm2 / 100.0 * cpa[d.process] for d in part.dies)
    return dies + part.memory_gb * method.dram_kgco2e_per_gb


def derived_embodied_kg(part: EmbodiedDerivation, method: EmbodiedMethod) -> float:
    """kgCO2e per accelerator (or CPU socket, video module) with its server share: its chips and memory plus the
    anchor's server share (A100 318 kg less its own chips and memory), that share per watt of host for a part whose
    `host_power_w` is stated (a module in a CPU host, a CPU socket)."""
    anchor = method.anchor
    share = anchor.kgco2e_per_accelerator - chips_and_memory_kg(anchor, method)
    if part.host_power_w is not None:
        share *= part.host_power_w / anchor.host_power_w
    return chips_and_memory_kg(part, method) + share
