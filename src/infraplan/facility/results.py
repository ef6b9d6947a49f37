"""Typed results of the facility commands: `facility` (FacilityReport) and `reliability` (ReliabilityReport).

Field names carry their unit as the JSON always has (`_w`, `_usd`, `_per_year`, `_s`, `_t`); see facility.py,
cluster/cost.py and reliability.py for what each number models and its source.
"""

from __future__ import annotations

from pydantic import Field

from infraplan.results import Result


class FacilityNetwork(Result):
    """The scale-out fabric counted by the topology builder, priced per switch port."""

    switch_ports: int
    switches: int
    tiers: int
    model: str = Field(description="where the switch counts come from")
    pricing: str = Field(description="where power and price per port come from")
    fabric_accelerators: int = Field(description="accelerators the fabric is built for (whole domains)")


class FacilityAssumptions(Result):
    """The site figures the report used (catalog defaults or overrides)."""

    load_factor: float
    wue_l_per_kwh: float
    electricity_usd_per_mwh: float
    grid_gco2_per_kwh: float
    facility_usd_per_w: float
    lives_years: dict[str, float]
    maintenance_fraction_of_capex_per_year: float
    cost_of_capital: float


class FacilityReport(Result):
    """`infraplan facility`: power, racks, floor, water, capex, opex, $/GPU-hour, energy and carbon of a site."""

    it_power_w: float
    facility_power_w: float
    pue: float
    racks: int
    rack_power_w: float
    floor_area_m2: float
    water_m3_per_year: float
    capex_usd: dict[str, float] | None = Field(description="servers, network, facility; null without a server "
                                               "price (cost_reason)")
    opex_usd_per_year: float | None
    usd_per_gpu_hour: float | None = Field(description="the cost model's price of an owned accelerator-hour")
    cost_reason: str | None = Field(None, description="why the money fields are null (no server price)")
    energy_mwh_per_year: float
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year")
    accelerator: str
    system: str | None = Field(description="catalog system, or None for a plain accelerator count")
    accelerators: int
    servers: int
    servers_per_rack: int
    accelerators_per_rack: int
    cooling: str
    location: str
    climate: str
    build_type: str
    power_breakdown_w: dict[str, float]
    network: FacilityNetwork
    capex_total_usd: float | None
    annualized_capex_usd_per_year: dict[str, float] | None
    opex_breakdown_usd_per_year: dict[str, float] = Field(description="electricity only without a server price")
    tco_usd_per_year: float | None
    embodied_co2_t: float | None
    embodied_co2_t_reason: str | None = Field(None, description="why embodied carbon is null (no catalog figure)")
    embodied_co2_t_per_year: float | None
    assumptions: FacilityAssumptions
    plot: str | None = Field(None, description="HTML file the charts were written to (--plot)")


class ReliabilityReport(Result):
    """`infraplan reliability`: interruptions, job MTTF, checkpoint interval and goodput of a training job."""

    expected_interruptions: float
    mttf_s: float
    checkpoint_interval_s: float
    goodput: float
    expected_unexpected_interruptions: float
    expected_planned_interruptions: float
    interruptions_by_component: dict[str, float]
    system: str
    accelerator: str
    gpus: int
    days: float
    model: str | None
    failure_rate: str
    failures_per_1000_node_days: float
    checkpoint_bytes: float
    checkpoint_write_s: float
    restart_s: float
    young_interval_s: float
