"""Cost: capex by asset class, annualised over its depreciation life, opex, $/GPU-hour, $ per million tokens.

- Capex: servers = accelerators x the catalog's server price per accelerator (hardware_costs.yaml); network =
  switch ports x price per 400G-equivalent port (network.yaml, an estimate); facility = peak IT watts x the
  build type's $/W of critical load (Cushman & Wakefield 2025; Hyperion JV).
- Annualised capex: straight-line by default (Meta depreciates servers and network over 5.5 years, facilities
  over 14 in Epoch AI's model); with `cost_of_capital` > 0 the annuity factor r / (1 - (1 + r)^-n) instead.
- Opex: electricity (facility energy x $/MWh, EIA 2023 industrial prices) + maintenance (a fraction of capex,
  0.8 %/yr derived from Epoch AI's 1-GW GB200 site: $0.3 B non-energy opex on $38 B capex).
- $/GPU-hour = (annualised capex + opex) / (accelerators x 8,760 h): the cost of an owned accelerator-hour.

Every figure can be overridden with `CostOverrides` (the CLI's `--costs FILE.yaml` and flags).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationError

from infraplan.catalog.facility_loader import load_hardware_cost, load_network_cost
from infraplan.catalog.loader import read_user_file
from infraplan.catalog.schemas import Spec
from infraplan.errors import InputError
from infraplan.facility.power_chain import ITLoad

HOURS_PER_YEAR = 8760.0
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]


class CostOverrides(Spec):
    """User overrides for any catalog price, intensity, life or factor; None keeps the catalog value."""

    electricity_usd_per_mwh: NonNegative | None = None
    grid_gco2_per_kwh: NonNegative | None = None
    pue: Annotated[float, Field(ge=1.0)] | None = None
    wue_l_per_kwh: NonNegative | None = None
    server_usd_per_accelerator: NonNegative | None = None
    switch_port_usd: NonNegative | None = None
    facility_usd_per_w: NonNegative | None = None
    server_life_years: Positive | None = None
    network_life_years: Positive | None = None
    facility_life_years: Positive | None = None
    maintenance_fraction_of_capex_per_year: NonNegative | None = None
    load_factor: Annotated[float, Field(gt=0, le=1)] | None = None
    cost_of_capital: Annotated[float, Field(ge=0, lt=1)] | None = None
    embodied_kgco2e_per_accelerator: NonNegative | None = None

    def merged(self, **flags: Any) -> CostOverrides:
        """These overrides with non-None `flags` on top (CLI flags win over the file)."""
        data = self.model_dump()
        data.update({k: v for k, v in flags.items() if v is not None})
        return CostOverrides(**data)


def load_cost_overrides(path: str | None) -> CostOverrides:
    """Read a YAML file of overrides (any subset of CostOverrides' fields, plus an optional `source`)."""
    if path is None:
        return CostOverrides()
    data = read_user_file(path)
    if not isinstance(data, dict):
        raise InputError(f"cost file {path!r} must hold a mapping")
    data.pop("source", None)
    try:
        return CostOverrides(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"invalid cost file {path!r}: {'.'.join(map(str, err['loc']))}: {err['msg']}") from None


def server_price_per_accelerator(accelerator: str, overrides: CostOverrides) -> float:
    if overrides.server_usd_per_accelerator is not None:
        return overrides.server_usd_per_accelerator
    cost = load_hardware_cost(accelerator)
    if cost is None:
        raise InputError(f"no server price for {accelerator} in the catalog (hardware_costs.yaml); pass "
                         "--server-price USD (per accelerator) or a --costs file")
    return cost.server_usd_per_accelerator


def capex_usd(load: ITLoad, accelerator: str, facility_usd_per_w: float, overrides: CostOverrides) -> dict[str, float]:
    """Capital cost by asset class: servers, scale-out network, facility (shell, power and cooling plant)."""
    port_usd = overrides.switch_port_usd
    if port_usd is None:
        port_usd = load_network_cost().switch_port_usd
    return {
        "servers": load.accelerators * server_price_per_accelerator(accelerator, overrides),
        "network": load.switch_ports * port_usd * load.port_scale,
        "facility": load.it_w * facility_usd_per_w,
    }


def annuity_factor(rate: float, years: float) -> float:
    """Yearly charge per $ of capex: 1/years straight-line at rate 0, else r / (1 - (1 + r)^-years)."""
    if years <= 0:
        raise InputError(f"depreciation life must be positive, got {years:g} years")
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def annual_costs(capex: dict[str, float], lives_years: dict[str, float], energy_mwh_per_year: float,
                 electricity_usd_per_mwh: float, maintenance_fraction: float, rate: float) -> dict[str, Any]:
    """Annualised capex per asset class, opex (electricity, maintenance) and their total (TCO per year)."""
    annualised = {k: capex[k] * annuity_factor(rate, lives_years[k]) for k in capex}
    opex = {"electricity": energy_mwh_per_year * electricity_usd_per_mwh,
            "maintenance": maintenance_fraction * sum(capex.values())}
    return {"annualized_capex_usd_per_year": annualised, "opex_breakdown_usd_per_year": opex,
            "opex_usd_per_year": sum(opex.values()),
            "tco_usd_per_year": sum(annualised.values()) + sum(opex.values())}


def usd_per_gpu_hour(tco_usd_per_year: float, accelerators: int) -> float:
    return tco_usd_per_year / (accelerators * HOURS_PER_YEAR)


def usd_per_million_tokens(usd_per_accelerator_hour: float, tokens_per_s_per_accelerator: float) -> float:
    """Serving or training cost per million tokens at a given per-accelerator throughput."""
    if tokens_per_s_per_accelerator <= 0:
        raise InputError("throughput must be positive to price tokens")
    return usd_per_accelerator_hour / (tokens_per_s_per_accelerator * 3600.0) * 1e6
