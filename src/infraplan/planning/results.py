"""Typed results of the planning commands: `campus` (CampusPlan, FleetSitesResult), `fleet-mix`
(FleetMixResult) and the whole-run totals of `train --tokens` (TrainingRunTotals, TrainingRunResult).

Field names carry their unit as the JSON always has; campus.py, fleet_mix.py and training_run.py say what each
number models and its source.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from infraplan.facility.results import FacilityNetwork, FacilityReport
from infraplan.results import Result
from infraplan.training.results import TrainingEstimate


class TrainingRunTotals(Result):
    """Totals of a training run on `tokens`: wall clock with failures, GPU-hours, energy, CO2 and cost."""

    time_to_train_s: float = Field(description="wall clock, compute time / goodput")
    goodput: float
    mttf_s: float
    checkpoint_interval_s: float
    gpu_hours: float
    energy_mwh: float
    co2_t: float = Field(description="location-based operational tCO2e")
    cost_usd: float | None = Field(description="GPU-hours x usd_per_gpu_hour (null: no server price, cost_reason)")
    tokens: float
    compute_time_s: float
    checkpoint_bytes: float
    checkpoint_write_s: float
    restart_s: float
    failure_rate: str
    expected_interruptions: float
    facility_power_w_per_gpu: float
    pue: float
    location: str
    grid_gco2_per_kwh: float
    usd_per_gpu_hour: float | None = Field(description="the cost model's price of an owned accelerator-hour "
                                           "(null: no server price)")
    co2_embodied_t: float | None
    cost_reason: str | None = Field(None, description="why the cost fields are null (the missing server price "
                                    "and the flag that supplies it)")


class TrainingRunResult(TrainingEstimate, TrainingRunTotals):
    """`train --tokens`: the plan's estimate and the whole run's totals, as one flat object."""


class TrainingCapacity(Result):
    """Llama-3-405B-scale runs per year of a campus (or why there is no estimate)."""

    available: bool
    reason: str | None = None
    model: str | None = None
    tokens_per_run: float | None = None
    runs_per_year: float | None = None
    job_gpus: int | None = None
    concurrent_jobs: int | None = None
    days_per_run_per_job: float | None = None
    tokens_per_s_per_gpu: float | None = None
    mfu: float | None = None
    goodput: float | None = None
    job_mttf_s: float | None = None
    reference_system: str | None = None
    plan: str | None = None


class CampusPhase(Result):
    year: int
    fraction: float
    cumulative_fraction: float
    facility_power_w: float
    accelerators: int
    capex_usd: float | None
    cumulative_facility_power_w: float


class CampusPlan(Result):
    """`infraplan campus --power`: a power budget filled with one accelerator."""

    power_w: float
    accelerators: int
    racks: int
    buildings: int
    network: FacilityNetwork
    capex_usd: dict[str, float] | None = Field(description="null without a server price (facility.cost_reason)")
    opex_usd_per_year: float | None
    energy_mwh_per_year: float
    co2_t_per_year: float
    training_capacity: TrainingCapacity
    h100_equivalents: float
    phases: list[CampusPhase]
    facility: FacilityReport
    plot: str | None = None


class FleetSite(Result):
    name: str
    accelerator: str
    accelerators: int
    h100_equivalents: float
    it_power_w: float
    facility_power_w: float
    capex_usd: float | None = Field(description="null without a server price for the accelerator")
    opex_usd_per_year: float | None
    energy_mwh_per_year: float
    co2_t_per_year: float
    cooling: str
    location: str


class FleetSitesResult(Result):
    """`infraplan campus --fleet`: the sites of a fleet summed."""

    fleet: str
    source: str
    accelerators: int
    h100_equivalents: float
    it_power_w: float
    facility_power_w: float
    capex_usd: float | None = Field(description="null when a site has no server price")
    opex_usd_per_year: float | None
    energy_mwh_per_year: float
    co2_t_per_year: float
    sites: list[FleetSite]
    published_h100_equivalents: float | None = None
    h100_equivalents_vs_published: float | None = None
    h100_equivalents_vs_published_reason: str | None = Field(
        None, description="why the comparison is null (the fleet states no published H100e)")


class FleetMixTotals(Result):
    devices: int
    power_w: float
    facility_power_w: float
    capex_usd: float | None = Field(description="null when a pool used has no price (cost_reason)")
    tco_usd_per_year: float | None = Field(description="null when a pool used has no price (cost_reason)")
    energy_usd_per_year: float


class FleetMixPool(Result):
    pool: str
    device: str
    used: int
    available: int | None


class FleetMixBaseline(Result):
    assignment: list[dict[str, Any]]
    totals: FleetMixTotals
    rule: str


class FleetMixResult(Result):
    """`infraplan fleet-mix`: devices of each pool per service, minimising power or TCO (MILP)."""

    fleet: str
    objective: str
    assignment: list[dict[str, Any]] = Field(description="rows: service, pool, devices, capacity, power, TCO, ...")
    totals: FleetMixTotals
    pools: list[FleetMixPool]
    excluded: list[dict[str, str]]
    solver: dict[str, Any]
    supported_services: list[str]
    gpu_only: FleetMixBaseline | None
    saving_vs_gpu_only: dict[str, float | None] | None
    gpu_only_note: str | None = None
    cost_reason: str | None = Field(None, description="why capex and TCO are null: the pools used without a price")


# ---- `infraplan plan` and `infraplan compare` (planning/scenario.py, planning/compare.py) ------------------------


class ScenarioServiceRow(Result):
    """One service in one phase on one pool: what it needs and how much margin it has."""

    phase: str = Field(description="phase name")
    service: str = Field(description="service name")
    kind: str = Field(description="training | llm | recsys | video")
    pool: str = Field(description="pool serving it")
    devices: int = Field(description="devices assigned (count)")
    demand: float = Field(description="demand in `demand_unit` (with the policy headroom)")
    served: float = Field(description="capacity assigned, in `demand_unit`")
    demand_unit: str = Field(description="requests/s, qps, streams or runs")
    slo_headroom: float | None = Field(description="fraction below the SLO at the planned point (latency or "
                                       "deadline); null where the model gives no margin")
    detail: str = Field(description="operating point: deployment, plan, batch, encoder")


class ScenarioPoolRow(Result):
    """A pool in one phase: devices installed, their racks, cluster fabric, power and money (the one cost model)."""

    phase: str = Field(description="phase name")
    pool: str = Field(description="pool name")
    device: str = Field(description="device preset")
    site: str = Field(description="site name")
    devices: int = Field(description="devices installed, spares included (count)")
    new_devices: int = Field(description="devices delivered in this phase (count)")
    racks: int = Field(description="racks (count)")
    network_tiers: int = Field(description="tiers of the scale-out fabric built by the network builder (count)")
    switches: int = Field(description="scale-out switches (count)")
    h100_equivalents: float = Field(description="devices x dense bf16 peak / H100's (Epoch AI convention)")
    it_power_w: float = Field(description="peak IT power of the power chain, watts")
    facility_power_w: float = Field(description="IT power x PUE, watts")
    capex_usd: float | None = Field(description="servers + network + facility share, USD (null: no price, "
                                    "cost_reason)")
    tco_usd_per_year: float | None = Field(description="annualised capex + opex, USD per year (null: no price)")
    energy_mwh_per_year: float = Field(description="facility energy at the load factor, MWh per year")
    co2_t_per_year: float = Field(description="location-based operational tCO2e per year")
    spare_nodes: int = Field(0, description="spare nodes from the reliability model (count; 0 without "
                             "policy.spare_probability), sized on the devices the services use")
    spare_devices: int = Field(0, description="devices in the spare nodes (count)")
    expected_nodes_down: float = Field(0.0, description="mean nodes in repair: nodes x failures per node-hour x "
                                       "repair hours (count)")
    node_failures_per_hour: float | None = Field(None, description="failure rate of one node used, per hour")
    repair_time_s: float | None = Field(None, description="repair time used (failure to node back), seconds")
    failure_rate_source: str | None = Field(None, description="failure-rate preset used and its source")
    cost_reason: str | None = Field(None, description="why capex and TCO are null (the pool has no price)")


class ScenarioSiteRow(Result):
    """A site in one phase: facility power against its cap."""

    phase: str = Field(description="phase name")
    site: str = Field(description="site name")
    location: str = Field(description="location preset (grid carbon, electricity price)")
    power_cap_w: float = Field(description="facility power cap in this phase, watts (0 before it is online)")
    facility_power_w: float = Field(description="sum of the pools' facility power, watts")
    it_power_w: float = Field(description="sum of the pools' IT power, watts")
    utilisation: float = Field(description="facility power / cap (fraction)")


class ScenarioPhaseRow(Result):
    """Totals of one phase."""

    phase: str = Field(description="phase name")
    year: int = Field(description="calendar year")
    devices: int = Field(description="devices installed (count)")
    h100_equivalents: float = Field(description="H100-equivalents installed")
    facility_power_w: float = Field(description="facility power, watts")
    capex_usd: float | None = Field(description="cumulative capex of what is installed, USD (null: a pool has "
                                    "no price)")
    tco_usd_per_year: float | None = Field(description="TCO of the installed fleet, USD per year (null: a pool "
                                           "has no price)")
    energy_mwh_per_year: float = Field(description="energy, MWh per year")
    co2_t_per_year: float = Field(description="operational tCO2e per year")


class TornadoRow(Result):
    """One parameter swept from low to high: the TCO of the last phase at each end."""

    parameter: str = Field(description="what was varied (electricity, pue, headroom, POOL.price, ...)")
    low_value: float = Field(description="low end of the range (the parameter's own unit)")
    high_value: float = Field(description="high end of the range (the parameter's own unit)")
    tco_low_usd_per_year: float | None = Field(description="TCO per year at the low end (null: infeasible, "
                                                 "or a pool without a price)")
    tco_high_usd_per_year: float | None = Field(description="TCO per year at the high end (null: "
                                                  "infeasible, or a pool without a price)")
    swing_usd_per_year: float | None = Field(description="|high - low| TCO, USD per year")


class ScenarioPlan(Result):
    """`infraplan plan`: a scenario sized, placed, packed, powered and costed, phase by phase."""

    scenario: str = Field(description="scenario name")
    objective: str = Field(description="capex | tco | power | carbon")
    phases: list[ScenarioPhaseRow] = Field(description="totals per phase")
    services: list[ScenarioServiceRow] = Field(description="services per phase and pool")
    pools: list[ScenarioPoolRow] = Field(description="pools per phase")
    sites: list[ScenarioSiteRow] = Field(description="sites per phase")
    devices: int = Field(description="devices in the last phase (count)")
    h100_equivalents: float = Field(description="H100-equivalents in the last phase")
    facility_power_w: float = Field(description="facility power in the last phase, watts")
    capex_usd: float | None = Field(description="capex of the last phase's fleet, USD (null: cost_reason)")
    tco_usd_per_year: float | None = Field(description="TCO of the last phase's fleet, USD per year (null: "
                                           "cost_reason)")
    energy_mwh_per_year: float = Field(description="energy of the last phase, MWh per year")
    co2_t_per_year: float = Field(description="operational tCO2e per year in the last phase")
    excluded: list[str] = Field(description="service/pool pairs that cannot work, and why")
    warnings: list[str] = Field(description="what the planner noticed (sites over their cap after packing, ...)")
    solver: str = Field(description="the programme and its solver")
    seconds: float = Field(description="planning time, seconds")
    tornado: list[TornadoRow] = Field(default_factory=list, description="--vary: TCO sensitivity, largest first")
    published: dict[str, float] = Field(default_factory=dict, description="the preset's published anchors")
    cost_reason: str | None = Field(None, description="why capex and TCO are null: the pools without a price "
                                    "(objective power or carbon plans them; capex_usd per device prices them)")


class ScenarioComparison(Result):
    """`infraplan compare`: scenarios side by side, with deltas against the first."""

    scenarios: list[ScenarioPlan] = Field(description="each scenario's plan")
    metrics: list[str] = Field(description="compared fields of ScenarioPlan")
    deltas: list[dict[str, float | None]] = Field(description="per scenario: metric -> value minus the first "
                                                  "scenario's (null where either has no price)")
    risks: list[list[str]] = Field(description="per scenario: its warnings and binding choices")
